"""Leaders' dashboards: read-only pages for leaders, reviewers and admins."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from departments.models import Department
from plan.layout import export_plan
from plan.models import QUARTER_CHOICES, Measure, Plan
from plantracker import clock
from spreadsheets import writing as xlsx

from . import charts, dashboard, dashboard_xlsx, services
from .models import ProgressReport


class DashboardFilters(forms.Form):
    """The dashboard's filters, all in the query string so a URL can be shared. Values that
    are not valid are ignored rather than refused."""

    # The plan is picked before the form (Plan.objects.picked): here only its label, no query.
    plan = forms.IntegerField(required=False, label=gettext_lazy("计划"))
    quarter = forms.TypedChoiceField(
        choices=QUARTER_CHOICES, coerce=int, required=False, label=gettext_lazy("季度")
    )
    area = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("工作领域"))
    office = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("责任处室"))
    # A cooperating unit (the units' table links here); no choices: a number, no query.
    unit = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("全部")), *dashboard.STATUS_FILTERS.items()],
        required=False,
        label=gettext_lazy("状态"),
    )

    def __init__(self, data, plan: Plan):
        super().__init__(data)
        self.fields["area"].choices = [("", _("全部"))] + [
            (area.pk, str(area)) for area in plan.work_areas.all()
        ]
        self.fields["office"].choices = [("", _("全部"))] + [
            (office.pk, office.name)
            for office in Department.objects.filter(
                kind=Department.Kind.OFFICE, responsible_measures__work_area__plan=plan
            ).distinct()
        ]

    def value(self, name):
        if name in self.errors:
            return None
        return self.cleaned_data.get(name) or None


def _filters(request: HttpRequest) -> tuple[Plan, int, DashboardFilters]:
    services.check_dashboard(request.user)
    plan = Plan.objects.picked(request.GET.get("plan"), clock.today())
    if plan is None:
        raise PermissionDenied(_("系统中还没有推进计划。"))
    form = DashboardFilters(request.GET, plan)
    form.is_valid()
    quarter = form.value("quarter") or plan.default_quarter(clock.today())
    return plan, quarter, form


def _overview(request):
    plan, quarter, form = _filters(request)
    data = dashboard.overview(
        plan,
        quarter,
        area=form.value("area"),
        office=form.value("office"),
        unit=form.value("unit"),
        status=form.value("status"),
    )
    return plan, quarter, form, data


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    plan, quarter, form, data = _overview(request)
    today = clock.today()
    return render(
        request,
        "tasks/dashboard.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "quarter": quarter,
            "quarter_label": dashboard.quarter_label(quarter),
            "form": form,
            "data": data,
            "charts": {
                "area": charts.bars(data.by_area),
                "office": charts.bars(data.by_office),
                "trend": charts.columns(data.trend),
            },
            "filters": {
                "plan": plan.pk,
                "quarter": quarter,
                "area": form.value("area"),
                "office": form.value("office"),
                "unit": form.value("unit"),
            },
            "partition": [
                (key, label, getattr(data.total, key), dashboard.FIGURE_HELP[key])
                for key, label in dashboard.PARTITION.items()
            ],
            "flags": [
                (key, label, getattr(data.total, key), dashboard.FIGURE_HELP[key])
                for key, label in dashboard.FLAGS.items()
            ],
            "help": dashboard.FIGURE_HELP,
            "statuses": dashboard.STATUS_FILTERS,
            "status": form.value("status"),
            "status_label": dashboard.STATUS_FILTERS.get(form.value("status") or ""),
            "units": dashboard.unit_contributions(plan, quarter, today),
            "due_date": plan.report_due(quarter),
            "demo_date": clock.demo_date(),
        },
    )


@require_GET
def overview_xlsx(request: HttpRequest) -> HttpResponse:
    plan, quarter, form, data = _overview(request)
    return xlsx.response(
        dashboard_xlsx.workbook(data, clock.today()), f"dashboard-{plan.year}-q{quarter}.xlsx"
    )


@require_GET
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    services.check_dashboard(request.user)
    measure = get_object_or_404(
        Measure.objects.select_related("work_area__plan", "executing_department").prefetch_related(
            "actions", "responsible_offices"
        ),
        pk=pk,
    )
    plan = measure.work_area.plan
    form = DashboardFilters(request.GET, plan)
    form.is_valid()
    quarter = form.value("quarter") or plan.default_quarter(clock.today())
    return render(
        request,
        "tasks/dashboard_measure.html",
        {
            "measure": measure,
            "plan": plan,
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "quarter_label": dashboard.quarter_label(quarter),
            "figures": dashboard.measure_grid(measure, quarter, clock.today()),
        },
    )


@require_GET
def changes(request: HttpRequest) -> HttpResponse:
    """What changed between two reporting quarters (?from=&to=), for leaders."""
    plan, quarter, form = _filters(request)
    later = _quarter_param(request, "to", quarter)
    earlier = _quarter_param(request, "from", max(later - 1, 1))
    earlier = min(earlier, later)
    return render(
        request,
        "tasks/dashboard_changes.html",
        {
            "plan": plan,
            "earlier": earlier,
            "later": later,
            "earlier_label": dashboard.quarter_label(earlier),
            "later_label": dashboard.quarter_label(later),
            "quarters": QUARTER_CHOICES,
            "changes": dashboard.changes(plan, earlier, later, clock.today()),
        },
    )


def _quarter_param(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "")
    return int(value) if value in ("1", "2", "3", "4") else default


@require_GET
def plan_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan in its own table layout, for print: the plan alone, or with one quarter's
    approved progress (?quarter=1…4). For leaders, reviewers and admins."""
    services.check_dashboard(request.user)
    plan = get_object_or_404(Plan.objects.select_related("issuer"), pk=pk)
    quarter = _quarter_param(request, "quarter", 0) or None
    if quarter is None:
        return xlsx.response(export_plan(plan), f"plan-{plan.year}.xlsx")
    approved = ProgressReport.objects.approved_by_cell(plan)
    return xlsx.response(export_plan(plan, approved, quarter), f"plan-{plan.year}-q{quarter}.xlsx")


@require_GET
def office_summary(request: HttpRequest, plan_id: int, office_id: int) -> HttpResponse:
    """One office's quarter on one printable page: its figures, and each of its milestones
    due so far with its light, progress and this quarter's report."""
    services.check_dashboard(request.user)
    plan = get_object_or_404(Plan, pk=plan_id)
    office = get_object_or_404(Department, pk=office_id, kind=Department.Kind.OFFICE)
    form = DashboardFilters(request.GET, plan)
    form.is_valid()
    today = clock.today()
    quarter = form.value("quarter") or plan.default_quarter(today)
    data = dashboard.overview(plan, quarter, today=today, office=office.pk, status="due")
    timeliness = next((t for t in data.timeliness if t.office.pk == office.pk), None)
    return render(
        request,
        "tasks/dashboard_office.html",
        {
            "plan": plan,
            "office": office,
            "quarter": quarter,
            "quarter_label": dashboard.quarter_label(quarter),
            "quarters": QUARTER_CHOICES,
            "data": data,
            "timeliness": timeliness,
            "partition": [
                (key, label, getattr(data.total, key)) for key, label in dashboard.PARTITION.items()
            ],
            "flags": [
                (key, label, getattr(data.total, key)) for key, label in dashboard.FLAGS.items()
            ],
            "help": dashboard.FIGURE_HELP,
            "filters": {"plan": plan.pk, "quarter": quarter, "office": office.pk},
            "due_date": plan.report_due(quarter),
            "today": today,
        },
    )
