from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from departments.admin_a11y import LabelledListEditableMixin
from departments.resources import AdminImportExportMixin
from plan.models import QUARTER_CHOICES

from .models import Action, Evidence, Measure, Milestone, ProgressReport, Reminder, ReportVersion
from .resources import ActionResource, MeasureResource, MilestoneResource, ProgressReportResource


class QuarterFilter(admin.SimpleListFilter):
    """Milestones due in a quarter, spans included; or those not yet scheduled."""

    title = _("季度")
    parameter_name = "quarter"

    def lookups(self, request, model_admin):
        return [*((str(q), label) for q, label in QUARTER_CHOICES), ("none", _("未排期"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.unscheduled()
        if self.value() in {"1", "2", "3", "4"}:
            return queryset.scheduled_in(int(self.value()))
        return queryset


class ActionInline(admin.TabularInline):
    model = Action
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Measure)
class MeasureAdmin(AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [MeasureResource]
    list_display = ["number", "title", "work_area", "executing_department", "offices"]
    list_display_links = ["number", "title"]
    list_filter = ["work_area__plan", "work_area", "responsible_offices", "cooperating_units"]
    search_fields = ["title", "goal", "actions__text"]
    filter_horizontal = ["cooperating_units", "responsible_offices"]
    inlines = [ActionInline, MilestoneInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("work_area", "executing_department")
            .prefetch_related("responsible_offices")
        )

    @admin.display(description=_("责任处室"))
    def offices(self, obj: Measure) -> str:
        return "、".join(office.name for office in obj.responsible_offices.all())


@admin.register(Action)
class ActionAdmin(AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [ActionResource]
    list_display = ["measure", "number", "text"]
    list_filter = ["measure__work_area__plan", "measure__work_area", "measure__responsible_offices"]
    search_fields = ["text", "measure__title"]
    list_select_related = ["measure"]


@admin.register(Milestone)
class MilestoneAdmin(LabelledListEditableMixin, AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [MilestoneResource]
    list_display = ["measure", "label", "first_quarter", "last_quarter", "text"]
    list_editable = ["first_quarter", "last_quarter"]
    list_filter = [
        QuarterFilter,
        "measure__work_area__plan",
        "measure__work_area",
        "measure__responsible_offices",
    ]
    search_fields = ["label", "text", "measure__title"]
    list_select_related = ["measure"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reports change through the workspace (tasks.services) or the admin's Excel import,
    both of which keep history; the admin's forms only show them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = ReportVersion
    fields = ["version", "event", "by", "at", "state", "status", "percent", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    fields = ["name", "size", "uploaded_by", "uploaded_at", "version"]
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


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["user", "sent_on"]
    list_filter = ["sent_on"]
    search_fields = ["user__username", "body"]
