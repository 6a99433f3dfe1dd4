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

from . import charts, dashboard, services
from .models import ProgressReport


class DashboardFilters(forms.Form):
    """The dashboard's filters, all in the query string so a URL can be shared. Values that
    are not valid are ignored rather than refused."""

    plan = forms.ModelChoiceField(Plan.objects.all(), required=False, label=gettext_lazy("计划"))
    quarter = forms.TypedChoiceField(
        choices=QUARTER_CHOICES, coerce=int, required=False, label=gettext_lazy("季度")
    )
    area = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("工作领域"))
    office = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("责任处室"))
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
    plan = Plan.objects.picked(request.GET.get("plan"))
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
        status=form.value("status"),
    )
    return plan, quarter, form, data


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    plan, quarter, form, data = _overview(request)
    query = request.GET.copy()
    query.pop("status", None)
    return render(
        request,
        "tasks/dashboard.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(),
            "quarter": quarter,
            "form": form,
            "data": data,
            "charts": {
                "area": charts.bars(data.by_area),
                "office": charts.bars(data.by_office),
                "trend": charts.columns(data.trend),
            },
            "base_query": query.urlencode(),
            "statuses": dashboard.STATUS_FILTERS,
            "status": form.value("status"),
            "status_label": dashboard.STATUS_FILTERS.get(form.value("status") or ""),
            "units": dashboard.unit_contributions(plan, quarter, clock.today()),
            "due_date": plan.report_due(quarter),
        },
    )


@require_GET
def overview_xlsx(request: HttpRequest) -> HttpResponse:
    plan, quarter, form, data = _overview(request)
    book = xlsx.new_workbook()
    total = data.total
    xlsx.add_table(
        book,
        _("总览"),
        [_("指标"), _("数值")],
        [
            (_("计划"), plan.title),
            (_("填报季度"), dict(QUARTER_CHOICES)[quarter]),
            (_("应完成节点"), total.due),
            (_("已完成"), total.done),
            (_("进行中"), total.in_progress),
            (_("滞后"), total.behind),
            (_("已逾期"), total.overdue),
            (_("未填报"), total.not_reported),
            (_("总体完成率(%)"), total.completion),
            (_("序时进度(%)"), total.expected),
        ],
        widths=[24, 50],
    )
    bucket_headers = [
        _("名称"),
        _("应完成"),
        _("已完成"),
        _("完成率(%)"),
        _("序时进度(%)"),
        _("预警"),
        _("关注"),
        _("正常"),
        _("未填报"),
    ]

    def bucket_rows(buckets):
        return [
            (
                b.label,
                b.due,
                b.done,
                b.completion,
                b.expected,
                b.red,
                b.yellow,
                b.green,
                b.not_reported,
            )
            for b in buckets
        ]

    widths = [30, 10, 10, 12, 12, 8, 8, 8, 10]
    xlsx.add_table(book, _("按工作领域"), bucket_headers, bucket_rows(data.by_area), widths)
    xlsx.add_table(book, _("按责任处室"), bucket_headers, bucket_rows(data.by_office), widths)
    xlsx.add_table(book, _("季度趋势"), bucket_headers, bucket_rows(data.trend), widths)
    xlsx.add_table(
        book,
        _("填报及时性"),
        [_("责任处室"), _("本季度未填报"), _("逾期天数"), _("应报"), _("按时"), _("按时率(%)")],
        [
            (t.office.name, t.missing, t.days_late, t.required, t.on_time, t.rate)
            for t in data.timeliness
        ],
        [24, 14, 10, 8, 8, 10],
    )
    xlsx.add_table(
        book,
        _("进度节点"),
        [
            _("工作领域"),
            _("工作措施"),
            _("时间"),
            _("进度安排"),
            _("责任处室"),
            _("信号"),
            _("原因"),
            _("序时进度(%)"),
            _("完成(%)"),
            _("进展状态"),
        ],
        [
            (
                str(f.milestone.measure.work_area),
                f"{f.milestone.measure.number}.{f.milestone.measure.title}",
                f.milestone.label,
                f.milestone.text,
                "、".join(o.name for o in f.offices),
                f.light_label,
                ";".join(f.reasons),
                f.expected,
                f.percent if f.due else None,
                f.approved.get_status_display() if f.approved else "",
            )
            for f in data.figures
        ],
        [20, 28, 12, 50, 16, 8, 30, 10, 10, 10],
    )
    if quarter > 1:
        xlsx.add_table(
            book,
            _("较上季度变化"),
            [
                _("变化"),
                _("工作措施"),
                _("时间"),
                _("责任处室"),
                _("上季度状态"),
                _("上季度完成(%)"),
                _("本季度状态"),
                _("本季度完成(%)"),
            ],
            change_rows(dashboard.changes_among(data.figures, plan, quarter - 1, clock.today())),
            [14, 30, 12, 16, 12, 12, 12, 12],
        )
    return xlsx.response(book, f"dashboard-{plan.year}-q{quarter}.xlsx")


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
            "quarters": QUARTER_CHOICES,
            "changes": dashboard.changes(plan, earlier, later, clock.today()),
        },
    )


def _quarter_param(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "")
    return int(value) if value in ("1", "2", "3", "4") else default


def change_rows(items):
    return [
        (
            "、".join(c.labels),
            f"{c.after.milestone.measure.number}.{c.after.milestone.measure.title}",
            c.after.milestone.label,
            "、".join(o.name for o in c.after.offices),
            c.before.approved.get_status_display() if c.before.approved else "",
            c.before.percent,
            c.after.approved.get_status_display() if c.after.approved else "",
            c.after.percent,
        )
        for c in items
    ]


@require_GET
def plan_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan in its own table layout with approved progress: for leaders, reviewers and
    admins."""
    services.check_dashboard(request.user)
    plan = get_object_or_404(Plan.objects.select_related("issuer"), pk=pk)
    approved = ProgressReport.objects.approved_by_cell(plan)
    return xlsx.response(export_plan(plan, approved), f"plan-{plan.year}.xlsx")
