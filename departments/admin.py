import re

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import roles
from .models import Department
from .resources import AdminImportExportMixin, DepartmentResource


@admin.register(Department)
class DepartmentAdmin(AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [DepartmentResource]
    list_display = ["name", "kind", "generic", "order", "member_count"]
    list_filter = ["kind", "generic"]
    search_fields = ["name", "aliases"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description=_("人员数"), ordering="member_total")
    def member_count(self, obj: Department) -> int:
        return obj.member_total


HUGE_NUMBER = re.compile(r"\d{19}")
DATE_PART = re.compile(r"[0-9]{1,4}")


class MembershipInline(admin.TabularInline):
    model = Department.members.through
    extra = 1
    verbose_name = _("所属部门")
    verbose_name_plural = _("所属部门")
    autocomplete_fields = ["department"]


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


def is_privileged(user) -> bool:
    """An account that opens the admin or holds the admin role: only a superuser manages it."""
    return user.is_superuser or user.is_staff or user.groups.filter(name=roles.ADMIN).exists()


@admin.register(User)
class PlanTrackerUserAdmin(UserAdmin):
    """Users, for the 管理员 group too, except what would let an admin raise himself: only
    a superuser grants superuser or staff status, individual permissions or the 管理员
    role, edits or deletes a superuser, or sets another admin's password."""

    inlines = [MembershipInline]
    list_filter = [*UserAdmin.list_filter, "departments"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff", "user_permissions"]
            if obj is not None and is_privileged(obj):
                fields.append("groups")
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.exclude(name=roles.ADMIN)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and is_privileged(obj) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        """The bulk delete action: a non-superuser's selection never deletes an admin."""
        if not request.user.is_superuser:
            kept = [user for user in queryset if is_privileged(user)]
            if kept:
                messages.warning(
                    request,
                    _("只有超级用户可以删除管理员账号,以下账号未删除:%(names)s")
                    % {"names": "、".join(user.get_username() for user in kept)},
                )
            queryset = queryset.exclude(pk__in=[user.pk for user in kept])
        super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if (
            user is not None
            and not request.user.is_superuser
            and user.pk != request.user.pk
            and is_privileged(user)
        ):
            raise PermissionDenied(_("只有超级用户可以设置其他管理员的密码。"))
        return super().user_change_password(request, id, form_url)


@admin.register(Group)
class PlanTrackerGroupAdmin(GroupAdmin):
    """Roles (the groups are the roles, by name): a non-superuser admin sees them but does
    not add, rename, delete or re-permission them; he gives people roles on the user form."""

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


admin.site.site_header = _("推进计划跟踪 · 系统管理")
admin.site.site_title = _("推进计划跟踪")
admin.site.index_title = _("系统管理")


class BoundedChangeList(ChangeList):
    """A changelist that takes any query string: a filter value no database column holds
    (a number of 19 digits or more, a year outside 1000–9998, ?action_time__year=+1) is a
    bad filter, which the admin answers with the list unfiltered and ?e=1, never a 500."""

    def get_filters(self, request):
        hierarchy = {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        for key, values in self.get_filters_params().items():
            for value in values if isinstance(values, list) else [values]:
                if HUGE_NUMBER.search(value):
                    raise IncorrectLookupParameters(key)
                if key in hierarchy and not DATE_PART.fullmatch(value):
                    raise IncorrectLookupParameters(key)
                if key.endswith("__year") and not (
                    DATE_PART.fullmatch(value) and 1000 <= int(value) <= 9998
                ):
                    raise IncorrectLookupParameters(key)
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class BoundedFilters:
    """Every admin list uses BoundedChangeList (departments.apps puts it on each)."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList


def bound_every_changelist(site) -> None:
    """Gives every registered admin, ours and django-axes', BoundedChangeList."""
    for model, model_admin in list(site._registry.items()):
        if not isinstance(model_admin, BoundedFilters):
            base = type(model_admin)
            site.unregister(model)
            site.register(model, type(base.__name__, (BoundedFilters, base), {}))


@admin.register(LogEntry)
class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their services (with history) or never: the admin
    shows them, nobody adds, edits or deletes them there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditLogAdmin(ReadOnlyAdmin):
    """Who changed what in the admin, and when (imports included); read only. Reports keep
    their own history (ReportVersion)."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag", "change"]
    list_filter = ["action_flag", "content_type", "user"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]

    @admin.display(description=_("变更内容"))
    def change(self, entry: LogEntry) -> str:
        return entry.get_change_message()
