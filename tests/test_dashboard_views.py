"""The leaders' dashboard pages: who may see them (and that leaders write nothing), the Excel
download with formula-safe text, charts with their figures as tables, figures that link to the
milestones behind them, invalid filters ignored, and queries bounded whatever the data's size.

The pages judge at the real date, so for the 2014 plan every quarter is over; the tests ask for
the second quarter (?quarter=2) and compare with tasks.dashboard's figures for it."""

import html
import re
from html.parser import HTMLParser
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from departments import roles
from departments.models import Department
from plan.models import Measure, Milestone, Plan
from spreadsheets import writing as xlsx
from tasks import services
from tasks.models import ProgressReport, ReportVersion

from . import builders
from .test_plan_views import enlarge

DASHBOARD_PAGES = ["dashboard", "dashboard-xlsx", "dashboard-measure"]
SHEETS = ["总览", "按工作领域", "按责任处室", "季度趋势", "填报及时性", "进度节点", "较上季度变化"]


def milestone_2014(measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in the 2014 plan."""
    return Milestone.objects.get(measure__number=measure, order=order)


def url(name: str, plan: Plan, query: str = "quarter=2") -> str:
    if name == "dashboard-measure":
        measure = Measure.objects.get(work_area__plan=plan, number=3)
        return f"{reverse(name, args=[measure.pk])}?{query}"
    return f"{reverse(name)}?plan={plan.pk}&{query}"


@pytest.fixture
def second_quarter(plan_2014, reviewer):
    """Reports of the 2014 plan: done, in progress and behind (approved), one returned, one
    submitted at 100%, one draft."""
    builders.report(milestone_2014(2, 1), 1, percent=100, status="done", reviewer=reviewer)
    builders.report(milestone_2014(2, 2), 2, percent=100, status="done", reviewer=reviewer)
    builders.report(milestone_2014(3, 2), 2, percent=60, reviewer=reviewer)
    builders.report(milestone_2014(4, 1), 1, percent=20, status="behind", reviewer=reviewer)
    builders.report(milestone_2014(7, 2), 2, percent=40, state="returned", reviewer=reviewer)
    builders.report(milestone_2014(8, 2), 2, percent=100, status="done", state="submitted")
    builders.report(milestone_2014(16, 1), 1, percent=100, status="done", reviewer=reviewer)
    builders.report(milestone_2014(22, 2), 2, percent=30, state="draft")
    return plan_2014


# --- Who may see the dashboards -----------------------------------------------------------


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
@pytest.mark.parametrize("persona", ["leader", "reviewer", "admin_user"])
def test_leaders_reviewers_and_admins_see_the_dashboards(client, request, plan_2014, persona, name):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(url(name, plan_2014))

    assert response.status_code == 200


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
@pytest.mark.parametrize("persona", ["staff", "other_staff"])
def test_office_staff_may_not_see_the_dashboards(client, request, plan_2014, persona, name):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(url(name, plan_2014))

    assert response.status_code == 403


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_an_anonymous_visitor_is_sent_to_login(client, plan_2014, name):
    response = client.get(url(name, plan_2014))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_leader_cannot_write_a_report(client, leader):
    milestone = milestone_2014(3, 1)
    client.force_login(leader)

    response = client.post(
        reverse("report-edit", args=[milestone.pk, 1]),
        {"version": 0, "status": "done", "percent": 100, "done_text": "已完成。", "submit": "1"},
    )

    assert response.status_code == 403
    assert not ProgressReport.objects.exists()
    assert not ReportVersion.objects.exists()


def test_a_leader_cannot_review_a_report(client, leader):
    report = builders.report(milestone_2014(3, 1), 1, state="submitted")
    client.force_login(leader)

    response = client.post(
        reverse("report-review", args=[report.pk]),
        {"version": report.version, "approve": "1", "comment": ""},
    )

    assert response.status_code == 403
    unchanged = ProgressReport.objects.get(pk=report.pk)
    assert (unchanged.state, unchanged.version) == ("submitted", report.version)
    assert unchanged.versions.count() == 1  # only the office's submission


@pytest.mark.parametrize("path", ["/admin/", "/admin/tasks/progressreport/"])
def test_a_leader_has_no_access_to_the_admin(client, leader, path):
    client.force_login(leader)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Filters in the query string ----------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "quarter=9",
        "quarter=abc",
        "area=abc",
        "area=99999",
        "area=99999999999999999999999",
        "office=abc",
        "office=99999",
        "status=bogus",
        "plan=abc&quarter=2",
        "plan=99999&quarter=2",
        "plan=99999999999999999999999&quarter=2",
    ],
)
def test_invalid_filter_values_are_ignored(client, leader, plan_2014, query):
    client.force_login(leader)
    unfiltered = client.get(f"{reverse('dashboard')}?quarter=2").context["data"].total

    page = client.get(f"{reverse('dashboard')}?quarter=2&{query}")
    download = client.get(f"{reverse('dashboard-xlsx')}?quarter=2&{query}")
    measure = client.get(url("dashboard-measure", plan_2014, query))

    assert (page.status_code, download.status_code, measure.status_code) == (200, 200, 200)
    if "quarter" not in query:
        assert page.context["data"].total == unfiltered


def test_a_plan_value_of_unicode_digits_is_ignored(client, leader, plan_2014):
    client.force_login(leader)
    client.raise_request_exception = False  # a crash is a 500 page, as in production

    response = client.get(f"{reverse('dashboard')}?plan=%C2%B2")

    assert response.status_code == 200


def test_the_filters_narrow_the_page(client, leader, second_quarter, patent_office):
    client.force_login(leader)

    page = client.get(url("dashboard", second_quarter, f"quarter=2&office={patent_office.pk}"))

    data = page.context["data"]
    assert {f.milestone.measure.number for f in data.figures} == {3, 7, 8, 18, 19}
    assert [b.label for b in data.by_office] == ["专利管理处"]


def test_the_filter_note_names_the_status_shown(client, leader, plan_2014):
    client.force_login(leader)

    response = client.get(url("dashboard", plan_2014, "quarter=2&status=done"))

    assert "下方列表只显示“已完成”的进度节点;上方数字不受此筛选影响。" in response.content.decode()


# --- The Excel download -------------------------------------------------------------------


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.XLSX_TYPE
    return load_workbook(BytesIO(response.content))


def test_the_download_opens_with_the_dashboards_sheets(client, leader, second_quarter):
    client.force_login(leader)

    response = client.get(url("dashboard-xlsx", second_quarter))

    book = workbook(response)
    assert book.sheetnames == SHEETS
    assert "dashboard-2014-q2.xlsx" in response["Content-Disposition"]
    figures = {row[0]: row[1] for row in book["总览"].iter_rows(min_row=2, values_only=True)}
    assert (figures["应完成节点"], figures["已完成"], figures["滞后"]) == (33, 3, 1)
    assert figures["填报季度"] == "第二季度"
    assert book["按工作领域"].max_row == 1 + 11  # a header and a row per work area
    assert book["季度趋势"].max_row == 1 + 2
    assert book["进度节点"].max_row == 1 + 61


def test_text_that_looks_like_a_formula_comes_out_escaped(client, leader, second_quarter):
    texts = ['=HYPERLINK("http://example.com","点击")', "+1+1", "-2+3", "@SUM(A1:A9)"]
    for order, text in enumerate(texts, start=1):
        Milestone.objects.filter(measure__number=2, order=order).update(text=text)
    Milestone.objects.filter(measure__number=3, order=1).update(label="=1+1")
    Plan.objects.filter(pk=second_quarter.pk).update(title="=1+2")
    Department.objects.filter(name="相关处室").update(name="@相关处室")
    builders.report(milestone_2014(3, 1), 1, state="submitted", text="=cmd|' /C calc'!A0")
    client.force_login(leader)

    book = workbook(client.get(url("dashboard-xlsx", second_quarter)))

    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [
        c.value
        for c in cells
        if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))
    ]
    milestone_texts = [row[3] for row in book["进度节点"].iter_rows(min_row=2, values_only=True)]
    assert milestone_texts[:4] == ["'" + text for text in texts]
    assert "'=1+1" in [row[2] for row in book["进度节点"].iter_rows(values_only=True)]
    assert {row[0]: row[1] for row in book["总览"].iter_rows(values_only=True)}["计划"] == "'=1+2"
    assert "'@相关处室" in [row[0] for row in book["按责任处室"].iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 23 1234", "'+86 23 1234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("第二--四季度", "第二--四季度"),
        ("a=1", "a=1"),
        (-5, -5),
        (3.5, 3.5),
        (0, 0),
        (None, None),
    ],
)
def test_safe_escapes_formula_text_and_keeps_numbers(value, written):
    assert xlsx.safe(value) == written
    assert type(xlsx.safe(value)) is type(written)


# --- Charts and their tables --------------------------------------------------------------


class ChartsAndTables(HTMLParser):
    """Each <svg> chart of a page with the <table> that follows it: the chart's <text>
    elements (class, text) and the table's rows (cells' text)."""

    def __init__(self):
        super().__init__()
        self.charts: list[dict] = []
        self._in: str | None = None
        self._text_class: str | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.charts.append({"texts": [], "rows": None})
            self._in = "svg"
        elif tag == "text" and self._in == "svg":
            self._text_class = dict(attrs).get("class")
        elif tag == "table" and self.charts and self.charts[-1]["rows"] is None:
            self.charts[-1]["rows"] = []
            self._in = "table"
        elif tag == "tr" and self._in == "table":
            self.charts[-1]["rows"].append([])
        elif tag in ("td", "th") and self._in == "table":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("svg", "table"):
            self._in = None
        elif tag == "text":
            self._text_class = None
        elif tag in ("td", "th") and self._cell is not None:
            self.charts[-1]["rows"][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._text_class:
            self.charts[-1]["texts"].append((self._text_class, data.strip()))
        elif self._cell is not None:
            self._cell += data

    @classmethod
    def of(cls, content: bytes) -> list[dict]:
        parser = cls()
        parser.feed(content.decode())
        return parser.charts


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def test_every_chart_has_its_figures_in_a_table(client, leader, second_quarter):
    client.force_login(leader)

    response = client.get(url("dashboard", second_quarter))

    data = response.context["data"]
    area, office, trend = ChartsAndTables.of(response.content)
    for chart, buckets in [(area, data.by_area), (office, data.by_office)]:
        drawn = [numbers(text) for kind, text in chart["texts"] if kind == "bar-value"]
        labels = [text.rstrip("…") for kind, text in chart["texts"] if kind == "bar-label"]
        header, *rows = chart["rows"]
        assert header[8:10] == ["完成率", "序时进度"]
        assert drawn == [numbers(row[8] + row[9]) for row in rows]  # completion, 序时进度
        assert drawn == [[b.completion, b.expected] for b in buckets]
        assert all(row[0].startswith(label) for row, label in zip(rows, labels, strict=True))
    values = [numbers(text)[0] for kind, text in trend["texts"] if kind == "col-value"]
    labels = [text for kind, text in trend["texts"] if kind == "col-label"]
    header, *rows = trend["rows"]
    assert list(zip(values[::2], values[1::2], strict=True)) == [
        (int(row[8].rstrip("%")), int(row[9].rstrip("%"))) for row in rows
    ]
    assert labels == [row[0] for row in rows] == ["第一季度", "第二季度"]
    assert any(values), "the charts draw some progress"


# --- Each number is a link ----------------------------------------------------------------

HEADLINE = re.compile(
    r'<a class="figure[^"]*" data-figure="\w+" href="\?([^"]*)"[^>]*><span class="n">(\d+)</span>'
)
LIGHT = re.compile(r'<a class="light \w+" data-figure="\w+" href="\?([^"]*)"[^>]*>● \w+ (\d+)</a>')


def headline_links(content: bytes) -> dict[str, tuple[str, int]]:
    """The headline figures' links by the status they ask for ("" for none): (query, number)."""
    found = HEADLINE.findall(content.decode()) + LIGHT.findall(content.decode())
    result = {}
    for query, number in found:
        query = html.unescape(query)
        status = re.search(r"status=(\w+)", query)
        result[status.group(1) if status else ""] = (query, int(number))
    return result


