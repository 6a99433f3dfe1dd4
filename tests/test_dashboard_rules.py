"""The leaders' figures (tasks.dashboard), proved on built data: 序时进度, the traffic lights and
their reasons, the headline figures, buckets by work area and by office, the quarterly trend,
timeliness per office, the filters and a measure's grid.

Leaders' figures count approved reports only. Every test passes `today` explicitly so nothing
depends on the real date. Small hand-built plans (year 2024, one work area, one measure of
专利管理处) are used where a rule is clearer on a few milestones; the real 2014 plan where the
document's shape matters (spans, phases, a measure with two responsible offices)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from departments.models import Department
from plan.models import Measure, Milestone, Plan, WorkArea
from tasks import services
from tasks.dashboard import (
    STATUS_FILTERS,
    MilestoneFigure,
    expected_percent,
    load_figures,
    measure_grid,
    overview,
)
from tasks.models import ProgressReport

from . import builders

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_Q2_2024 = datetime.date(2024, 5, 15)  # inside the second quarter of the small plans' year
IN_Q2_2014 = datetime.date(2014, 5, 20)  # inside the second quarter of the 2014 plan


# --- Building plans -----------------------------------------------------------------------


def milestone_2014(measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in the 2014 plan."""
    return Milestone.objects.get(measure__number=measure, order=order)


@pytest.fixture
def measure(plan_2014, patent_office) -> Measure:
    """A measure of 专利管理处 in a small 2024 plan, with no milestones yet."""
    bureau = Department.objects.get(name="重庆市知识产权局")
    plan = Plan.objects.create(year=2024, title="2024年测试计划", issuer=bureau)
    area = WorkArea.objects.create(plan=plan, numeral="一", title="测试领域", order=1)
    result = Measure.objects.create(
        work_area=area, number=1, title="测试措施", goal="测试目标", executing_department=bureau
    )
    result.responsible_offices.add(patent_office)
    return result


def add_measure(area: WorkArea, number: int, office: Department) -> Measure:
    result = Measure.objects.create(
        work_area=area,
        number=number,
        title=f"措施{number}",
        goal="目标",
        executing_department=Department.objects.get(name="重庆市知识产权局"),
    )
    result.responsible_offices.add(office)
    return result


def add(measure: Measure, first: int | None, last: int | None = None, text="") -> Milestone:
    """A milestone of `measure` for quarters first..last (a single quarter when last is
    omitted; an unscheduled phase when first is None)."""
    order = measure.milestones.count() + 1
    return Milestone.objects.create(
        measure=measure,
        order=order,
        label=f"节点{order}",
        first_quarter=first,
        last_quarter=last if last is not None or first is None else first,
        text=text or f"进度安排{order}",
    )


def judged(milestone: Milestone, quarter: int, today: datetime.date) -> MilestoneFigure:
    """The milestone as the dashboard judges it at `quarter`."""
    plan = milestone.measure.work_area.plan
    figures = load_figures(plan, quarter, today, measures=[milestone.measure_id])
    return next(f for f in figures if f.milestone.pk == milestone.pk)


def submitted_on(report: ProgressReport, day: datetime.date, hour: int = 12) -> None:
    """Pretends the report was first submitted on `day` (Beijing time)."""
    at = datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)
    ProgressReport.objects.filter(pk=report.pk).update(first_submitted_at=at)


# --- 序时进度 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "by_quarter"),
    [
        (2, 2, [0, 100, 100, 100]),  # a single quarter: nothing before it, all of it from it
        (2, 4, [0, 33, 67, 100]),  # 第二--四季度, spread evenly over its three quarters
        (1, 4, [25, 50, 75, 100]),  # 第一--四季度
        (1, 3, [33, 67, 100, 100]),  # 第一--三季度, complete once its last quarter is reached
    ],
)
def test_expected_progress_spreads_evenly_over_the_quarters_a_milestone_spans(
    first, last, by_quarter
):
    milestone = Milestone(first_quarter=first, last_quarter=last)

    assert [expected_percent(milestone, q) for q in (1, 2, 3, 4)] == by_quarter


