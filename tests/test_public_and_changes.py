"""Transparency: the public progress page and what changed between two quarters.

The public page (/public/plans/<pk>/) shows a published plan with each milestone's approved
status and percent per quarter, to anyone, without a login, a cookie or a form, and is cached.
It never shows a draft, submitted or returned report, a review comment, a person, a file, the
reports' texts or the cooperating units' contributions.

The changes page and the dashboard workbook's sheet 较上季度变化 list, for leaders, the
milestones newly done, newly behind, newly overdue, or whose approved status or percent moved
between two quarters; milestones that did not change are absent."""

import datetime
import re
from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from departments import roles
from departments.models import Department
from plan.models import Milestone, Plan
from tasks import dashboard, services
from tasks.models import ProgressReport

from . import builders
from .conftest import make_user
from .test_plan_views import enlarge

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Texts that live only inside the system.
DONE_TEXT = "内部完成情况:已走访企业。"
PROBLEMS_TEXT = "内部问题:经费尚未到位。"
APPROVAL_COMMENT = "审核意见:数据请再核实。"
RETURN_COMMENT = "退回意见:请补充佐证。"
DRAFT_TEXT = "草稿中的完成情况。"
SUBMITTED_TEXT = "待审核的完成情况。"
EVIDENCE_NAME = "内部佐证材料.pdf"
CONTRIBUTION_TEXT = "区县配合的内部情况。"
CONTRIBUTION_FILE = "区县配合佐证.pdf"
STAFF_NAME, REVIEWER_NAME, UNIT_NAME = "张晓明", "王立新", "李文博"


