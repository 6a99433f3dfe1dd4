"""Issue #14: the leaders' figures pinned against hand-computed expectations (each written out
here, not read from the code): 未开始 is its own figure, 四舍五入 of exact averages, the
partition of 应完成 with its flags, done early is not demanded, the January default plan and
quarter, every number a link to exactly what it counts, names, the clock and the demo."""

import datetime
import html
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse

from departments import roles
from departments.models import Department
from departments.people import display_name
from plan.models import Measure, Milestone, Plan, WorkArea
from plantracker import clock
from tasks import dashboard, services
from tasks.dashboard import half_up, overview
from tasks.models import Contribution, ProgressReport, ReportVersion

from . import builders
from .conftest import make_user
from .test_dashboard_rules import add

IN_Q2_2024 = datetime.date(2024, 5, 15)
AFTER_Q2_DUE_2024 = datetime.date(2024, 7, 20)  # Q2 over and its reports due (10 July)


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


def texts(figures) -> set[str]:
    return {f.milestone.text for f in figures}


# --- 未开始 is its own figure -------------------------------------------------------------


def test_an_approved_not_started_milestone_is_counted_as_not_started_never_in_progress(
    measure, reviewer
):
    builders.report(add(measure, 2, 4, text="a"), 2, percent=40, reviewer=reviewer)
    builders.report(
        add(measure, 2, 4, text="b"), 2, percent=0, status="not_started", reviewer=reviewer
    )
    builders.report(add(measure, 2, text="c"), 2, percent=100, status="done", reviewer=reviewer)
    plan = measure.work_area.plan

    total = overview(plan, 2, today=IN_Q2_2024).total

    assert (total.due, total.done, total.in_progress, total.not_started) == (3, 1, 1, 1)
    assert texts(overview(plan, 2, today=IN_Q2_2024, status="in_progress").figures) == {"a"}
    assert texts(overview(plan, 2, today=IN_Q2_2024, status="not_started").figures) == {"b"}


# --- 四舍五入 from exact values, once, at the end ------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(133, 2), 67),  # 66.5: Python's round gives 66
        (Fraction(25, 2), 13),  # 12.5: round gives 12
        (Fraction(427, 5), 85),  # 85.4
        (Fraction(171, 2), 86),  # 85.5
        (Fraction(200, 3), 67),  # 66.67
        (Fraction(100, 3), 33),  # 33.33
        (Fraction(0), 0),
        (Fraction(100), 100),
    ],
)
def test_half_up(value, shown):
    assert half_up(value) == shown


def test_completion_of_66_and_a_half_shows_67(measure, reviewer):
    builders.report(add(measure, 2), 2, percent=33, reviewer=reviewer)
    builders.report(add(measure, 2), 2, percent=100, status="done", reviewer=reviewer)

    total = overview(measure.work_area.plan, 2, today=IN_Q2_2024).total

    assert total.completion == 67  # (33 + 100) / 2 = 66.5


def test_completion_of_12_and_a_half_shows_13(measure, reviewer):
    builders.report(add(measure, 2), 2, percent=25, reviewer=reviewer)
    builders.report(add(measure, 2), 2, percent=0, reviewer=reviewer)

    total = overview(measure.work_area.plan, 2, today=IN_Q2_2024).total

    assert total.completion == 13  # (25 + 0) / 2 = 12.5


def test_an_exact_average_of_85_point_4_shows_85(measure, reviewer):
    for _ in range(4):
        builders.report(add(measure, 2), 2, percent=100, status="done", reviewer=reviewer)
    builders.report(add(measure, 2), 2, percent=27, reviewer=reviewer)

    total = overview(measure.work_area.plan, 2, today=IN_Q2_2024).total

    assert total.completion == 85  # (4 × 100 + 27) / 5 = 85.4


def test_expected_progress_averages_exact_values_before_rounding(measure):
    add(measure, 1, 3)  # 序时进度 at Q2: 2/3 = 66.67% (67% on its own)
    add(measure, 1, 4)  # 2/4 = 50%

    data = overview(measure.work_area.plan, 2, today=IN_Q2_2024)

    assert [f.expected for f in data.figures] == [67, 50]
    # (66.67 + 50) / 2 = 58.33 → 58; rounding each first gave (67 + 50) / 2 = 58.5 → 59.
    assert data.total.expected == 58