def test_an_unscheduled_phase_has_no_expected_progress():
    phase = Milestone(first_quarter=None, last_quarter=None, label="第一阶段")

    assert [expected_percent(phase, q) for q in (1, 2, 3, 4)] == [None] * 4


def test_unscheduled_phases_are_not_due_and_show_the_light_unscheduled(plan_2014):
    # Measure 19 of the 2014 plan has three phases (第一阶段 …) and no quarters.
    data = overview(plan_2014, 4, today=datetime.date(2014, 11, 1))

    phases = [f for f in data.figures if f.milestone.measure.number == 19]
    assert [f.light for f in phases] == ["unscheduled"] * 3
    assert [f.expected for f in phases] == [None] * 3
    assert not any(f.due for f in phases)
    assert data.total.due == 61 - 3  # every scheduled milestone is due at the fourth quarter
    assert data.total.lights["unscheduled"] == 3


# --- Headline figures ---------------------------------------------------------------------


def test_the_headline_figures_of_the_2014_plan_with_no_reports(plan_2014):
    data = overview(plan_2014, 2, today=IN_Q2_2014)

    # Due so far: every scheduled milestone beginning in the first or second quarter, i.e.
    # two per measure for 16 measures, one for measure 15 (第一--三季度 then 第四季度).
    assert data.total.due == 33
    # 15 milestones end in the first quarter (all but measure 14's 第一--四季度 and measure
    # 15's 第一--三季度): with no report they are overdue.
    assert data.total.overdue == 15
    # 18 milestones are active in the second quarter (measure 14 has two spans active in it).
    assert data.total.not_reported == 18
    assert (data.total.done, data.total.in_progress, data.total.behind) == (0, 0, 0)
    assert data.total.completion == 0


def test_the_headline_figures_count_approved_reports_only(plan_2014, reviewer):
    builders.report(milestone_2014(2, 1), 1, percent=100, status="done", reviewer=reviewer)
    builders.report(milestone_2014(2, 2), 2, percent=60, status="in_progress", reviewer=reviewer)
    builders.report(milestone_2014(3, 1), 1, percent=20, status="behind", reviewer=reviewer)
    builders.report(milestone_2014(3, 2), 2, percent=100, status="done", state="submitted")
    builders.report(
        milestone_2014(4, 2), 2, percent=100, status="done", state="returned", reviewer=reviewer
    )
    builders.report(milestone_2014(7, 2), 2, percent=100, status="done", state="draft")

    total = overview(plan_2014, 2, today=IN_Q2_2014).total

    assert total.due == 33
    assert total.done == 1  # only the approved 已完成; submitted, returned, draft 100% do not
    assert total.in_progress == 1
    assert total.behind == 1
    assert total.overdue == 14  # the 15 first-quarter milestones, less the one done
    assert total.not_reported == 16  # 18 active, less the approved and the submitted report
    assert total.completion == 5  # (100 + 60 + 20) / 33 = 5.45


def test_a_submitted_or_returned_report_of_100_percent_is_not_done(measure, reviewer):
    submitted_one, returned_one = add(measure, 2), add(measure, 2)
    submitted = builders.report(submitted_one, 2, percent=100, status="done", state="submitted")
    builders.report(
        returned_one, 2, percent=100, status="done", state="returned", reviewer=reviewer
    )
    plan = measure.work_area.plan

    before = overview(plan, 2, today=IN_Q2_2024).total
    services.review_report(
        reviewer=reviewer,
        report_id=submitted.pk,
        base_version=submitted.version,
        approve=True,
        comment="",
    )
    after = overview(plan, 2, today=IN_Q2_2024).total

    assert (before.due, before.done, before.completion) == (2, 0, 0)
    assert (after.done, after.completion) == (1, 50)


def test_overall_completion_is_the_mean_approved_percent_over_due_milestones(measure, reviewer):
    builders.report(add(measure, 1, 4), 2, percent=40, reviewer=reviewer)
    builders.report(add(measure, 2), 2, percent=100, status="done", reviewer=reviewer)
    add(measure, 2)  # due, no report: counts as 0
    add(measure, 3)  # not due yet: not counted
    add(measure, None)  # unscheduled: not counted

    total = overview(measure.work_area.plan, 2, today=IN_Q2_2024).total

    assert total.due == 3
    assert total.completion == 47  # (40 + 100 + 0) / 3 = 46.67
    assert total.expected == 83  # (50 + 100 + 100) / 3 = 83.33


