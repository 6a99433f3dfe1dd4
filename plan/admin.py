from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.admin_a11y import LabelledListEditableMixin
from departments.resources import AdminImportExportMixin

from . import services
from .models import QUARTER_CHOICES, Action, Measure, Milestone, Plan, WorkArea
from .resources import ActionResource, MeasureResource, MilestoneResource


class WorkAreaInline(admin.TabularInline):
    model = WorkArea
    extra = 0


class CopyPlanForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("新年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=gettext_lazy("新计划标题"), max_length=200)

    def clean(self):
        data = super().clean()
        if Plan.objects.filter(year=data.get("year"), title=data.get("title")).exists():
            raise forms.ValidationError(_("该年度已有同名计划。"))
        return data


@admin.register(Plan)
class PlanAdmin(LabelledListEditableMixin, admin.ModelAdmin):
    list_display = ["title", "year", "issuer", "issued_on", "published"]
    list_editable = ["published"]
    list_filter = ["year", "published"]
    search_fields = ["title"]
    inlines = [WorkAreaInline]
    actions = ["copy_to_new_year"]

    @admin.action(description=gettext_lazy("复制到新年度(结构,不含进展)"))
    def copy_to_new_year(self, request, queryset):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个计划进行复制。"), messages.ERROR)
            return None
        plan = queryset.get()
        if "year" in request.POST:
            form = CopyPlanForm(request.POST)
            if form.is_valid():
                new = services.copy_plan(plan, **form.cleaned_data)
                self.message_user(
                    request, _("已复制为“%(title)s”。") % {"title": new.title}, messages.SUCCESS
                )
                return redirect("admin:plan_plan_change", new.pk)
        else:
            year = plan.year + 1
            form = CopyPlanForm(
                initial={"year": year, "title": plan.title.replace(str(plan.year), str(year))}
            )
        return TemplateResponse(
            request,
            "admin/plan/copy_plan.html",
            {
                **self.admin_site.each_context(request),
                "plan": plan,
                "form": form,
                "opts": self.model._meta,
                "title": _("复制计划"),
            },
        )


@admin.register(WorkArea)
class WorkAreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "order"]
    list_filter = ["plan"]
    search_fields = ["title"]


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
