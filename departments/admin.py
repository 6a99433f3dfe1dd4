from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

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


class MembershipInline(admin.TabularInline):
    model = Department.members.through
    extra = 1
    verbose_name = _("所属部门")
    verbose_name_plural = _("所属部门")
    autocomplete_fields = ["department"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PlanTrackerUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_filter = [*UserAdmin.list_filter, "departments"]


admin.site.site_header = _("推进计划跟踪 · 系统管理")
admin.site.site_title = _("推进计划跟踪")
admin.site.index_title = _("系统管理")


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