# --- Traffic lights, one rule at a time -----------------------------------------------------


def test_light_is_green_when_done(measure, reviewer):
    milestone = add(measure, 2)
    builders.report(milestone, 2, percent=100, status="done", reviewer=reviewer)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("green", ["已完成"])
    assert figure.done


def test_light_is_green_when_on_schedule(measure, reviewer):
    milestone = add(measure, 2, 4)  # 序时进度 33% at the second quarter
    builders.report(milestone, 2, percent=40, reviewer=reviewer)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.expected, figure.percent) == (33, 40)
    assert (figure.light, figure.reasons) == ("green", [])


def test_light_is_yellow_when_due_this_quarter_and_not_done(measure, reviewer):
    milestone = add(measure, 2)
    # At 100% so that only the due date speaks, not the 序时进度.
    builders.report(milestone, 2, percent=100, status="in_progress", reviewer=reviewer)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("yellow", ["本季度到期,尚未完成"])
    assert not figure.overdue


def test_light_stays_yellow_on_the_last_day_of_the_quarter(measure, reviewer):
    milestone = add(measure, 2)
    builders.report(milestone, 2, percent=100, status="in_progress", reviewer=reviewer)

    figure = judged(milestone, 2, datetime.date(2024, 6, 30))

    assert figure.light == "yellow"
    assert not figure.overdue


def test_light_is_yellow_when_this_quarters_report_is_returned(measure, reviewer):
    milestone = add(measure, 1, 4)  # 序时进度 50% at the second quarter
    builders.report(milestone, 1, percent=60, reviewer=reviewer)
    builders.report(milestone, 2, percent=70, state="returned", reviewer=reviewer)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert figure.percent == 60  # the first quarter's approved report still counts
    assert (figure.light, figure.reasons) == ("yellow", ["报告被退回"])


def test_light_is_yellow_when_approved_progress_is_below_expected(measure, reviewer):
    milestone = add(measure, 1, 4)  # 序时进度 50% at the second quarter
    builders.report(milestone, 2, percent=30, reviewer=reviewer)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("yellow", ["进度30%低于序时进度50%"])


