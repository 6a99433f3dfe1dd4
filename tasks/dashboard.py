"""Leaders' figures: where a plan stands at a reporting quarter.

Everything is computed from three queries (milestones with their measures, the offices
responsible for them, and their reports up to the quarter), so a dashboard costs the same
number of queries whatever the size of the plan or of the database. Leaders' figures count
approved reports only; a returned or submitted report changes a light, never a figure.

The milestones due (应完成) are split by their latest approved report into PARTITION, which
adds up to 应完成; FLAGS (已逾期, 本季度未填报) cut across it. Percentages are averaged from
exact values and rounded half up once (half_up). A milestone approved 已完成 is owed nothing
afterwards (services.owes_report). Every figure has a status (STATUS_FILTERS) that lists
exactly the milestones it counts.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from plan.models import QUARTER_CHOICES, Measure, Milestone, Plan
from plantracker import clock

from .models import Contribution, ProgressReport
from .services import owes_report

Status = ProgressReport.Status
State = ProgressReport.State

LIGHTS = {
    "green": _("正常"),
    "yellow": _("关注"),
    "red": _("预警"),
    "not_due": _("未到期"),
    "unscheduled": _("未排期"),
}
# The milestones due so far (应完成) fall into exactly one of these, by their latest approved
# report up to the quarter: the tiles add up to 应完成.
PARTITION = {
    "done": _("已完成"),
    "in_progress": _("进行中"),
    "not_started": _("未开始"),
    "behind": _("滞后"),
    "no_report": _("无审核通过报告"),
}
# Flags that cut across the partition.
FLAGS = {
    "overdue": _("已逾期"),
    "not_reported": _("本季度未填报"),
}
# A cooperating unit's figures (with ?unit=): the milestones of the quarter whose measures
# name it, those it contributed to, and those it was late for.
UNIT_STATUSES = {
    "unit_due": _("配合单位应配合"),
    "unit_made": _("配合单位已提交"),
    "unit_late": _("配合单位逾期"),
}
STATUS_FILTERS = {
    "due": _("应完成"),
    **PARTITION,
    **FLAGS,
    "red": _("预警"),
    "yellow": _("关注"),
    "green": _("正常"),
    "unscheduled": _("未排期"),
    **UNIT_STATUSES,
}
# What each figure counts, said on the page beside it (legend and tooltips).
FIGURE_HELP = {
    "due": _("计划安排在本季度或以前开始的进度节点(跨季度节点从起始季度起计入)。"),
    "done": _("最近一次审核通过的报告为“已完成”(100%)。提前完成的节点以后各季度不再要求填报。"),
    "in_progress": _("最近一次审核通过的报告为“进行中”。"),
    "not_started": _("最近一次审核通过的报告为“未开始”。"),
    "behind": _("最近一次审核通过的报告为“滞后”。"),
    "no_report": _("本季度及以前还没有审核通过的报告(已提交待审核的也计在此)。"),
    "overdue": _("已过最后一个安排季度仍未完成;可同时属于上面任一类,不另计入应完成。"),
    "not_reported": _("本季度有安排、尚欠报告、且报告尚未提交审核的节点;提前完成的不计。"),
    "completion": _("应完成节点审核通过进度的平均值,四舍五入到整数。"),
    "expected": _("序时进度:按节点所跨季度平均分摊,到本季度末应达到的进度的平均值。"),
    "red": _("预警:已逾期,或报告为“滞后”。"),
    "yellow": _("关注:本季度到期尚未完成,或报告被退回,或进度低于序时进度。"),
    "green": _("正常:已完成,或进度不低于序时进度。"),
    "rate": _(
        "全年按时率:本年度截至本季度、已过截止日期的应报报告中,在截止日期前首次提交的比例"
        "(提前完成的节点以后不再应报)。"
    ),
}


def half_up(value: Fraction | int) -> int:
    """四舍五入 to a whole number, from the exact value (66.5 → 67, 12.5 → 13)."""
    with localcontext() as context:
        context.prec = 40
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_exact(milestone: Milestone, quarter: int) -> Fraction | None:
    """序时进度, exactly: the share (in %) of a milestone that should be done by the end of
    `quarter`, spread evenly over the quarters it spans. None for an unscheduled milestone."""
    if not milestone.scheduled:
        return None
    if quarter < milestone.first_quarter:
        return Fraction(0)
    if quarter >= milestone.last_quarter:
        return Fraction(100)
    span = milestone.last_quarter - milestone.first_quarter + 1
    return Fraction(100 * (quarter - milestone.first_quarter + 1), span)


def expected_percent(milestone: Milestone, quarter: int) -> int | None:
    """序时进度 as shown for one milestone: the exact value rounded half up."""
    exact = expected_exact(milestone, quarter)
    return None if exact is None else half_up(exact)


@dataclass
class MilestoneFigure:
    """One milestone at the reporting quarter, with its light and the reasons for it."""

    milestone: Milestone
    offices: list[Department]
    expected_value: Fraction | None  # exact 序时进度
    approved: ProgressReport | None  # the latest approved report up to the quarter
    current: ProgressReport | None  # this quarter's report, in whatever state
    owed: bool = False  # a report is owed for the quarter (services.owes_report)
    unit_flags: set = field(default_factory=set)  # with ?unit=: contribution_flags
    light: str = "green"
    overdue: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def expected(self) -> int | None:
        return None if self.expected_value is None else half_up(self.expected_value)

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
    def category(self) -> str | None:
        """Which part of the partition of 应完成 the milestone is in (None when not due)."""
        if not self.due:
            return None
        return self.status or "no_report"

    @property
    def reported(self) -> bool:
        """This quarter's report has reached the reviewer (submitted or approved)."""
        return self.current is not None and self.current.state in (State.SUBMITTED, State.APPROVED)

    @property
    def not_reported(self) -> bool:
        """A report is owed this quarter and has not reached the reviewer."""
        return self.owed and not self.reported

    @property
    def latest(self) -> ProgressReport | None:
        return self.current or self.approved

    @property
    def light_label(self) -> str:
        return LIGHTS[self.light]

    def matches(self, status: str, quarter: int) -> bool:
        if status in UNIT_STATUSES:
            return status in self.unit_flags
        if status in LIGHTS:
            return self.light == status
        if status == "due":
            return self.due
        if status == "overdue":
            return self.overdue
        if status == "not_reported":
            return self.not_reported
        return self.category == status

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
    if figure.percent < figure.expected_value:
        figure.reasons.append(
            str(_("进度%(percent)s%%低于序时进度%(expected)s%%"))
            % {"percent": figure.percent, "expected": figure.expected}
        )
    figure.light = "yellow" if figure.reasons else "green"


