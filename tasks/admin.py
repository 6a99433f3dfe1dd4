from django.contrib import admin

from departments.admin import ReadOnlyAdmin
from departments.resources import AdminImportExportMixin

from .models import (
    Contribution,
    ContributionFile,
    ContributionVersion,
    Evidence,
    ProgressReport,
    Reminder,
    ReportVersion,
)
from .resources import ProgressReportResource


class VersionInline(admin.TabularInline):
    model = ReportVersion
    fields = ["version", "event", "channel", "by", "at", "state", "status", "percent", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    fields = ["name", "size", "uploaded_by", "uploaded_at", "version", "removed_in"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(AdminImportExportMixin, ReadOnlyAdmin):
    resource_classes = [ProgressReportResource]
    list_display = [
        "milestone",
        "quarter",
        "state",
        "status",
        "percent",
        "updated_by",
        "updated_at",
    ]
    list_filter = [
        "quarter",
        "state",
        "status",
        "milestone__measure__work_area__plan",
        "milestone__measure__work_area",
        "milestone__measure__responsible_offices",
    ]
    search_fields = ["done_text", "problems_text", "milestone__text", "milestone__measure__title"]
    list_select_related = ["milestone__measure", "updated_by"]
    inlines = [VersionInline, EvidenceInline]


class ContributionVersionInline(admin.TabularInline):
    model = ContributionVersion
    fields = ["version", "channel", "by", "at", "text", "figures", "removed_file"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ContributionFileInline(admin.TabularInline):
    model = ContributionFile
    fields = ["name", "size", "uploaded_by", "uploaded_at", "version", "removed_in"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contribution)
class ContributionAdmin(ReadOnlyAdmin):
    """A cooperating unit's contributions, each with every version it saved and its files:
    read only (they change through tasks.services: save_contribution, remove_contribution_file)."""

    list_display = ["unit", "milestone", "quarter", "version", "submitted_by", "updated_at"]
    list_filter = ["quarter", "unit", "milestone__measure__work_area__plan"]
    search_fields = ["text", "figures", "milestone__text", "milestone__measure__title"]
    list_select_related = ["unit", "milestone__measure", "submitted_by"]
    inlines = [ContributionVersionInline, ContributionFileInline]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["user", "sent_on"]
    list_filter = ["sent_on"]
    search_fields = ["user__username", "body"]