# --- The tiles partition 应完成; overdue and not reported are flags across ---------------


@pytest.fixture
def mixed(measure, reviewer):
    """At the second quarter of 2024, seen on 20 July (Q2's reports due 10 July)."""
    done = add(measure, 1, text="done")
    builders.report(done, 1, percent=100, status="done", reviewer=reviewer)
    add(measure, 1, text="never")  # never reported, last quarter past
    behind = add(measure, 2, text="behind")
    builders.report(behind, 2, percent=30, status="behind", reviewer=reviewer)
    not_started = add(measure, 2, 4, text="not_started")
    builders.report(not_started, 2, percent=0, status="not_started", reviewer=reviewer)
    going = add(measure, 1, 4, text="going")
    builders.report(going, 1, percent=25, reviewer=reviewer)
    builders.report(going, 2, percent=50, state="submitted")
    draft = add(measure, 2, text="draft")
    builders.report(draft, 2, percent=80, state="draft")
    add(measure, 3, text="later")
    return measure.work_area.plan


def test_the_tiles_add_up_to_the_due_milestones(mixed):
    total = overview(mixed, 2, today=AFTER_Q2_DUE_2024).total

    assert total.due == 6  # all but "later"
    parts = (total.done, total.in_progress, total.not_started, total.behind, total.no_report)
    assert parts == (1, 1, 1, 1, 2)  # no_report: "never" and "draft"
    assert sum(parts) == total.due
    assert total.overdue == 3  # "never" (Q1), "behind" and "draft" (Q2 is over)
    assert total.not_reported == 1  # "draft": owed for Q2 and not submitted
    assert (total.red, total.yellow, total.green) == (3, 2, 1)
    # (100 + 0 + 30 + 0 + 25 + 0) / 6 = 25.83; 序时 (100 + 100 + 100 + 33.33 + 50 + 100) / 6
    assert (total.completion, total.expected) == (26, 81)


@pytest.mark.parametrize(
    ("status", "listed"),
    [
        ("done", {"done"}),
        ("in_progress", {"going"}),
        ("not_started", {"not_started"}),
        ("behind", {"behind"}),
        ("no_report", {"never", "draft"}),
        ("overdue", {"never", "behind", "draft"}),
        ("not_reported", {"draft"}),
    ],
)
def test_each_tile_lists_the_milestones_it_counts(mixed, status, listed):
    assert texts(overview(mixed, 2, today=AFTER_Q2_DUE_2024, status=status).figures) == listed


def test_the_page_says_what_each_figure_counts(client, leader, mixed):
    client.force_login(leader)

    content = client.get(f"{reverse('dashboard')}?plan={mixed.pk}&quarter=2").content.decode()

    legend = content.split('class="figure-legend', 1)[1].split("</details>", 1)[0]
    for term in ["应完成节点", "已完成", "进行中", "未开始", "滞后", "无审核通过报告", "已逾期"]:
        assert f"<dt>{term}</dt>" in legend
    assert "<dt>本季度未填报</dt>" in legend
    assert "五类之和等于应完成节点数" in legend
    assert 'title="最近一次审核通过的报告为“未开始”。"' in content  # the tile's tooltip


# --- Done is done -----------------------------------------------------------------------


@pytest.fixture
def done_early(measure, reviewer):
    """A 第一--四季度 milestone approved 已完成 100% in the third quarter, and a fourth-quarter
    one nobody reported."""
    span = add(measure, 1, 4, text="span")
    builders.report(span, 1, percent=25, reviewer=reviewer)
    builders.report(span, 2, percent=50, reviewer=reviewer)
    builders.report(span, 3, percent=100, status="done", reviewer=reviewer)
    add(measure, 4, text="q4")
    return measure


def test_a_span_done_early_is_not_owed_later(done_early):
    plan = done_early.work_area.plan

    data = overview(plan, 4, today=datetime.date(2025, 1, 20))
    span = next(f for f in data.figures if f.milestone.text == "span")

    assert span.done and span.light == "green" and not span.overdue
    assert not span.owed and not span.not_reported
    assert data.total.not_reported == 1  # "q4" only
    assert texts(
        overview(plan, 4, today=datetime.date(2025, 1, 20), status="not_reported").figures
    ) == {"q4"}
    (office,) = data.timeliness
    assert (office.missing, office.required) == (1, 4)  # span Q1–Q3 and q4; not span's Q4