def test_light_is_red_when_the_last_quarter_is_over_and_not_done(measure, reviewer):
    earlier = add(measure, 1)
    builders.report(earlier, 1, percent=90, reviewer=reviewer)

    figure = judged(earlier, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("red", ["已过最后期限仍未完成"])
    assert figure.overdue


def test_light_turns_red_the_day_after_the_quarter_ends(measure, reviewer):
    milestone = add(measure, 2)
    builders.report(milestone, 2, percent=90, reviewer=reviewer)

    figure = judged(milestone, 2, datetime.date(2024, 7, 1))

    assert (figure.light, figure.reasons) == ("red", ["已过最后期限仍未完成"])
    assert figure.overdue


def test_light_is_red_when_the_approved_status_is_behind(measure, reviewer):
    milestone = add(measure, 2, 4)
    builders.report(milestone, 2, percent=50, status="behind", reviewer=reviewer)  # >= 33%

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("red", ["处室报告滞后"])
    assert not figure.overdue


def test_a_milestone_starting_later_is_not_due(measure):
    milestone = add(measure, 3)

    figure = judged(milestone, 2, IN_Q2_2024)

    assert (figure.light, figure.reasons) == ("not_due", [])
    assert not figure.due
    assert figure.expected == 0


def test_a_done_milestone_stays_green_after_its_quarter(measure, reviewer):
    milestone = add(measure, 1)
    builders.report(milestone, 1, percent=100, status="done", reviewer=reviewer)

    figure = judged(milestone, 4, datetime.date(2024, 12, 1))

    assert figure.light == "green"
    assert not figure.overdue


# --- Buckets by work area and by office -----------------------------------------------------


def test_buckets_by_work_area_add_up_to_the_total(plan_2014, reviewer):
    builders.report(milestone_2014(16, 1), 1, percent=100, status="done", reviewer=reviewer)

    data = overview(plan_2014, 2, today=IN_Q2_2014)

    assert len(data.by_area) == 11
    assert [b.label for b in data.by_area][:2] == [
        "(一)完善专利法规政策",
        "(二)专利质量保障体系建设",
    ]
    assert sum(b.due for b in data.by_area) == data.total.due
    talent = next(b for b in data.by_area if b.label == "(七)专利人才体系建设")  # measure 16
    assert (talent.due, talent.done, talent.completion) == (2, 1, 50)


def test_a_milestone_with_two_responsible_offices_counts_for_both(plan_2014, reviewer):
    # Measure 16 names 规划发展处 and 相关处室; 规划发展处 also has measures 2 and 29.
    builders.report(milestone_2014(16, 1), 1, percent=100, status="done", reviewer=reviewer)

    data = overview(plan_2014, 2, today=IN_Q2_2014)

    offices = {b.label: b for b in data.by_office}
    assert (offices["相关处室"].due, offices["相关处室"].done) == (2, 1)
    assert (offices["规划发展处"].due, offices["规划发展处"].done) == (6, 1)
    assert sum(b.due for b in data.by_office) == data.total.due + 2
    assert [b.label for b in data.by_office][0] == "规划发展处"  # in the offices' order


# --- The quarterly trend ------------------------------------------------------------------


def test_the_trend_judges_each_quarter_from_the_reports_up_to_it(measure, reviewer):
    yearly = add(measure, 1, 4)
    add(measure, 3)  # due from the third quarter, never reported
    builders.report(yearly, 1, percent=25, reviewer=reviewer)
    builders.report(yearly, 2, percent=50, reviewer=reviewer)
    builders.report(yearly, 3, percent=100, status="done", reviewer=reviewer)

    trend = overview(measure.work_area.plan, 3, today=datetime.date(2024, 8, 15)).trend

    assert [b.key for b in trend] == [1, 2, 3]
    assert [b.label for b in trend] == ["第一季度", "第二季度", "第三季度"]
    assert [b.due for b in trend] == [1, 1, 2]
    assert [b.done for b in trend] == [0, 0, 1]
    assert [b.completion for b in trend] == [25, 50, 50]
    assert [b.expected for b in trend][:2] == [25, 50]


def test_the_trend_stops_at_the_reporting_quarter(measure, reviewer):
    yearly = add(measure, 1, 4)
    builders.report(yearly, 1, percent=25, reviewer=reviewer)
    builders.report(yearly, 2, percent=100, status="done", reviewer=reviewer)

    trend = overview(measure.work_area.plan, 1, today=IN_Q2_2024).trend

    assert [(b.key, b.completion, b.done) for b in trend] == [(1, 25, 0)]


# --- Timeliness per office ----------------------------------------------------------------


@pytest.fixture
def two_offices(measure, legal_office, reviewer, settings):
    """专利管理处: two first-quarter reports (one on its due date, one a day late) and a
    second-quarter milestone not reported. 法律事务处: one second-quarter report on time."""
    settings.REPORT_DUE_DAYS = 10  # first quarter due 2024-04-10, second 2024-07-10
    on_time = builders.report(add(measure, 1), 1, reviewer=reviewer)
    late = builders.report(add(measure, 1), 1, reviewer=reviewer)
    add(measure, 2)
    submitted_on(on_time, datetime.date(2024, 4, 10), hour=23)
    submitted_on(late, datetime.date(2024, 4, 11), hour=7)  # 2024-04-10 23:00 UTC: late
    legal = add_measure(measure.work_area, 2, legal_office)
    submitted_on(builders.report(add(legal, 2), 2, reviewer=reviewer), datetime.date(2024, 7, 1))
    return measure.work_area.plan


def test_timeliness_counts_missing_reports_days_late_and_the_on_time_rate(two_offices):
    rows = overview(two_offices, 2, today=datetime.date(2024, 7, 15)).timeliness

    patent, legal = rows  # the office with reports missing comes first
    assert patent.office.name == "专利管理处"
    assert (patent.missing, patent.days_late) == (1, 5)
    assert (patent.required, patent.on_time, patent.rate) == (3, 1, 33)
    assert legal.office.name == "法律事务处"
    assert (legal.missing, legal.days_late) == (0, 0)
    assert (legal.required, legal.on_time, legal.rate) == (1, 1, 100)


def test_a_missing_report_is_not_late_before_its_due_date(two_offices):
    rows = overview(two_offices, 2, today=datetime.date(2024, 7, 10)).timeliness

    patent = next(r for r in rows if r.office.name == "专利管理处")
    assert (patent.missing, patent.days_late) == (1, 0)
    assert patent.required == 2  # the second quarter's reports are not required yet


def test_an_office_with_nothing_due_yet_has_no_rate(measure):
    add(measure, 1)

    [row] = overview(measure.work_area.plan, 1, today=datetime.date(2024, 2, 1)).timeliness

    assert (row.missing, row.days_late, row.required, row.rate) == (1, 0, 0, None)


# --- Filters --------------------------------------------------------------------------------


def test_the_area_filter_keeps_that_work_areas_milestones(plan_2014):
    talent = WorkArea.objects.get(plan=plan_2014, numeral="七")  # measure 16 only

    data = overview(plan_2014, 2, today=IN_Q2_2014, area=talent.pk)

    assert {f.milestone.measure.number for f in data.figures} == {16}
    assert data.total.due == 2
    assert [b.label for b in data.by_area] == ["(七)专利人才体系建设"]


def test_the_office_filter_keeps_that_offices_milestones(plan_2014, patent_office):
    data = overview(plan_2014, 2, today=IN_Q2_2014, office=patent_office.pk)

    assert {f.milestone.measure.number for f in data.figures} == {3, 7, 8, 18, 19}
    assert [b.label for b in data.by_office] == ["专利管理处"]
    assert data.total.due == 8  # measures 3, 7, 8 and 18 have two each; 19 is unscheduled


def test_the_office_filter_finds_a_milestone_under_each_of_its_offices(plan_2014):
    related = Department.objects.get(name="相关处室")

    data = overview(plan_2014, 2, today=IN_Q2_2014, office=related.pk)

    assert {f.milestone.measure.number for f in data.figures} == {16}


@pytest.fixture
def every_status(measure, reviewer):
    """At the second quarter of 2024, one milestone for each thing a leader can ask for."""
    done = add(measure, 2, text="done")
    builders.report(done, 2, percent=100, status="done", reviewer=reviewer)
    on_track = add(measure, 2, 4, text="on_track")
    builders.report(on_track, 2, percent=40, reviewer=reviewer)
    behind = add(measure, 2, 4, text="behind")
    builders.report(behind, 2, percent=40, status="behind", reviewer=reviewer)
    add(measure, 1, text="overdue")
    returned = add(measure, 1, 4, text="returned")
    builders.report(returned, 1, percent=60, reviewer=reviewer)
    builders.report(returned, 2, percent=70, state="returned", reviewer=reviewer)
    submitted = add(measure, 2, text="submitted")
    builders.report(submitted, 2, percent=100, status="done", state="submitted")
    not_started = add(measure, 2, 4, text="not_started")
    builders.report(not_started, 2, percent=0, status="not_started", reviewer=reviewer)
    add(measure, 3, text="later")
    add(measure, None, text="phase")
    return measure.work_area.plan


@pytest.mark.parametrize(
    ("status", "milestones"),
    [
        ("due", {"done", "on_track", "behind", "overdue", "returned", "submitted", "not_started"}),
        ("done", {"done"}),
        ("in_progress", {"on_track", "returned"}),  # the returned one's Q1 report is approved
        ("not_started", {"not_started"}),  # approved 未开始 0%: not 进行中
        ("behind", {"behind"}),
        ("no_report", {"overdue", "submitted"}),  # nothing approved yet
        ("overdue", {"overdue"}),
        ("not_reported", {"returned"}),  # active this quarter, nothing submitted or approved
        ("red", {"behind", "overdue"}),
        ("yellow", {"returned", "submitted", "not_started"}),  # not_started: 0% < 序时 33%
        ("green", {"done", "on_track"}),
        ("unscheduled", {"phase"}),
    ],
)
def test_the_status_filter_keeps_the_milestones_in_that_status(every_status, status, milestones):
    data = overview(every_status, 2, today=IN_Q2_2024, status=status)

    assert {f.milestone.text for f in data.figures} == milestones


def test_every_status_filter_is_tested():
    tested = {"due", "done", "in_progress", "not_started", "behind", "no_report"}
    tested |= {"overdue", "not_reported"}
    # with ?unit=: test_leaders_figures.test_a_units_figures_list_its_milestones
    tested |= {"unit_due", "unit_made", "unit_late"}
    assert set(STATUS_FILTERS) == tested | {"red", "yellow", "green", "unscheduled"}


def test_the_status_filter_narrows_the_lists_never_the_figures(every_status):
    """A figure links to ?status=<figure>; following it must not change the figure."""
    everything = overview(every_status, 2, today=IN_Q2_2024)
    red = overview(every_status, 2, today=IN_Q2_2024, status="red")

    for data in (everything, red):
        t = data.total
        assert (t.due, t.red, t.yellow, t.green) == (7, 2, 3, 2)
        assert (t.done, t.in_progress, t.not_started, t.behind, t.no_report) == (1, 2, 1, 1, 2)
    assert len(everything.figures) == 9  # 7 due, one later, one unscheduled
    assert {f.milestone.text for f in red.figures} == {"behind", "overdue"}


def test_the_in_progress_filter_lists_what_the_in_progress_figure_counts(measure, reviewer):
    builders.report(add(measure, 2, 4), 2, percent=40, reviewer=reviewer)
    builders.report(add(measure, 2, 4), 2, percent=0, status="not_started", reviewer=reviewer)
    plan = measure.work_area.plan

    figure = overview(plan, 2, today=IN_Q2_2024).total.in_progress
    listed = overview(plan, 2, today=IN_Q2_2024, status="in_progress").figures

    assert figure == len(listed) == 1  # the 未开始 0% one is not 进行中


# --- A measure's grid ---------------------------------------------------------------------


def test_the_measure_grid_has_a_cell_per_quarter_with_its_report(measure, reviewer):
    yearly, third, phase = add(measure, 1, 4), add(measure, 3), add(measure, None)
    first = builders.report(yearly, 1, percent=30, reviewer=reviewer)
    second = builders.report(yearly, 2, percent=60, state="submitted")
    fourth = builders.report(yearly, 4, percent=100, status="done", reviewer=reviewer)

    grid = measure_grid(measure, 2, IN_Q2_2024)

    assert [f.milestone for f in grid] == [yearly, third, phase]
    cells = {f.milestone.pk: f.cells for f in grid}
    # (quarter, scheduled, report, what an empty cell says: owed by the quarter shown, or not)
    assert cells[yearly.pk] == [
        (1, True, first, ""),
        (2, True, second, ""),
        (3, True, None, ""),  # after the quarter shown: not owed yet
        (4, True, fourth, ""),
    ]
    assert cells[third.pk] == [
        (1, False, None, ""),
        (2, False, None, ""),
        (3, True, None, ""),
        (4, False, None, ""),
    ]
    assert cells[phase.pk] == [(q, False, None, "") for q in (1, 2, 3, 4)]


def test_the_measure_grid_marks_quarters_after_an_early_completion(measure, reviewer):
    span = add(measure, 1, 4)
    add(measure, 2)  # not reported by the third quarter
    builders.report(span, 1, percent=100, status="done", reviewer=reviewer)

    grid = measure_grid(measure, 3, datetime.date(2024, 8, 15))

    assert [cell[3] for cell in grid[0].cells] == ["", "done_earlier", "done_earlier", ""]
    assert [cell[3] for cell in grid[1].cells] == ["", "owed", "", ""]


def test_the_measure_grid_judges_at_the_chosen_quarter(measure, reviewer):
    yearly = add(measure, 1, 4)
    add(measure, 3)
    builders.report(yearly, 1, percent=30, reviewer=reviewer)
    builders.report(yearly, 4, percent=100, status="done", reviewer=reviewer)

    grid = measure_grid(measure, 2, IN_Q2_2024)

    assert [(f.light, f.percent, f.expected) for f in grid] == [
        ("yellow", 30, 50),  # the fourth quarter's report does not count at the second
        ("not_due", 0, 0),
    ]
