"""Leaders' figures: where a plan stands at a reporting quarter.

Everything is computed from three queries (milestones with their measures, the offices
responsible for them, and their reports up to the quarter), so a dashboard costs the same
number of queries whatever the size of the plan or of the database. Leaders' figures count
approved reports only; a returned or submitted report changes a light, never a figure.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from plan.models import Measure, Milestone, Plan

from .models import Contribution, ProgressReport

Status = ProgressReport.Status
State = ProgressReport.State

LIGHTS = {
    "green": _("正常"),
    "yellow": _("关注"),
    "red": _("预警"),
    "not_due": _("未到期"),
    "unscheduled": _("未排期"),
}
STATUS_FILTERS = {
    "due": _("应完成"),
    "done": _("已完成"),
    "in_progress": _("进行中"),
    "behind": _("滞后"),
    "overdue": _("已逾期"),
    "not_reported": _("未填报"),
    "red": _("预警"),
    "yellow": _("关注"),
    "green": _("正常"),
    "unscheduled": _("未排期"),
}


def expected_percent(milestone: Milestone, quarter: int) -> int | None:
    """序时进度: the share of a milestone that should be done by the end of `quarter`,
    spread evenly over the quarters it spans. None for an unscheduled milestone."""
    if not milestone.scheduled:
        return None
    if quarter < milestone.first_quarter:
        return 0
    if quarter >= milestone.last_quarter:
        return 100
    span = milestone.last_quarter - milestone.first_quarter + 1
    return round(100 * (quarter - milestone.first_quarter + 1) / span)


@dataclass
class MilestoneFigure:
    """One milestone at the reporting quarter, with its light and the reasons for it."""

    milestone: Milestone
    offices: list[Department]
    expected: int | None
    approved: ProgressReport | None  # the latest approved report up to the quarter
    current: ProgressReport | None  # this quarter's report, in whatever state
    light: str = "green"
    overdue: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def due(self) -> bool:
        """Due so far: scheduled and begun by the reporting quarter."""
        return self.light not in ("not_due", "unscheduled")

    @property
    def percent(self) -> int:
        return self.approved.percent if self.approved else 0

    @property
    def status(self) -> str | None:
        return self.approved.status if self.approved else None

    @property
    def done(self) -> bool:
        return self.status == Status.DONE

    @property
    def reported(self) -> bool:
        """This quarter's report has reached the reviewer (submitted or approved)."""
        return self.current is not None and self.current.state in (State.SUBMITTED, State.APPROVED)

    @property
    def latest(self) -> ProgressReport | None:
        return self.current or self.approved

    @property
    def light_label(self) -> str:
        return LIGHTS[self.light]

    def matches(self, status: str, quarter: int) -> bool:
        if status in LIGHTS:
            return self.light == status
        if status == "due":
            return self.due
        if status == "overdue":
            return self.overdue
        if status == "not_reported":
            return self.active_in(quarter) and not self.reported
        if status == "in_progress":  # as Bucket.in_progress counts them
            return self.due and self.status in (Status.IN_PROGRESS, Status.NOT_STARTED)
        return self.due and self.status == status

    def active_in(self, quarter: int) -> bool:
        return quarter in self.milestone.quarters