def test_the_workspace_does_not_ask_for_a_span_done_early(done_early, patent_office):
    user = builders.office_user(patent_office)
    plan = done_early.work_area.plan

    (group,) = services.workspace(user, plan, 4, datetime.date(2025, 1, 20))
    rows = {row.milestone.text: row for row in group.rows}

    assert rows["span"].state == "done_earlier" and rows["span"].done_in == 3
    assert not rows["span"].pending and not rows["span"].overdue
    assert rows["q4"].pending and rows["q4"].overdue
    assert [r.milestone.text for r in services.pending_rows([group])] == ["q4"]


def test_reminders_do_not_ask_for_a_span_done_early(done_early, patent_office, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = builders.office_user(patent_office)
    user.email = "staff@example.com"
    user.save()

    call_command("send_reminders", date="2025-01-03")  # 7 days before Q4 is due (10 January)

    (message,) = mail.outbox
    assert "节点2" in message.body  # q4
    assert "节点1" not in message.body  # the span, done in Q3


def test_owes_report_reads_only_earlier_approved_done_reports(done_early):
    span = done_early.milestones.get(text="span")
    reports = list(span.reports.all())

    assert services.owes_report(span, 3, reports)  # done IN Q3: the Q3 report was owed
    assert not services.owes_report(span, 4, reports)
    assert services.done_in(span, 4, reports) == 3
    assert not services.owes_report(span, 5, reports)  # not scheduled


# --- The January problem ------------------------------------------------------------------


@pytest.fixture
def next_year(plan_2014, patent_office):
    """The 2015 plan, loaded in December 2014 while 2014's fourth quarter is still reported."""
    bureau = Department.objects.get(name="重庆市知识产权局")
    plan = Plan.objects.create(year=2015, title="重庆市2015年推进计划", issuer=bureau)
    area = WorkArea.objects.create(plan=plan, numeral="一", title="领域", order=1)
    one = Measure.objects.create(
        work_area=area, number=1, title="措施", goal="目标", executing_department=bureau
    )
    one.responsible_offices.add(patent_office)
    Milestone.objects.create(
        measure=one, order=1, label="第一季度", first_quarter=1, last_quarter=1, text="x"
    )
    return plan


@pytest.fixture
def on(settings):
    def set_today(day: str):
        settings.DEBUG = True
        settings.DEMO_DATE = day

    return set_today


@pytest.mark.parametrize(
    ("today", "year", "quarter"),
    [
        ("2015-01-05", 2014, 4),  # 2014's fourth quarter is due on 10 January
        ("2015-01-10", 2014, 4),
        ("2015-01-11", 2015, 1),
        ("2014-12-20", 2014, 4),
    ],
)
def test_pages_open_on_the_plan_and_quarter_with_work_due(
    client, leader, staff, next_year, on, today, year, quarter
):
    on(today)
    for user, name in [(leader, "dashboard"), (staff, "my-work")]:
        client.force_login(user)
        response = client.get(reverse(name))
        assert (response.context["plan"].year, response.context["quarter"]) == (year, quarter)


def test_the_review_queue_shows_waiting_reports_of_every_plan(
    client, reviewer, staff, next_year, plan_2014, on
):
    on("2015-01-05")
    late = builders.report(Milestone.objects.get(measure__number=2, order=4), 4, state="submitted")
    early = builders.report(
        next_year.work_areas.get().measures.get().milestones.get(), 1, state="submitted"
    )
    client.force_login(reviewer)

    response = client.get(reverse("review-queue"))

    assert {r.pk for r in response.context["reports"]} == {late.pk, early.pk}
    content = response.content.decode()
    assert "没有待审核的报告" not in content and "2014年" in content and "2015年" in content
    only_2015 = client.get(reverse("review-queue"), {"plan": next_year.pk})
    assert [r.pk for r in only_2015.context["reports"]] == [early.pk]


def test_picked_prefers_the_plan_being_reported_on(plan_2014, next_year):
    assert Plan.objects.picked("", datetime.date(2015, 1, 5)) == plan_2014
    assert Plan.objects.picked("", datetime.date(2015, 2, 1)) == next_year
    assert Plan.objects.picked("", datetime.date(2031, 2, 1)) == next_year  # no 2031 plan: newest
    assert Plan.objects.picked(str(plan_2014.pk), datetime.date(2015, 2, 1)) == plan_2014


# --- Every number a link to exactly the milestones it counts --------------------------------

NUMBER_LINK = re.compile(
    r'<a [^>]*data-figure="(\w+)" href="\?([^"]*)"[^>]*>(?:<span class="n">)?(?:● \S+ )?(\d+)(%?)'
)


def listed(client, query: str) -> int:
    content = client.get(f"{reverse('dashboard')}?{query}").content.decode()
    table = content.split('id="all-milestones"', 1)[1].split("</table>", 1)[0]
    return len(re.findall(r'data-milestone="\d+"', table))


def test_every_number_links_to_exactly_the_milestones_it_counts(
    client, leader, plan_2014, reviewer
):
    def milestone(number, order):
        return Milestone.objects.get(measure__number=number, order=order)

    builders.report(milestone(2, 1), 1, percent=100, status="done", reviewer=reviewer)
    builders.report(milestone(3, 2), 2, percent=60, reviewer=reviewer)
    builders.report(milestone(4, 1), 1, percent=20, status="behind", reviewer=reviewer)
    builders.report(milestone(9, 2), 2, percent=0, status="not_started", reviewer=reviewer)
    builders.report(milestone(7, 2), 2, percent=40, state="returned", reviewer=reviewer)
    helped = Milestone.objects.filter(
        measure__cooperating_units__generic=False, first_quarter__lte=2, last_quarter__gte=2
    ).first()
    unit = helped.measure.cooperating_units.filter(generic=False).first()
    services.save_contribution(
        user=make_user("quxian", roles.UNIT, unit),
        milestone=helped,
        quarter=2,
        base_version=0,
        text="配合开展宣传。",
        figures="",
    )
    client.force_login(leader)
    page = client.get(f"{reverse('dashboard')}?plan={plan_2014.pk}&quarter=2").content.decode()

    links = [
        (figure, html.unescape(query), int(number), percent)
        for figure, query, number, percent in NUMBER_LINK.findall(page)
    ]
    assert len(links) > 150  # headline, work areas, offices, trend, timeliness and units
    assert {"unit_due", "unit_made", "unit_late"} <= {figure for figure, *_ in links}
    counted = {}
    for figure, query, number, _percent in links:
        params = parse_qs(query)
        assert all(len(values) == 1 for values in params.values()), query  # each key once
        assert params["plan"] == [str(plan_2014.pk)]
        if figure not in ("completion", "expected"):
            counted.setdefault(query, set()).add(number)
    for query, numbers in counted.items():
        assert len(numbers) == 1, query  # the same list never stands for two numbers
        assert listed(client, query) == numbers.pop(), query
    # A percentage links to the milestones it averages: those of its row's 应完成.
    for figure, query, _number, percent in links:
        if figure in ("completion", "expected"):
            assert percent == "%" and "status=due" in query and query in counted
    # The trend's rows link to their own quarter; everything else to the page's quarter.
    quarters = {parse_qs(q)["quarter"][0] for _f, q, _n, _p in links}
    assert quarters == {"1", "2"}


def test_an_offices_row_lists_its_due_milestones_not_its_year(
    client, leader, plan_2014, patent_office
):
    client.force_login(leader)
    page = client.get(f"{reverse('dashboard')}?plan={plan_2014.pk}&quarter=1").content.decode()

    offices = page.split("<h2>按责任处室</h2>", 1)[1]
    row = offices.split(f'<tr data-key="{patent_office.pk}">', 1)[1].split("</tr>", 1)[0]
    figure, query, number, _ = NUMBER_LINK.findall(row)[0]

    assert figure == "due"
    # 3.1, 7.1, 8.1 and 18.1 are its first-quarter milestones; it has 10 scheduled in the year.
    assert listed(client, html.unescape(query)) == int(number) == 4
    assert html.unescape(query).count("office=") == 1


@pytest.mark.parametrize(
    ("status", "listed"),
    [
        ("unit_due", {"helped", "not_helped"}),  # its measures' milestones of the quarter
        ("unit_made", {"helped"}),
        ("unit_late", {"not_helped"}),  # nothing by the due date (10 July)
        ("due", {"helped", "not_helped", "earlier"}),  # the page's figures: the unit's measures
    ],
)
def test_a_units_figures_list_its_milestones(measure, status, listed):
    unit = Department.objects.get(name="各区县(自治县)知识产权局")
    measure.cooperating_units.add(unit)
    helped = add(measure, 2, text="helped")
    add(measure, 2, 4, text="not_helped")
    add(measure, 1, text="earlier")
    add(measure, 3, text="later")
    on_time = datetime.datetime(2024, 7, 1, 10, tzinfo=datetime.UTC)  # due 10 July
    with clock.travel(on_time):
        services.save_contribution(
            user=make_user("quxian", roles.UNIT, unit),
            milestone=helped,
            quarter=2,
            base_version=0,
            text="配合。",
            figures="",
        )
    plan = measure.work_area.plan
    today = datetime.date(2024, 7, 20)

    data = overview(plan, 2, today=today, unit=unit.pk, status=status)

    assert texts(data.figures) == listed
    (row,) = [u for u in dashboard.unit_contributions(plan, 2, today) if u.unit == unit]
    assert (row.due, row.made, row.late) == (2, 1, 1)  # the table's row, same counts


# --- Vocabulary and the past plan -----------------------------------------------------------


def test_a_past_plan_shows_no_count_of_days_late(client, leader, plan_2014):
    client.force_login(leader)

    content = client.get(f"{reverse('dashboard')}?plan={plan_2014.pk}&quarter=4").content.decode()

    assert not re.search(r"逾期 \d+ 天", content)
    assert "逾期未报" in content
    assert "2014年第四季度" in content
    assert not re.search(r"第\d季度", content)  # quarters are written 第一季度 … 第四季度


# --- The office's quarter summary ---------------------------------------------------------


def test_the_office_summary_lists_its_due_milestones_with_bounded_queries(
    client, leader, plan_2014, patent_office, django_assert_max_num_queries
):
    client.force_login(leader)
    url = reverse("dashboard-office", args=[plan_2014.pk, patent_office.pk]) + "?quarter=2"

    # session, user with roles (one query), plan, office, the form's work areas and offices,
    # then the dashboard's three (milestones, offices, reports)
    with django_assert_max_num_queries(9):
        response = client.get(url)

    assert response.status_code == 200
    data = response.context["data"]
    assert data.total.due == 8  # measures 3, 7, 8 and 18: two milestones each by Q2
    assert len(data.figures) == 8
    assert "专利管理处 2014年第二季度推进情况" in response.content.decode()


def test_the_office_summary_is_for_leaders_reviewers_and_admins(
    client, staff, plan_2014, patent_office
):
    client.force_login(staff)

    response = client.get(reverse("dashboard-office", args=[plan_2014.pk, patent_office.pk]))

    assert response.status_code == 403


# --- People by name -----------------------------------------------------------------------


def test_people_are_named_by_name_and_office(staff, patent_office, reviewer):
    staff.first_name, staff.last_name = "三", "张"
    assert display_name(staff) == "张三(专利管理处)"  # a Chinese name: family name first
    patent_office.members.create(username="zhuanli", first_name="专利管理处")
    assert display_name(patent_office.members.get(username="zhuanli")) == "专利管理处"
    assert display_name(reviewer) == reviewer.username  # no name, no office: the login


def test_history_names_the_reviewer_not_the_office(client, reviewer, staff):
    reviewer.first_name = "王审核"
    reviewer.save()
    report = builders.report(
        Milestone.objects.get(measure__number=3, order=1), 1, reviewer=reviewer
    )
    client.force_login(reviewer)

    content = client.get(reverse("report-detail", args=[report.pk])).content.decode()

    assert "<td>王审核</td>" in content


def test_a_stale_save_names_the_reviewer_and_says_behind_in_chinese(client, staff, reviewer):
    reviewer.first_name = "王审核"
    reviewer.save()
    milestone = Milestone.objects.get(measure__number=3, order=1)
    builders.report(milestone, 1, percent=40, reviewer=reviewer)  # v1 submitted, v2 approved
    client.force_login(staff)

    response = client.post(
        reverse("report-edit", args=[milestone.pk, 1]),
        {"version": 1, "status": "behind", "percent": 30, "done_text": "改。", "save": ""},
    )

    content = response.content.decode()
    assert "最新版本(第2版,王审核)" in content  # the reviewer's version, not the office's
    assert "保存未成功:王审核 已于" in content
    unsaved = content.split('class="card unsaved"', 1)[1].split("</dl>", 1)[0]
    assert "滞后 · 30%" in unsaved and "behind" not in unsaved


# --- The clock and the demo ---------------------------------------------------------------


def test_the_demo_date_is_the_clocks_today(settings):
    settings.DEBUG = True
    settings.DEMO_DATE = "2014-09-20"

    assert clock.today() == datetime.date(2014, 9, 20)
    assert clock.now().date() == datetime.date(2014, 9, 20)


def test_the_demo_date_is_refused_with_debug_off(settings):
    settings.DEBUG = False
    settings.DEMO_DATE = "2014-09-20"

    with pytest.raises(ImproperlyConfigured):
        clock.today()


def test_the_settings_refuse_a_demo_date_with_debug_off():
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 50,
        "PLANTRACKER_DEMO_DATE": "2014-09-20",
        "DJANGO_SETTINGS_MODULE": "plantracker.settings",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(Path(__file__).resolve().parent.parent),
        check=False,
    )
    assert result.returncode != 0
    assert "PLANTRACKER_DEMO_DATE is refused when DJANGO_DEBUG is off" in result.stderr