def listed(client, query: str) -> list[int]:
    """The milestones the page lists under 全部进度节点 for a query string."""
    content = client.get(f"{reverse('dashboard')}?{query}").content.decode()
    table = content.split('id="all-milestones"', 1)[1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r'data-milestone="(\d+)"', table)]


def test_each_headline_figure_links_to_its_status(client, leader, second_quarter):
    client.force_login(leader)

    response = client.get(url("dashboard", second_quarter))

    total = response.context["data"].total
    links = headline_links(response.content)
    assert {status: number for status, (query, number) in links.items()} == {
        "due": total.due,
        "done": total.done,
        "in_progress": total.in_progress,
        "not_started": total.not_started,
        "behind": total.behind,
        "no_report": total.no_report,
        "overdue": total.overdue,
        "not_reported": total.not_reported,
        "red": total.red,
        "yellow": total.yellow,
        "green": total.green,
    }
    assert all(f"plan={second_quarter.pk}" in q and "quarter=2" in q for q, n in links.values())


def test_following_the_done_link_lists_exactly_the_done_milestones(client, leader, second_quarter):
    client.force_login(leader)
    query, number = headline_links(client.get(url("dashboard", second_quarter)).content)["done"]

    shown = listed(client, query)

    done = [milestone_2014(2, 1), milestone_2014(2, 2), milestone_2014(16, 1)]
    assert number == 3
    assert sorted(shown) == sorted(m.pk for m in done)


