from django.contrib.auth.models import Group, Permission

from . import roles

ADMIN_APPS = ("departments", "plan", "tasks", "supervision", "auth", "axes", "admin")


def grant_admin_permissions(sender, **kwargs) -> None:
    """The 管理员 group holds every permission of Plan Tracker's models (and users, groups
    and login lockouts), so an admin need not be a superuser. Run after each migrate, when
    Django has created the permissions."""
    group, _created = Group.objects.get_or_create(name=roles.ADMIN)
    group.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