def test_the_settings_refuse_a_demo_date_that_is_not_a_date():
    env = {
        "DJANGO_DEBUG": "true",
        "PLANTRACKER_DEMO_DATE": "2014-02-30",
        "DJANGO_SETTINGS_MODULE": "plantracker.settings",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(Path(__file__).resolve().parent.parent),
        check=False,
    )
    assert result.returncode != 0
    assert "PLANTRACKER_DEMO_DATE must be a date, YYYY-MM-DD, not '2014-02-30'" in result.stderr


def test_travel_sets_the_clock_inside_the_block_only():
    moment = datetime.datetime(2014, 4, 3, 9, 30, tzinfo=datetime.UTC)
    before = clock.today()
    with clock.travel(moment):
        assert clock.now() == moment
        assert clock.today() == datetime.date(2014, 4, 3)
    assert clock.today() == before


@pytest.fixture
def demo_loaded(settings, plan_2014):
    settings.DEBUG = True
    call_command("create_demo_users", password="demo-password-1")
    call_command("load_demo", date="2014-09-20")
    return plan_2014


def test_the_demo_writes_a_year_of_sample_progress_through_the_services(demo_loaded):
    reports = ProgressReport.objects.of_plan(demo_loaded)

    states = set(reports.values_list("state", flat=True))
    assert states == {"draft", "submitted", "returned", "approved"}
    assert all(r.done_text.startswith("【示例数据】") for r in reports)
    # Through the services: every report has its history, returns included.
    assert not reports.filter(versions__isnull=True).exists()
    assert ReportVersion.objects.filter(event="returned").exists()
    assert reports.filter(quarter=1).exists() and not reports.filter(quarter=4).exists()
    assert not reports.filter(updated_at__date__gt=datetime.date(2014, 9, 20)).exists()
    data = overview(demo_loaded, 3, today=datetime.date(2014, 9, 20))
    t = data.total
    assert t.red and t.yellow and t.green  # the demo shows all three lights
    assert any(row.on_time < row.required for row in data.timeliness)  # a few late offices
    assert Contribution.objects.filter(text__startswith="【示例数据】").exists()


def test_the_demo_loads_once_and_is_refused_with_debug_off(demo_loaded, settings, capsys):
    count = ProgressReport.objects.count()
    call_command("load_demo", date="2014-09-20")
    assert ProgressReport.objects.count() == count
    assert "already has reports" in capsys.readouterr().out
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused when DEBUG is off"):
        call_command("load_demo", date="2014-09-20")


def test_the_tests_never_load_the_demo_unless_asked(plan_2014):
    assert not ProgressReport.objects.exists()
