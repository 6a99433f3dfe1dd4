from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepartmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "departments"
    verbose_name = _("部门")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .signals import grant_admin_permissions

        # After every app's migration: permissions are created app by app.
        post_migrate.connect(grant_admin_permissions, dispatch_uid="grant_admin_permissions")

        # Every admin list, whichever app registered it (the admin's autodiscover ran
        # before this app's ready), refuses filter values no column holds (no 500s).
        from django.contrib import admin

        from .admin import bound_every_changelist

        bound_every_changelist(admin.site)