def milestone(measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in the 2014 plan."""
    return Milestone.objects.select_related("measure").get(measure__number=measure, order=order)


def public_url(plan: Plan) -> str:
    return reverse("public-plan", args=[plan.pk])


def cells(content: str, target: Milestone) -> list[str]:
    """The four quarter cells of `target`'s row on the public page, as shown."""
    found = re.search(
        rf'<tr class="public-row" data-milestone="{target.pk}">(.*?)</tr>', content, re.S
    )
    assert found, f"no row for milestone {target.pk}"
    return [cell.strip() for cell in re.findall(r'<td class="cell[^"]*"[^>]*>(.*?)</td>', found[1])]


def write(user, target, quarter, *, submit=True, files=(), **fields):
    return services.save_report(
        user=user,
        milestone=target,
        quarter=quarter,
        base_version=0,
        status=fields.get("status", "in_progress"),
        percent=fields.get("percent", 50),
        done_text=fields.get("done_text", "按计划推进。"),
        problems_text=fields.get("problems_text", ""),
        submit=submit,
        files=files,
    )


def review(reviewer, report, *, approve=True, comment=""):
    return services.review_report(
        reviewer=reviewer,
        report_id=report.pk,
        base_version=report.version,
        approve=approve,
        comment=comment,
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """The public pages are cached: every test starts (and leaves) with an empty cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def published(plan_2014):
    plan_2014.published = True
    plan_2014.save()
    return plan_2014


@pytest.fixture
def progress(published, staff, reviewer, media):
    """专利管理处's reports in every state, with texts, comments, evidence and a district's
    contribution; its people have names.

    - measure 3, 第一季度: approved, 已完成 100%, with a comment and evidence
    - measure 3, 第二季度: a draft at 37%
    - measure 7, 第二季度: submitted, 滞后 41%
    - measure 8, 第二季度: returned at 43%, with a comment
    - measure 3, 第三--四季度: approved at 55% in the third quarter; submitted at 88% in the
      fourth, with a contribution of the districts
    """
    for user, name in [(staff, STAFF_NAME), (reviewer, REVIEWER_NAME)]:
        user.last_name, user.first_name = name[0], name[1:]
        user.save()
    first = write(
        staff,
        milestone(3, 1),
        1,
        status="done",
        percent=100,
        done_text=DONE_TEXT,
        problems_text=PROBLEMS_TEXT,
        files=[SimpleUploadedFile(EVIDENCE_NAME, PDF)],
    )
    review(reviewer, first, comment=APPROVAL_COMMENT)
    write(staff, milestone(3, 2), 2, submit=False, percent=37, done_text=DRAFT_TEXT)
    write(staff, milestone(7, 2), 2, status="behind", percent=41, done_text=SUBMITTED_TEXT)
    returned = write(staff, milestone(8, 2), 2, percent=43)
    review(reviewer, returned, approve=False, comment=RETURN_COMMENT)
    review(reviewer, write(staff, milestone(3, 3), 3, percent=55))
    write(staff, milestone(3, 3), 4, percent=88)
    district = Department.objects.get(name="各区县(自治县)知识产权局")
    unit_user = make_user("quxian", roles.UNIT, district)
    unit_user.last_name, unit_user.first_name = UNIT_NAME[0], UNIT_NAME[1:]
    unit_user.save()
    services.save_contribution(
        user=unit_user,
        milestone=milestone(3, 3),
        quarter=4,
        base_version=0,
        text=CONTRIBUTION_TEXT,
        figures="",
        files=[SimpleUploadedFile(CONTRIBUTION_FILE, PDF)],
    )
    return published


# --- The public page: only published plans -----------------------------------------------


def test_an_unpublished_plan_is_not_found(client, plan_2014):
    assert not plan_2014.published
    assert client.get(public_url(plan_2014)).status_code == 404


@pytest.mark.parametrize("persona", ["staff", "reviewer", "leader", "admin_user"])
def test_an_unpublished_plan_is_not_found_when_logged_in_either(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    plan = Plan.objects.get(year=2014)

    assert client.get(public_url(plan)).status_code == 404


def test_a_plan_that_does_not_exist_is_not_found(client, db):
    assert client.get(reverse("public-plan", args=[999])).status_code == 404


def test_the_public_index_lists_only_published_plans(client, published):
    Plan.objects.create(year=2015, title="2015年内部草案", issuer=published.issuer)

    response = client.get(reverse("public-index"))

    content = response.content.decode()
    assert response.status_code == 200
    assert published.title in content
    assert public_url(published) in content
    assert "2015年内部草案" not in content


def test_the_public_index_says_when_nothing_is_published(client, plan_2014):
    content = client.get(reverse("public-index")).content.decode()

    assert "暂无公开的计划。" in content
    assert plan_2014.title not in content


# --- The public page: approved progress only ---------------------------------------------


def test_a_published_plan_is_shown_without_login(client, published):
    response = client.get(public_url(published))

    content = response.content.decode()
    assert response.status_code == 200
    assert published.title in content
    assert content.count('class="public-row"') == Milestone.objects.count()


def test_approved_status_and_percent_are_shown(client, progress):
    content = client.get(public_url(progress)).content.decode()

    assert cells(content, milestone(3, 1)) == ["已完成 100%", "", "", ""]
    assert cells(content, milestone(3, 3))[2] == "进行中 55%"


@pytest.mark.parametrize(
    ("measure", "order", "quarter", "percent"),
    [(3, 2, 2, 37), (7, 2, 2, 41), (8, 2, 2, 43), (3, 3, 4, 88)],
    ids=["draft", "submitted", "returned", "submitted-after-an-approved-quarter"],
)
def test_reports_not_approved_are_not_shown(client, progress, measure, order, quarter, percent):
    content = client.get(public_url(progress)).content.decode()

    assert cells(content, milestone(measure, order))[quarter - 1] == "—"
    assert f"{percent}%" not in content


def test_the_status_of_a_report_not_approved_is_not_shown(client, progress):
    content = client.get(public_url(progress)).content.decode()

    assert "滞后" not in content  # measure 7's submitted report
    assert "已提交" not in content and "草稿" not in content and "已退回" not in content


@pytest.mark.parametrize(
    "secret",
    [
        DONE_TEXT,
        PROBLEMS_TEXT,
        APPROVAL_COMMENT,
        RETURN_COMMENT,
        DRAFT_TEXT,
        SUBMITTED_TEXT,
        EVIDENCE_NAME,
        CONTRIBUTION_TEXT,
        CONTRIBUTION_FILE,
        STAFF_NAME[1:],
        REVIEWER_NAME[1:],
        UNIT_NAME[1:],
        "zhang",
        "wang",
        "quxian",
        "staff-",
    ],
)
def test_nothing_internal_is_shown(client, progress, secret):
    assert secret not in client.get(public_url(progress)).content.decode()


def test_the_public_page_links_to_nothing_internal(client, progress):
    content = client.get(public_url(progress)).content.decode()

    for internal in ["/reports/", "/evidence/", "/cooperation/", "/work/", "/dashboard/"]:
        assert internal not in content
    assert "<form" not in content
    assert "csrfmiddlewaretoken" not in content


def test_the_public_page_marks_a_milestone_a_revision_retired(client, progress):
    """Its approved report stays on show (it was approved), beside the 已调整取消 badge the
    plan page shows, so that nobody reads it as still due."""
    target = milestone(3, 1)  # approved, 已完成 100%
    Milestone.objects.filter(pk=target.pk).update(retired_on=datetime.date(2014, 6, 30))

    content = client.get(public_url(progress)).content.decode()

    row = re.search(rf'data-milestone="{target.pk}">(.*?)</tr>', content, re.S)[1]
    assert "已调整取消" in row and "2014-06-30计划调整时取消" in row
    assert cells(content, target)[0] == "已完成 100%"
    others = re.findall(r'data-milestone="(\d+)">(.*?)</tr>', content, re.S)
    assert [pk for pk, html in others if "已调整取消" in html] == [str(target.pk)]


def test_a_logged_in_visitor_sees_the_same_public_page(client, progress, staff):
    anonymous = client.get(public_url(progress)).content
    cache.clear()
    client.force_login(staff)

    logged_in = client.get(public_url(progress)).content

    assert logged_in == anonymous
    assert b"zhang" not in logged_in


# --- The public page: no cookie, cached ---------------------------------------------------


def test_the_public_pages_set_no_cookie(client, progress):
    for url in [reverse("public-index"), public_url(progress)]:
        response = client.get(url)

        assert "Set-Cookie" not in response.headers
        assert not response.cookies
    assert not client.cookies


@pytest.mark.parametrize("name", ["public-index", "public-plan"])
def test_the_public_pages_may_be_cached_by_anyone(client, progress, name):
    url = reverse(name, args=[progress.pk] if name == "public-plan" else [])

    cache_control = client.get(url)["Cache-Control"]

    directives = {item.strip() for item in cache_control.split(",")}
    assert "public" in directives
    assert "max-age=300" in directives
    assert "private" not in directives and "no-store" not in directives


@pytest.mark.parametrize("name", ["public-index", "public-plan"])
def test_a_second_request_is_served_from_the_cache(
    client, progress, name, django_assert_num_queries
):
    url = reverse(name, args=[progress.pk] if name == "public-plan" else [])
    first = client.get(url)

    with django_assert_num_queries(1):  # which plans are published (the cache key)
        second = client.get(url)

    assert second.status_code == 200
    assert second.content == first.content
    assert "public" in second["Cache-Control"]


def test_unpublishing_a_plan_removes_its_cached_public_page_at_once(client, progress):
    """Issue #13: the cached page outlived unpublishing by five minutes."""
    assert client.get(public_url(progress)).status_code == 200
    assert progress.title in client.get(reverse("public-index")).content.decode()
    progress.published = False
    progress.save()

    assert client.get(public_url(progress)).status_code == 404
    assert progress.title not in client.get(reverse("public-index")).content.decode()


def test_a_not_found_page_is_not_cached(client, plan_2014):
    assert client.get(public_url(plan_2014)).status_code == 404
    plan_2014.published = True
    plan_2014.save()

    assert client.get(public_url(plan_2014)).status_code == 200


# published plans (the cache key), plan, work areas, measures, their offices, milestones,
# approved reports
PUBLIC_QUERIES = 7


@pytest.mark.parametrize("times", [1, 20], ids=["1x", "20x"])
def test_the_public_pages_queries_do_not_grow_with_the_plan(
    client, published, reviewer, times, django_assert_max_num_queries
):
    enlarge(published, times)
    for target in Milestone.objects.filter(first_quarter=1):  # 17 in each copy
        builders.report(target, 1, percent=100, status="done", reviewer=reviewer)

    with django_assert_max_num_queries(PUBLIC_QUERIES):
        response = client.get(public_url(published))

    assert response.content.decode().count("已完成 100%") == 17 * times


# --- What changed between two quarters ----------------------------------------------------

# Milestones of the second quarter only (第二季度) of measures 2, 3, 4, 7, 8, 9, 10, 22, 29, 30.
SECOND_QUARTER_ONLY = [2, 3, 4, 7, 8, 9, 10, 22, 29, 30]
AFTER_THE_SECOND_QUARTER = datetime.date(2014, 7, 15)


@pytest.fixture
def two_quarters(plan_2014, reviewer):
    """Reports of the first two quarters, each milestone chosen for the change it shows.

    - measure 15, 第一--三季度: 进行中 20% approved in Q1, 已完成 in Q2 → newly done
    - measure 7, 第二季度: 已完成 approved in Q2 → newly done
    - measure 14, 第一--四季度: 进行中 25% in Q1, 滞后 30% in Q2 → newly behind
    - measure 13, 第二--四季度: 进行中 30% approved in Q2 → moved (status and percent)
    - measure 16, 第二--四季度: 未开始 0% approved in Q2 → moved (status only)
    - measure 3, 第二季度: 进行中 60% approved in Q2, not done when the quarter ended → overdue
    - the other 第二季度 milestones: nothing reported → overdue
    - measure 18, 第二--三季度: 70% submitted but not approved → unchanged
    - measure 2, 第一季度: 进行中 50% approved in Q1 and nothing since → unchanged
    - measure 12, 第二--三季度: nothing reported, not yet due → unchanged
    """
    report = builders.report
    report(milestone(15, 1), 1, percent=20, reviewer=reviewer)
    report(milestone(15, 1), 2, percent=100, status="done", reviewer=reviewer)
    report(milestone(7, 2), 2, percent=100, status="done", reviewer=reviewer)
    report(milestone(14, 1), 1, percent=25, reviewer=reviewer)
    report(milestone(14, 1), 2, percent=30, status="behind", reviewer=reviewer)
    report(milestone(13, 2), 2, percent=30, reviewer=reviewer)
    report(milestone(16, 2), 2, percent=0, status="not_started", reviewer=reviewer)
    report(milestone(3, 2), 2, percent=60, reviewer=reviewer)
    report(milestone(18, 2), 2, percent=70, state="submitted")
    report(milestone(2, 1), 1, percent=50, reviewer=reviewer)
    return plan_2014


def expected_changes() -> dict[Milestone, list[str]]:
    overdue = {milestone(n, 2): ["newly_overdue"] for n in SECOND_QUARTER_ONLY if n != 7}
    return {
        **overdue,
        milestone(15, 1): ["newly_done"],
        milestone(7, 2): ["newly_done"],
        milestone(14, 1): ["newly_behind"],
        milestone(13, 2): ["moved"],
        milestone(16, 2): ["moved"],
    }


def test_changes_between_two_quarters(two_quarters):
    found = dashboard.changes(two_quarters, 1, 2, AFTER_THE_SECOND_QUARTER)

    assert {c.after.milestone: c.kinds for c in found} == expected_changes()


def test_unchanged_milestones_are_absent(two_quarters):
    found = {
        c.after.milestone for c in dashboard.changes(two_quarters, 1, 2, AFTER_THE_SECOND_QUARTER)
    }

    assert milestone(18, 2) not in found  # submitted, not approved
    assert milestone(2, 1) not in found  # approved before, nothing since
    assert milestone(12, 2) not in found  # nothing reported, not yet due
    assert milestone(19, 1) not in found  # unscheduled


def test_each_change_shows_before_and_after(two_quarters):
    found = {
        c.after.milestone: c
        for c in dashboard.changes(two_quarters, 1, 2, AFTER_THE_SECOND_QUARTER)
    }

    done = found[milestone(15, 1)]
    assert (done.before.status, done.before.percent) == ("in_progress", 20)
    assert (done.after.status, done.after.percent) == ("done", 100)
    assert done.labels == ["新完成"]
    behind = found[milestone(14, 1)]
    assert (behind.before.percent, behind.after.status, behind.labels) == (25, "behind", ["新滞后"])
    moved = found[milestone(16, 2)]
    assert (moved.before.status, moved.after.status) == (None, "not_started")
    assert moved.before.percent == moved.after.percent == 0
    assert moved.labels == ["有变化"]
    assert found[milestone(2, 2)].labels == ["新逾期"]


def test_a_percent_that_moved_is_a_change(plan_2014, reviewer):
    span = milestone(3, 3)  # 第三--四季度
    builders.report(span, 3, percent=40, reviewer=reviewer)
    builders.report(span, 4, percent=80, reviewer=reviewer)
    before_the_year_ends = datetime.date(2014, 12, 1)

    found = {c.after.milestone: c for c in dashboard.changes(plan_2014, 3, 4, before_the_year_ends)}

    assert found[span].kinds == ["moved"]
    assert (found[span].before.percent, found[span].after.percent) == (40, 80)


def test_a_quarter_compared_with_itself_has_no_changes(two_quarters):
    assert dashboard.changes(two_quarters, 2, 2, AFTER_THE_SECOND_QUARTER) == []


# --- The changes page ---------------------------------------------------------------------


def changes_url(plan: Plan, earlier: int = 1, later: int = 2) -> str:
    return f"{reverse('dashboard-changes')}?plan={plan.pk}&from={earlier}&to={later}"


def change_rows(content: str) -> dict[int, str]:
    return {
        int(pk): row
        for pk, row in re.findall(
            r'<tr class="change-row" data-milestone="(\d+)">(.*?)</tr>', content, re.S
        )
    }


@pytest.mark.parametrize(
    ("persona", "status"), [("leader", 200), ("reviewer", 200), ("admin_user", 200), ("staff", 403)]
)
def test_who_may_see_the_changes_page(client, request, two_quarters, persona, status):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(changes_url(two_quarters)).status_code == status


def test_a_unit_may_not_see_the_changes_page(client, two_quarters):
    district = Department.objects.get(name="各区县(自治县)知识产权局")
    client.force_login(make_user("quxian", roles.UNIT, district))

    assert client.get(changes_url(two_quarters)).status_code == 403


def test_the_changes_page_lists_each_change_with_a_link_to_its_report(client, leader, two_quarters):
    client.force_login(leader)

    response = client.get(changes_url(two_quarters))

    rows = change_rows(response.content.decode())
    expected = expected_changes()
    assert set(rows) == {target.pk for target in expected}
    for target in expected:
        latest = ProgressReport.objects.filter(milestone=target, quarter__lte=2).order_by(
            "-quarter"
        )
        if latest:
            assert reverse("report-detail", args=[latest[0].pk]) in rows[target.pk]
        else:
            assert "/reports/" not in rows[target.pk]
    assert "新完成" in rows[milestone(15, 1).pk]
    assert "进行中 · 20%" in rows[milestone(15, 1).pk]
    assert "已完成 · 100%" in rows[milestone(15, 1).pk]
    assert "新滞后" in rows[milestone(14, 1).pk]
    assert "有变化" in rows[milestone(13, 2).pk]
    assert "新逾期" in rows[milestone(2, 2).pk]


def test_the_changes_page_says_when_nothing_changed(client, leader, plan_2014):
    client.force_login(leader)

    content = client.get(changes_url(plan_2014, 3, 3)).content.decode()

    assert "两个季度之间没有变化。" in content


# --- The dashboard workbook's sheet 较上季度变化 -------------------------------------------


def workbook(client, plan: Plan, quarter: int):
    response = client.get(f"{reverse('dashboard-xlsx')}?plan={plan.pk}&quarter={quarter}")
    assert response.status_code == 200
    return load_workbook(BytesIO(response.content))


def test_the_workbook_lists_the_changes_since_the_quarter_before(client, leader, two_quarters):
    client.force_login(leader)

    sheet = workbook(client, two_quarters, 2)["较上季度变化"]

    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "变化",
        "工作措施",
        "时间",
        "责任处室",
        "上季度状态",
        "上季度完成(%)",
        "本季度状态",
        "本季度完成(%)",
    )
    assert len(rows) - 1 == len(expected_changes())
    done = milestone(15, 1)
    assert (
        "新完成",
        f"15.{done.measure.title}",
        "第一--三季度",
        "重庆知识产权信息中心",
        "进行中",
        20,
        "已完成",
        100,
    ) in rows
    moved = milestone(16, 2)
    assert (
        "有变化",
        f"16.{moved.measure.title}",
        "第二--四季度",
        "规划发展处、相关处室",
        None,
        0,
        "未开始",
        0,
    ) in rows
    assert sorted(row[0] for row in rows[1:]) == sorted(
        ["新逾期"] * 9 + ["新完成"] * 2 + ["新滞后"] + ["有变化"] * 2
    )


def test_the_first_quarters_workbook_has_no_changes_sheet(client, leader, two_quarters):
    client.force_login(leader)

    assert "较上季度变化" not in workbook(client, two_quarters, 1).sheetnames


def test_the_workbooks_changes_agree_with_the_changes_page(client, leader, two_quarters):
    client.force_login(leader)

    sheet = workbook(client, two_quarters, 3)["较上季度变化"]
    page = client.get(changes_url(two_quarters, 2, 3))

    assert sheet.max_row - 1 == len(page.context["changes"])
    today = timezone.localdate()
    assert len(page.context["changes"]) == len(dashboard.changes(two_quarters, 2, 3, today))