@pytest.mark.parametrize("status", ["in_progress", "behind", "overdue", "not_reported", "red"])
def test_following_a_status_link_lists_as_many_milestones_as_its_figure(
    client, leader, second_quarter, status
):
    client.force_login(leader)
    query, number = headline_links(client.get(url("dashboard", second_quarter)).content)[status]

    assert len(listed(client, query)) == number


def test_the_in_progress_link_lists_the_not_started_milestones_it_counts(
    client, leader, second_quarter, reviewer
):
    builders.report(milestone_2014(9, 2), 2, percent=0, status="not_started", reviewer=reviewer)
    client.force_login(leader)
    links = headline_links(client.get(url("dashboard", second_quarter)).content)
    query, number = links["in_progress"]

    assert len(listed(client, query)) == number


def test_the_due_figure_links_to_the_due_milestones(client, leader, second_quarter):
    client.force_login(leader)
    query, number = headline_links(client.get(url("dashboard", second_quarter)).content)["due"]

    assert len(listed(client, query)) == number


# --- Bounded queries ----------------------------------------------------------------------

# session, the user with his roles and departments (one query, departments.backends), the
# plan (?plan=; the form's plan field asks none), its work areas and offices (the filters'
# choices), then tasks.dashboard's three: milestones with measures and work areas, their
# responsible offices, their reports up to the quarter.
XLSX_QUERIES = 8
# the same, the plans for the plan selector (one query, the year's), and the cooperating
# units' table: the units of the quarter's milestones, the quarter's contributions; and the
# supervision panel's one (instructions and escalated urgings counted in subqueries).
OVERVIEW_QUERIES = 12
# session, user with roles, the measure with its plan, its actions, its offices, the work
# areas and offices (the filters' choices), then the dashboard's three for the measure's
# milestones, and the measure's instructions (supervision).
MEASURE_QUERIES = 11