def figure_at(milestone, offices, reports, plan, quarter, today) -> MilestoneFigure:
    """`milestone` judged at `quarter` from its reports (any quarters; later ones ignored)."""
    reports = [r for r in reports if r.quarter <= quarter]
    approved = [r for r in reports if r.state == State.APPROVED]
    current = [r for r in reports if r.quarter == quarter]
    figure = MilestoneFigure(
        milestone=milestone,
        offices=offices,
        expected_value=expected_exact(milestone, quarter),
        approved=approved[-1] if approved else None,
        current=current[0] if current else None,
        owed=owes_report(milestone, quarter, reports),
    )
    judge(figure, plan, quarter, today)
    return figure


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
    return [
        figure_at(
            milestone,
            list(milestone.measure.responsible_offices.all()),
            milestone.reports_so_far,
            plan,
            quarter,
            today,
        )
        for milestone in milestones
    ]


@dataclass
class Bucket:
    """Figures for a group of milestones (a work area, an office, the whole plan). `due` is
    split into done + in_progress + not_started + behind + no_report; overdue and
    not_reported are flags across that split."""

    label: str = ""
    key: object = None
    quarter: int = 0
    due: int = 0
    done: int = 0
    in_progress: int = 0
    not_started: int = 0
    behind: int = 0
    no_report: int = 0
    overdue: int = 0
    not_reported: int = 0
    lights: dict = field(default_factory=lambda: defaultdict(int))
    percent_sum: int = 0
    expected_sum: Fraction = Fraction(0)

    def add(self, figure: MilestoneFigure, quarter: int) -> None:
        self.lights[figure.light] += 1
        self.not_reported += figure.not_reported
        if not figure.due:
            return
        self.due += 1
        category = figure.category
        setattr(self, category, getattr(self, category) + 1)
        self.overdue += figure.overdue
        self.percent_sum += figure.percent
        self.expected_sum += figure.expected_value

    @property
    def parts(self) -> int:
        """The partition's sum: always equal to `due`."""
        return self.done + self.in_progress + self.not_started + self.behind + self.no_report

    @property
    def completion(self) -> int:
        """The average approved percent of the due milestones, rounded half up once."""
        return half_up(Fraction(self.percent_sum, self.due)) if self.due else 0

    @property
    def expected(self) -> int:
        """The average exact 序时进度 of the due milestones, rounded half up once."""
        return half_up(self.expected_sum / self.due) if self.due else 0

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
    closed: bool = False  # the plan's year is over: missing reports are late, not counted in days

    @property
    def rate(self) -> int | None:
        return half_up(Fraction(100 * self.on_time, self.required)) if self.required else None


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
    unit: int | None = None,
    status: str | None = None,
) -> Overview:
    """The dashboard at `quarter`. The figures (tiles, tables, trend) count every milestone
    of the area and office chosen; the status only narrows the lists, so each figure stays
    what its link shows (?status=<figure> lists exactly the milestones it counts)."""
    today = today or clock.today()
    figures = [
        f
        for f in load_figures(plan, quarter, today)
        if (area is None or f.milestone.measure.work_area_id == area)
        and (office is None or any(o.pk == office for o in f.offices))
    ]
    if unit is not None:
        figures = for_unit(figures, plan, quarter, today, unit)
    shown = [f for f in figures if status is None or f.matches(status, quarter)]

    areas: dict[int, list] = defaultdict(list)
    offices: dict[int, list] = defaultdict(list)
    office_objects: dict[int, Department] = {}
    for figure in figures:
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
        bucket(refigure(figures, plan, q, today), q, str(quarter_label(q)), q)
        for q in range(1, quarter + 1)
    ]
    return Overview(
        plan=plan,
        quarter=quarter,
        figures=shown,
        total=bucket(figures, quarter),
        by_area=by_area,
        by_office=by_office,
        trend=trend,
        timeliness=timeliness(figures, plan, quarter, today, office_objects),
        at_risk=[f for f in shown if f.light in ("red", "yellow")],
    )