def judge(figure: MilestoneFigure, plan: Plan, quarter: int, today: datetime.date) -> None:
    """Sets the light: red (overdue, or 滞后), yellow (due this quarter and not done, or
    returned, or below 序时进度), green (done, or on schedule)."""
    milestone = figure.milestone
    if not milestone.scheduled:
        figure.light = "unscheduled"
        return
    if milestone.first_quarter > quarter:
        figure.light = "not_due"
        return
    if figure.done:
        figure.light = "green"
        figure.reasons.append(str(_("已完成")))
        return
    last_over = milestone.last_quarter < quarter or (
        milestone.last_quarter == quarter and today > plan.quarter_end(quarter)
    )
    figure.overdue = last_over
    if last_over:
        figure.reasons.append(str(_("已过最后期限仍未完成")))
    if figure.status == Status.BEHIND:
        figure.reasons.append(str(_("处室报告滞后")))
    if figure.reasons:
        figure.light = "red"
        return
    if milestone.last_quarter == quarter:
        figure.reasons.append(str(_("本季度到期,尚未完成")))
    if figure.current and figure.current.state == State.RETURNED:
        figure.reasons.append(str(_("报告被退回")))
    if figure.percent < figure.expected:
        figure.reasons.append(
            str(_("进度%(percent)s%%低于序时进度%(expected)s%%"))
            % {"percent": figure.percent, "expected": figure.expected}
        )
    figure.light = "yellow" if figure.reasons else "green"


def load_figures(
    plan: Plan, quarter: int, today: datetime.date, measures: list[int] | None = None
) -> list[MilestoneFigure]:
    """Every milestone of the plan (or of some measures) judged at `quarter`, with the
    reports it had up to then. Three queries."""
    milestones = Milestone.objects.in_force(plan.quarter_end(quarter)).filter(
        measure__work_area__plan=plan
    )
    if measures is not None:
        milestones = milestones.filter(measure__in=measures)
    milestones = milestones.select_related("measure__work_area").prefetch_related(
        Prefetch(
            "measure__responsible_offices",
            queryset=Department.objects.order_by("order", "name"),
        ),
        Prefetch(
            "reports",
            queryset=ProgressReport.objects.filter(quarter__lte=quarter).order_by("quarter"),
            to_attr="reports_so_far",
        ),
    )
    milestones = milestones.order_by("measure__work_area__order", "measure__number", "order")
    figures = []
    for milestone in milestones:
        approved = [r for r in milestone.reports_so_far if r.state == State.APPROVED]
        current = [r for r in milestone.reports_so_far if r.quarter == quarter]
        figure = MilestoneFigure(
            milestone=milestone,
            offices=list(milestone.measure.responsible_offices.all()),
            expected=expected_percent(milestone, quarter),
            approved=approved[-1] if approved else None,
            current=current[0] if current else None,
        )
        judge(figure, plan, quarter, today)
        figures.append(figure)
    return figures


@dataclass
class Bucket:
    """Figures for a group of milestones (a work area, an office, the whole plan)."""

    label: str = ""
    key: object = None
    due: int = 0
    done: int = 0
    in_progress: int = 0
    behind: int = 0
    overdue: int = 0
    not_reported: int = 0
    lights: dict = field(default_factory=lambda: defaultdict(int))
    percent_sum: int = 0
    expected_sum: int = 0

    def add(self, figure: MilestoneFigure, quarter: int) -> None:
        self.lights[figure.light] += 1
        if figure.active_in(quarter) and not figure.reported:
            self.not_reported += 1
        if not figure.due:
            return
        self.due += 1
        self.done += figure.done
        self.in_progress += figure.status in (Status.IN_PROGRESS, Status.NOT_STARTED)
        self.behind += figure.status == Status.BEHIND
        self.overdue += figure.overdue
        self.percent_sum += figure.percent
        self.expected_sum += figure.expected

    @property
    def completion(self) -> int:
        return round(self.percent_sum / self.due) if self.due else 0

    @property
    def expected(self) -> int:
        return round(self.expected_sum / self.due) if self.due else 0

    @property
    def red(self) -> int:
        return self.lights["red"]

    @property
    def yellow(self) -> int:
        return self.lights["yellow"]

    @property
    def green(self) -> int:
        return self.lights["green"]


@dataclass
class OfficeTimeliness:
    office: Department
    missing: int  # milestones of the quarter not submitted yet
    days_late: int  # days past the quarter's due date (0 when not yet due)
    required: int  # reports due so far in the year
    on_time: int  # of which submitted by their due date

    @property
    def rate(self) -> int | None:
        return round(100 * self.on_time / self.required) if self.required else None