@pytest.fixture(params=[1, 20], ids=["1x", "20x"])
def sized_plan(request, plan_2014, reviewer):
    """The 2014 plan at 1× or 20× its measures, each copy with reports: an approved one for
    every milestone of the first quarter, a submitted one for every milestone active in the
    second."""
    enlarge(plan_2014, request.param)
    for milestone in Milestone.objects.filter(measure__work_area__plan=plan_2014):
        if milestone.first_quarter == 1:
            builders.report(milestone, 1, percent=100, status="done", reviewer=reviewer)
        elif milestone.first_quarter == 2:
            builders.report(milestone, 2, percent=50, state="submitted")
    assert ProgressReport.objects.count() == 33 * request.param
    return plan_2014


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("dashboard", OVERVIEW_QUERIES),
        ("dashboard-xlsx", XLSX_QUERIES),
        ("dashboard-measure", MEASURE_QUERIES),
    ],
)
def test_the_dashboards_queries_do_not_grow_with_the_data(
    client, leader, sized_plan, django_assert_max_num_queries, name, bound
):
    client.force_login(leader)
    address = url(name, sized_plan)

    with django_assert_max_num_queries(bound):
        response = client.get(address)

    assert response.status_code == 200


def test_the_enlarged_plan_shows_every_copy(client, leader, plan_2014, reviewer):
    enlarge(plan_2014, 20)
    client.force_login(leader)

    response = client.get(url("dashboard", plan_2014))

    assert response.context["data"].total.due == 33 * 20


# --- A measure's page ---------------------------------------------------------------------


def test_the_measure_page_shows_each_quarters_report(client, leader, plan_2014, reviewer):
    approved = builders.report(
        milestone_2014(3, 1), 1, percent=100, status="done", reviewer=reviewer
    )
    submitted = builders.report(milestone_2014(3, 2), 2, percent=40, state="submitted")
    client.force_login(leader)

    response = client.get(url("dashboard-measure", plan_2014))

    content = response.content.decode()
    assert reverse("report-detail", args=[approved.pk]) in content
    assert reverse("report-detail", args=[submitted.pk]) in content
    first, second, span = response.context["figures"]  # 第一季度, 第二季度, 第三--四季度
    assert [cell[1] for cell in span.cells] == [False, False, True, True]
    assert (first.light, second.light, span.light) == ("green", "red", "not_due")


def test_services_still_refuse_a_leader(leader):
    assert not services.may_write_report(leader, milestone_2014(3, 1))
    assert not services.may_review(leader)
    assert roles.may_view_dashboard(leader)