def for_unit(figures, plan, quarter, today, unit: int) -> list[MilestoneFigure]:
    """The milestones whose measures name `unit` as cooperating, each with what the unit's
    contribution counts this quarter (contribution_flags). Two queries."""
    named = set(
        Milestone.objects.filter(
            measure__work_area__plan=plan,
            measure__cooperating_units=unit,
            measure__cooperating_units__generic=False,
        ).values_list("pk", flat=True)
    )
    made = {
        c.milestone_id: c
        for c in Contribution.objects.filter(unit=unit, quarter=quarter, milestone__in=named)
        .order_by()
        .only("milestone_id", "first_submitted_at")
    }
    due_date = plan.report_due(quarter)
    result = [f for f in figures if f.milestone.pk in named]
    for figure in result:
        if figure.active_in(quarter):
            figure.unit_flags = contribution_flags(made.get(figure.milestone.pk), today, due_date)
    return result


def quarter_label(quarter: int) -> str:
    """The one way quarters are written: 第一季度 … 第四季度."""
    return dict(QUARTER_CHOICES)[quarter]


def refigure(figures, plan, quarter, today) -> list[MilestoneFigure]:
    """The same milestones judged at an earlier quarter, from the reports already loaded."""
    return [
        figure_at(f.milestone, f.offices, f.milestone.reports_so_far, plan, quarter, today)
        for f in figures
    ]