@dataclass
class Overview:
    plan: Plan
    quarter: int
    figures: list[MilestoneFigure]  # after the filters
    total: Bucket
    by_area: list[Bucket]
    by_office: list[Bucket]
    trend: list[Bucket]
    timeliness: list[OfficeTimeliness]
    at_risk: list[MilestoneFigure]


def bucket(figures, quarter, label="", key=None) -> Bucket:
    result = Bucket(label=label, key=key)
    for figure in figures:
        result.add(figure, quarter)
    return result


def overview(
    plan: Plan,
    quarter: int,
    *,
    today: datetime.date | None = None,
    area: int | None = None,
    office: int | None = None,
    status: str | None = None,
) -> Overview:
    today = today or timezone.localdate()
    figures = [
        f
        for f in load_figures(plan, quarter, today)
        if (area is None or f.milestone.measure.work_area_id == area)
        and (office is None or any(o.pk == office for o in f.offices))
    ]
    shown = [f for f in figures if status is None or f.matches(status, quarter)]

    areas: dict[int, list] = defaultdict(list)
    offices: dict[int, list] = defaultdict(list)
    office_objects: dict[int, Department] = {}
    for figure in shown:
        areas[figure.milestone.measure.work_area_id].append(figure)
        for o in figure.offices:
            offices[o.pk].append(figure)
            office_objects[o.pk] = o
    by_area = [
        bucket(group, quarter, str(group[0].milestone.measure.work_area), key)
        for key, group in areas.items()
    ]
    by_office = sorted(
        (bucket(group, quarter, office_objects[key].name, key) for key, group in offices.items()),
        key=lambda b: (office_objects[b.key].order, b.label),
    )
    trend = [
        bucket(
            refigure(shown, plan, q, today),
            q,
            str(_("第%(q)s季度") % {"q": q}),
            q,
        )
        for q in range(1, quarter + 1)
    ]
    return Overview(
        plan=plan,
        quarter=quarter,
        figures=shown,
        total=bucket(shown, quarter),
        by_area=by_area,
        by_office=by_office,
        trend=trend,
        timeliness=timeliness(figures, plan, quarter, today, office_objects),
        at_risk=[f for f in shown if f.light in ("red", "yellow")],
    )


def refigure(figures, plan, quarter, today) -> list[MilestoneFigure]:
    """The same milestones judged at an earlier quarter, from the reports already loaded."""
    result = []
    for figure in figures:
        reports = [r for r in figure.milestone.reports_so_far if r.quarter <= quarter]
        approved = [r for r in reports if r.state == State.APPROVED]
        current = [r for r in reports if r.quarter == quarter]
        earlier = MilestoneFigure(
            milestone=figure.milestone,
            offices=figure.offices,
            expected=expected_percent(figure.milestone, quarter),
            approved=approved[-1] if approved else None,
            current=current[0] if current else None,
        )
        judge(earlier, plan, quarter, today)
        result.append(earlier)
    return result


def timeliness(figures, plan, quarter, today, office_objects) -> list[OfficeTimeliness]:
    """Per responsible office: milestones not reported this quarter and how late they are,
    and the share of the year's reports so far submitted by their due dates."""
    rows: dict[int, OfficeTimeliness] = {}
    for figure in figures:
        for office in figure.offices:
            if office.generic:
                continue  # 相关处室 and the like hold no accounts and report nothing
            office_objects.setdefault(office.pk, office)
            row = rows.setdefault(office.pk, OfficeTimeliness(office, 0, 0, 0, 0))
            if figure.active_in(quarter) and not figure.reported:
                row.missing += 1
                row.days_late = max(row.days_late, (today - plan.report_due(quarter)).days, 0)
            for q in figure.milestone.quarters:
                if q > quarter or plan.report_due(q) >= today:
                    continue
                row.required += 1
                report = next((r for r in figure.milestone.reports_so_far if r.quarter == q), None)
                if report and report.first_submitted_at:
                    submitted = timezone.localtime(report.first_submitted_at).date()
                    row.on_time += submitted <= plan.report_due(q)
    return sorted(rows.values(), key=lambda r: (-r.missing, r.office.order, r.office.name))