def timeliness(figures, plan, quarter, today, office_objects) -> list[OfficeTimeliness]:
    """Per responsible office: milestones owed and not reported this quarter and how late
    they are, and the share of the year's owed reports so far submitted by their due dates.
    Once the plan's year is over (its fourth quarter's reports due), days late are no longer
    counted: "逾期 4344 天" says nothing on a past plan."""
    closed = today > plan.report_due(4)
    rows: dict[int, OfficeTimeliness] = {}
    for figure in figures:
        for office in figure.offices:
            if office.generic:
                continue  # 相关处室 and the like hold no accounts and report nothing
            office_objects.setdefault(office.pk, office)
            row = rows.setdefault(office.pk, OfficeTimeliness(office, 0, 0, 0, 0, closed))
            if figure.not_reported:
                row.missing += 1
                if not closed:
                    row.days_late = max(row.days_late, (today - plan.report_due(quarter)).days, 0)
            reports = figure.milestone.reports_so_far
            for q in figure.milestone.quarters:
                if q > quarter or plan.report_due(q) >= today:
                    continue
                if not owes_report(figure.milestone, q, reports):
                    continue
                row.required += 1
                report = next((r for r in reports if r.quarter == q), None)
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
        reports = figure.milestone.reports_so_far
        figure.cells = [
            (
                q,
                q in figure.milestone.quarters,
                by_quarter.get(q),
                # what an empty scheduled cell says: owed so far, done earlier, or not yet due
                ""
                if q in by_quarter or q > quarter or q not in figure.milestone.quarters
                else ("owed" if owes_report(figure.milestone, q, reports) else "done_earlier"),
            )
            for q in (1, 2, 3, 4)
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


def contribution_flags(contribution, today: datetime.date, due_date: datetime.date) -> set[str]:
    """What a unit's contribution to a milestone due this quarter counts in the units' table:
    always unit_due; unit_made when made; unit_late when made after the due date, or still
    missing after it."""
    flags = {"unit_due"}
    if contribution is not None:
        flags.add("unit_made")
        if timezone.localtime(contribution.first_submitted_at).date() > due_date:
            flags.add("unit_late")
    elif today > due_date:
        flags.add("unit_late")
    return flags


def unit_contributions(plan: Plan, quarter: int, today: datetime.date) -> list[UnitContributions]:
    """Per cooperating unit: contributions due this quarter, made and late. Two queries: the
    units, once per milestone of the quarter their measures hold (one filter() call, so
    that the milestone annotated is the one filtered), and the quarter's contributions."""
    end = plan.quarter_end(quarter)
    pairs = (
        Department.objects.filter(
            # a milestone retired by a plan revision is out of the figures from then on
            Q(cooperating_measures__milestones__retired_on__isnull=True)
            | Q(cooperating_measures__milestones__retired_on__gt=end),
            generic=False,
            cooperating_measures__work_area__plan=plan,
            cooperating_measures__milestones__first_quarter__lte=quarter,
            cooperating_measures__milestones__last_quarter__gte=quarter,
        )
        .annotate(due_milestone=F("cooperating_measures__milestones__pk"))
        .order_by("order", "name", "pk")
    )
    made = {
        (c.milestone_id, c.unit_id): c
        for c in Contribution.objects.filter(
            milestone__measure__work_area__plan=plan, quarter=quarter
        ).order_by()  # a dict: the model's ordering would only add joins
    }
    due_date = plan.report_due(quarter)
    rows: dict[int, UnitContributions] = {}
    for unit in pairs:
        row = rows.setdefault(unit.pk, UnitContributions(unit, 0, 0, 0))
        flags = contribution_flags(made.get((unit.due_milestone, unit.pk)), today, due_date)
        row.due += 1
        row.made += "unit_made" in flags
        row.late += "unit_late" in flags
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