def measure_grid(measure: Measure, quarter: int, today: datetime.date):
    """A measure's milestones judged at `quarter`, each with its report per quarter."""
    plan = measure.work_area.plan
    figures = load_figures(plan, 4, today, measures=[measure.pk])
    for figure in figures:
        by_quarter = {r.quarter: r for r in figure.milestone.reports_so_far}
        figure.cells = [
            (q, q in figure.milestone.quarters, by_quarter.get(q)) for q in (1, 2, 3, 4)
        ]
    judged = refigure(figures, plan, quarter, today)
    for figure, at_quarter in zip(figures, judged, strict=True):
        at_quarter.cells = figure.cells
    return judged


@dataclass
class UnitContributions:
    unit: Department
    due: int  # milestones of the quarter whose measures name the unit
    made: int  # contributions it made for them
    late: int  # made after the due date, or still missing after it


def unit_contributions(plan: Plan, quarter: int, today: datetime.date) -> list[UnitContributions]:
    """Per cooperating unit: contributions due this quarter, made and late. Three queries."""
    milestones = (
        Milestone.objects.in_force(plan.quarter_end(quarter))
        .scheduled_in(quarter)
        .filter(measure__work_area__plan=plan)
        .prefetch_related(
            Prefetch(
                "measure__cooperating_units",
                queryset=Department.objects.filter(generic=False).order_by("order", "name"),
            )
        )
        .select_related("measure")
    )
    made = {
        (c.milestone_id, c.unit_id): c
        for c in Contribution.objects.filter(
            milestone__measure__work_area__plan=plan, quarter=quarter
        ).order_by()  # a dict: the model's ordering would only add joins
    }
    due_date = plan.report_due(quarter)
    rows: dict[int, UnitContributions] = {}
    for milestone in milestones:
        for unit in milestone.measure.cooperating_units.all():
            row = rows.setdefault(unit.pk, UnitContributions(unit, 0, 0, 0))
            row.due += 1
            contribution = made.get((milestone.pk, unit.pk))
            if contribution:
                row.made += 1
                submitted = timezone.localtime(contribution.first_submitted_at).date()
                row.late += submitted > due_date
            else:
                row.late += today > due_date
    return sorted(rows.values(), key=lambda r: (r.unit.order, r.unit.name))


CHANGE_KINDS = {
    "newly_done": _("新完成"),
    "newly_behind": _("新滞后"),
    "newly_overdue": _("新逾期"),
    "moved": _("有变化"),
}


@dataclass
class Change:
    before: MilestoneFigure
    after: MilestoneFigure
    kinds: list[str]

    @property
    def labels(self) -> list[str]:
        return [str(CHANGE_KINDS[kind]) for kind in self.kinds]


def changes(plan: Plan, earlier: int, later: int, today: datetime.date) -> list[Change]:
    """What changed between two reporting quarters: milestones newly done, newly behind or
    overdue, and those whose approved status or percent moved. Three queries."""
    return changes_among(load_figures(plan, later, today), plan, earlier, today)


def changes_among(after: list[MilestoneFigure], plan, earlier: int, today) -> list[Change]:
    """The changes of already judged milestones since `earlier`, without a query."""
    before = refigure(after, plan, earlier, today)
    result = []
    for old, new in zip(before, after, strict=True):
        kinds = []
        if new.done and not old.done:
            kinds.append("newly_done")
        if new.status == Status.BEHIND and old.status != Status.BEHIND:
            kinds.append("newly_behind")
        if new.overdue and not old.overdue:
            kinds.append("newly_overdue")
        if not kinds and (new.status, new.percent) != (old.status, old.percent):
            kinds.append("moved")
        if kinds:
            result.append(Change(old, new, kinds))
    return result
