"""Cooperating units (配合单位): who may see and write each contribution, how it closes when the
responsible office's report is approved, and how leaders see units' contributions.

In the 2014 plan 各区县(自治县)知识产权局 (also spelled 有关区县……) cooperates on most measures:
measure 2 (规划发展处), measure 3 (专利管理处, the `staff` persona's office) and measure 16
(规划发展处), among others; 国家知识产权培训基地 cooperates on measure 16 only; the generic
有关行业协会 on measures 7 and 8. Measure 3's third milestone (第三--四季度) spans quarters 3
and 4; measure 16's second (第二--四季度) quarters 2 to 4. The 2014 plan's reports for the fourth
quarter are due on 2015-01-10."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from departments import roles
from departments.models import Department
from plan.models import Measure, Milestone
from tasks import dashboard, services
from tasks.models import Contribution, ContributionFile, ProgressReport

from . import builders
from .conftest import make_user
from .test_plan_views import enlarge

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DISTRICT = "各区县(自治县)知识产权局"
TRAINING_BASE = "国家知识产权培训基地"
Q4_DUE = datetime.date(2015, 1, 10)


def milestone(measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in the 2014 plan."""
    return Milestone.objects.select_related("measure").get(measure__number=measure, order=order)


def contribute(user, target: Milestone, quarter: int, *, base_version=0, **fields):
    """Submits a contribution the way the contribution form does."""
    return services.save_contribution(
        user=user,
        milestone=target,
        quarter=quarter,
        base_version=base_version,
        text=fields.get("text", "本区县组织企业参加专利政策宣讲。"),
        figures=fields.get("figures", ""),
        files=fields.get("files", ()),
    )


def edit_url(target: Milestone, quarter: int) -> str:
    return reverse("contribution-edit", args=[target.pk, quarter])


def form(version: int = 0, **fields) -> dict:
    """What the contribution form posts."""
    return {"version": version, "text": "本区县组织企业参加专利政策宣讲。", "figures": "", **fields}


def pdf(name: str = "区县宣讲签到表.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def unit_row(content: str, target: Milestone) -> str:
    """The unit-work table row of `target`."""
    found = re.search(
        rf'<tr class="unit-row[^"]*" data-milestone="{target.pk}">(.*?)</tr>', content, re.S
    )
    assert found, f"no row for milestone {target.pk}"
    return found.group(1)


def units_table_row(content: str, unit: Department) -> list[int]:
    """(due, made, late) from the dashboard's 配合单位 table."""
    found = re.search(rf'<tr data-unit="{unit.pk}">(.*?)</tr>', content, re.S)
    assert found, f"no row for unit {unit}"
    cells = re.findall(r"<td>(?:<a [^>]*>)?(\d+)(?:</a>)?</td>", found.group(1))
    return [int(cell) for cell in cells]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def district(plan_2014) -> Department:
    return Department.objects.get(name=DISTRICT)


@pytest.fixture
def training_base(plan_2014) -> Department:
    return Department.objects.get(name=TRAINING_BASE)


@pytest.fixture
def quxian(district):
    """A member of the district offices' unit."""
    return make_user("quxian", roles.UNIT, district)


@pytest.fixture
def quxian2(district):
    """A second member of the same unit."""
    return make_user("quxian2", roles.UNIT, district)


@pytest.fixture
def jidi(training_base):
    """A member of another cooperating unit."""
    return make_user("jidi", roles.UNIT, training_base)


@pytest.fixture
def planning_staff(plan_2014):
    """A member of 规划发展处, responsible for measures 2 and 16."""
    return make_user("liu", roles.STAFF, Department.objects.get(name="规划发展处"))


# --- Who may contribute -------------------------------------------------------------------


def test_a_unit_contributes_to_a_milestone_of_a_measure_naming_it(quxian, district):
    contribution = contribute(quxian, milestone(3, 3), 4, text=" 走访企业30家。 ", figures="30家")

    assert (contribution.unit, contribution.version) == (district, 1)
    assert (contribution.text, contribution.figures) == ("走访企业30家。", "30家")
    assert contribution.submitted_by == quxian
    assert contribution.first_submitted_at == contribution.updated_at


def test_the_units_other_spelling_in_the_plan_names_the_same_unit(quxian, district):
    measure_14 = Measure.objects.get(number=14)
    assert measure_14.cooperating_text == "有关区县(自治县)知识产权局"

    assert services.contributing_unit(quxian, milestone(14, 4)) == district


def test_a_span_milestone_takes_a_contribution_in_each_quarter_it_spans(quxian):
    span = milestone(3, 3)  # 第三--四季度

    contribute(quxian, span, 3)
    contribute(quxian, span, 4)
    with pytest.raises(ValidationError, match="该进度节点在这个季度没有安排"):
        contribute(quxian, span, 2)

    assert sorted(Contribution.objects.values_list("quarter", flat=True)) == [3, 4]


def test_a_unit_may_not_contribute_to_a_measure_that_does_not_name_it(quxian, jidi):
    with pytest.raises(PermissionDenied, match="不是该工作措施的配合单位"):
        contribute(quxian, milestone(7, 4), 4)  # 有关行业协会
    with pytest.raises(PermissionDenied):
        contribute(jidi, milestone(3, 3), 4)  # 各区县 only
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("persona", ["staff", "reviewer", "leader", "admin_user"])
def test_nobody_but_a_unit_contributes(request, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        contribute(user, milestone(3, 3), 4)


def test_the_unit_role_alone_is_not_enough(plan_2014, district):
    """A unit account attached to no unit, and a member of the unit without the unit role."""
    orphan = make_user("orphan", roles.UNIT)
    clerk = make_user("clerk", roles.STAFF, district)

    for user in (orphan, clerk):
        with pytest.raises(PermissionDenied):
            contribute(user, milestone(3, 3), 4)


def test_the_unit_opens_and_posts_the_form_of_its_milestone(client, quxian):
    client.force_login(quxian)
    target = milestone(3, 3)

    page = client.get(edit_url(target, 4))
    response = client.post(edit_url(target, 4), form(figures="宣讲3场"), follow=True)

    assert page.status_code == 200
    assert "各区县(自治县)知识产权局 · 第四季度配合情况" in page.content.decode()
    assert "专利管理处" in page.content.decode()  # the responsible office
    plan = target.measure.work_area.plan
    assert response.redirect_chain == [(f"{reverse('unit-work')}?plan={plan.pk}&quarter=4", 302)]
    assert "配合情况已提交,责任处室可以看到。" in response.content.decode()
    assert Contribution.objects.get().figures == "宣讲3场"


@pytest.mark.parametrize(
    ("persona", "measure", "order", "quarter"),
    [
        ("quxian", 7, 4, 4),  # measure 7 names 有关行业协会, not the districts
        ("jidi", 2, 4, 4),  # measure 2 names the districts only
        ("quxian", 3, 3, 2),  # 第三--四季度 does not span the second quarter
        ("quxian", 19, 1, 1),  # 第一阶段 has no quarter
        ("staff", 3, 3, 4),  # the responsible office writes its report, not a contribution
        ("other_staff", 3, 3, 4),
        ("reviewer", 3, 3, 4),
        ("leader", 3, 3, 4),
        ("admin_user", 3, 3, 4),
    ],
)
def test_the_contribution_form_is_refused(
    client, request, quxian, jidi, persona, measure, order, quarter
):
    client.force_login(request.getfixturevalue(persona))
    target = milestone(measure, order)

    assert client.get(edit_url(target, quarter)).status_code == 403
    assert client.post(edit_url(target, quarter), form()).status_code == 403
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("persona", ["staff", "reviewer", "leader", "admin_user"])
def test_the_cooperation_page_is_for_units_only(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("unit-work"))

    assert response.status_code == 403
    assert "只有配合单位人员可以填报配合情况" in response.content.decode()


def test_a_unit_lands_on_its_cooperation_page(client, quxian):
    client.force_login(quxian)

    response = client.get(reverse("home"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("unit-work")
    assert "<h1>配合工作</h1>" in response.content.decode()


def test_the_cooperation_page_lists_the_quarters_milestones_naming_the_unit(client, quxian, jidi):
    client.force_login(jidi)

    response = client.get(reverse("unit-work") + "?quarter=4")

    assert [row.milestone for row in response.context["rows"]] == [milestone(16, 2)]
    client.force_login(quxian)
    rows = client.get(reverse("unit-work") + "?quarter=4").context["rows"]
    assert milestone(3, 3) in [row.milestone for row in rows]
    assert milestone(7, 4) not in [row.milestone for row in rows]


# --- Units are kept apart ----------------------------------------------------------------


@pytest.fixture
def both_contributed(quxian, jidi, media):
    """Both units contributed to measure 16's 第二--四季度 milestone in the fourth quarter,
    each with a file."""
    target = milestone(16, 2)
    district_part = contribute(
        quxian, target, 4, text="区县组织专利培训5期。", files=[pdf("区县培训名单.pdf")]
    )
    base_part = contribute(
        jidi, target, 4, text="基地承办高级研修班。", files=[pdf("基地研修班通知.pdf")]
    )
    return district_part, base_part


def test_a_unit_cannot_download_another_units_file(client, quxian, jidi, both_contributed):
    district_part, base_part = both_contributed
    district_file, base_file = district_part.files.get(), base_part.files.get()
    client.force_login(jidi)

    # 404, not 403: another unit may not know the file exists
    assert client.get(reverse("contribution-file", args=[district_file.pk])).status_code == 404
    own = client.get(reverse("contribution-file", args=[base_file.pk]))
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF


def test_a_units_pages_never_show_another_units_contribution(client, jidi, both_contributed):
    client.force_login(jidi)
    target = milestone(16, 2)

    pages = [
        client.get(reverse("unit-work") + "?quarter=4"),
        client.get(edit_url(target, 4)),
    ]

    for page in pages:
        content = page.content.decode()
        assert page.status_code == 200
        assert "区县组织专利培训5期" not in content
        assert "区县培训名单.pdf" not in content
    assert "基地承办高级研修班" in pages[1].content.decode()
    assert "基地研修班通知.pdf" in pages[1].content.decode()


def test_a_unit_cannot_change_another_units_contribution(client, jidi, both_contributed):
    district_part, base_part = both_contributed
    client.force_login(jidi)

    # Whatever version it posts, the form writes the poster's own unit's contribution.
    response = client.post(edit_url(milestone(16, 2), 4), form(1, text="基地改写。"))

    assert response.status_code == 302
    district_part.refresh_from_db()
    base_part.refresh_from_db()
    assert (district_part.text, district_part.version) == ("区县组织专利培训5期。", 1)
    assert (base_part.text, base_part.version) == ("基地改写。", 2)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("quxian", 200),  # the unit itself
        ("jidi", 404),  # another cooperating unit of the same measure: may not know it exists
        ("planning_staff", 200),  # the responsible office (规划发展处)
        ("staff", 404),  # another office (专利管理处)
        ("reviewer", 200),
        ("leader", 200),
        ("admin_user", 200),
    ],
)
def test_who_may_download_a_contribution_file(client, request, both_contributed, persona, status):
    district_file = both_contributed[0].files.get()
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("contribution-file", args=[district_file.pk]))

    assert response.status_code == status
    if status == 200:
        assert "attachment" in response["Content-Disposition"]


def test_an_anonymous_visitor_cannot_download_a_contribution_file(client, both_contributed):
    district_file = both_contributed[0].files.get()

    response = client.get(reverse("contribution-file", args=[district_file.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.fixture
def office_report(staff, media):
    """专利管理处's submitted fourth-quarter report on measure 3's span, with evidence."""
    target = milestone(3, 3)
    services.save_report(
        user=staff,
        milestone=target,
        quarter=4,
        base_version=0,
        status="in_progress",
        percent=70,
        done_text="处室内部完成情况。",
        problems_text="处室内部问题。",
        submit=True,
        files=[pdf("处室内部佐证.pdf")],
    )
    return ProgressReport.objects.get(milestone=target, quarter=4)


@pytest.mark.parametrize(
    "name",
    [
        "review-queue",
        "dashboard",
        "dashboard-changes",
        "dashboard-xlsx",
        "offline-download",
        "offline-upload",
    ],
)
def test_a_unit_is_refused_the_offices_reviewers_and_leaders_pages(client, quxian, name):
    client.force_login(quxian)

    assert client.get(reverse(name)).status_code == 403


def test_a_units_my_work_page_lists_no_office_milestone(client, quxian):
    client.force_login(quxian)

    response = client.get(reverse("my-work") + "?quarter=4")

    assert response.context["groups"] == []


def test_a_unit_cannot_read_the_offices_report_or_its_evidence(client, quxian, office_report):
    client.force_login(quxian)

    detail = client.get(reverse("report-detail", args=[office_report.pk]))
    evidence = client.get(reverse("evidence-download", args=[office_report.evidence.get().pk]))

    assert detail.status_code == 404  # not 403: the unit may not know the report exists
    assert evidence.status_code == 404
    assert "处室内部完成情况" not in detail.content.decode()


def test_a_unit_cannot_open_or_post_the_offices_form(client, quxian, office_report):
    client.force_login(quxian)
    url = reverse("report-edit", args=[office_report.milestone_id, 4])
    data = {"version": office_report.version, "status": "done", "percent": 100}

    assert client.get(url).status_code == 403
    assert client.post(url, {**data, "done_text": "区县改写。", "save": ""}).status_code == 403
    office_report.refresh_from_db()
    assert office_report.done_text == "处室内部完成情况。"


def test_a_units_pages_never_show_the_offices_report(client, quxian, office_report):
    client.force_login(quxian)

    pages = [
        client.get(reverse("unit-work") + "?quarter=4"),
        client.get(edit_url(milestone(3, 3), 4)),
    ]

    for page in pages:
        assert "处室内部完成情况" not in page.content.decode()
        assert "处室内部佐证.pdf" not in page.content.decode()


# --- The responsible office and the reviewer see contributions ---------------------------


@pytest.fixture
def contributed(quxian, media):
    """The districts' fourth-quarter contribution to measure 3's span, with figures and a file."""
    return contribute(
        quxian,
        milestone(3, 3),
        4,
        text="协助开展创新驱动政策宣讲。",
        figures="宣讲5场,覆盖企业120家",
        files=[pdf()],
    )


def test_the_office_sees_contributions_on_its_form_with_a_quote_button(client, staff, contributed):
    client.force_login(staff)

    response = client.get(reverse("report-edit", args=[contributed.milestone_id, 4]))

    content = response.content.decode()
    assert "配合单位工作情况" in content
    assert "协助开展创新驱动政策宣讲。" in content
    assert "宣讲5场,覆盖企业120家" in content
    assert reverse("contribution-file", args=[contributed.files.get().pk]) in content
    assert (
        'data-quote="各区县(自治县)知识产权局:协助开展创新驱动政策宣讲。'
        '(宣讲5场,覆盖企业120家)" data-target="id_done_text"'
    ) in content
    assert "引用到完成情况" in content


def test_a_contributions_text_cannot_break_out_of_the_quote_button(client, staff, quxian):
    contribute(quxian, milestone(3, 3), 4, text='宣讲"><script>alert(1)</script>')
    client.force_login(staff)

    content = client.get(reverse("report-edit", args=[milestone(3, 3).pk, 4])).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "宣讲&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_a_submitted_report_shows_contributions_without_the_quote_button(
    client, staff, contributed
):
    builders.report(milestone(3, 3), 4, state="submitted")
    client.force_login(staff)

    response = client.get(reverse("report-edit", args=[contributed.milestone_id, 4]))

    content = response.content.decode()
    assert "协助开展创新驱动政策宣讲。" in content
    assert "data-quote" not in content


@pytest.mark.parametrize("persona", ["staff", "reviewer", "leader"])
def test_contributions_show_on_the_report_page(client, request, contributed, persona):
    report = builders.report(milestone(3, 3), 4, state="submitted")
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("report-detail", args=[report.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "协助开展创新驱动政策宣讲。" in content
    assert "宣讲5场,覆盖企业120家" in content
    assert "data-quote" not in content


def test_another_office_sees_no_contribution(client, other_staff, contributed):
    client.force_login(other_staff)
    file = contributed.files.get()

    assert client.get(reverse("report-edit", args=[contributed.milestone_id, 4])).status_code == 403
    assert client.get(reverse("contribution-file", args=[file.pk])).status_code == 404


def test_an_offices_form_shows_only_that_quarters_contributions(client, staff, quxian):
    contribute(quxian, milestone(3, 3), 3, text="第三季度的配合。")
    contribute(quxian, milestone(3, 3), 4, text="第四季度的配合。")
    client.force_login(staff)

    content = client.get(reverse("report-edit", args=[milestone(3, 3).pk, 4])).content.decode()

    assert "第四季度的配合。" in content
    assert "第三季度的配合。" not in content


# --- Closed once the office's report is approved -----------------------------------------


def test_the_contribution_closes_when_the_offices_report_is_approved(quxian, reviewer):
    target = milestone(3, 3)
    first = contribute(quxian, target, 4, text="原内容。")
    builders.report(target, 4, reviewer=reviewer)

    with pytest.raises(ValidationError, match="已审核通过,不能再修改配合情况"):
        contribute(quxian, target, 4, base_version=first.version, text="改写。")

    first.refresh_from_db()
    assert (first.text, first.version) == ("原内容。", 1)


def test_no_new_contribution_after_the_offices_report_is_approved(client, quxian, reviewer):
    target = milestone(3, 3)
    builders.report(target, 4, reviewer=reviewer)
    client.force_login(quxian)

    response = client.post(edit_url(target, 4), form())

    assert response.status_code == 200
    assert "责任处室本季度的报告已审核通过,不能再修改配合情况。" in response.content.decode()
    assert not Contribution.objects.exists()


def test_the_form_of_a_closed_contribution_offers_no_submit_button(client, quxian, reviewer):
    target = milestone(3, 3)
    contribute(quxian, target, 4)
    builders.report(target, 4, reviewer=reviewer)
    client.force_login(quxian)

    content = client.get(edit_url(target, 4)).content.decode()

    assert "已审核通过" in content
    assert 'class="card report-form"' not in content


def test_a_correction_after_the_due_date_does_not_make_a_contribution_late(quxian, district):
    target = milestone(3, 3)
    first = contribute(quxian, target, 4)
    submitted_on(first, datetime.date(2015, 1, 5))
    contribute(quxian, target, 4, base_version=1, text="更正。")  # today, long after the due date
    plan = target.measure.work_area.plan

    rows = {row.unit: row for row in dashboard.unit_contributions(plan, 4, today=Q4_DUE)}

    assert (rows[district].made, rows[district].late) == (1, 0)


@pytest.mark.parametrize("state", ["draft", "submitted", "returned"])
def test_a_report_not_yet_approved_leaves_the_contribution_open(quxian, reviewer, state):
    target = milestone(3, 3)
    builders.report(target, 4, state=state, reviewer=reviewer)

    assert contribute(quxian, target, 4).version == 1


def test_an_approval_closes_only_its_own_quarter(quxian, reviewer):
    target = milestone(3, 3)  # 第三--四季度
    builders.report(target, 3, reviewer=reviewer)

    with pytest.raises(ValidationError):
        contribute(quxian, target, 3)
    assert contribute(quxian, target, 4).quarter == 4


def test_the_cooperation_page_shows_the_closed_contribution(client, quxian, reviewer):
    target = milestone(3, 3)
    contribute(quxian, target, 4)
    builders.report(target, 4, reviewer=reviewer)
    client.force_login(quxian)

    row = unit_row(client.get(reverse("unit-work") + "?quarter=4").content.decode(), target)

    assert "已提交" in row
    assert "处室报告已通过" in row
    assert edit_url(target, 4) not in row  # neither 修改 nor 填报


# --- Stale edits, empty text and files ---------------------------------------------------


def test_a_stale_contribution_is_refused(quxian, quxian2):
    target = milestone(3, 3)
    first = contribute(quxian, target, 4, text="第一人的内容。")

    with pytest.raises(services.StaleEdit) as refused:
        contribute(quxian2, target, 4, base_version=0, text="第二人的内容。")

    assert refused.value.report == first
    first.refresh_from_db()
    assert (first.text, first.version, first.submitted_by) == ("第一人的内容。", 1, quxian)


def test_a_stale_post_keeps_the_colleagues_text_and_says_who_wrote_it(client, quxian, quxian2):
    target = milestone(3, 3)
    client.force_login(quxian2)
    client.get(edit_url(target, 4))  # the form was built from version 0
    contribute(quxian, target, 4, text="第一人的内容。")

    response = client.post(edit_url(target, 4), form(0, text="第二人的内容。"))

    content = response.content.decode()
    assert response.status_code == 200
    # people are named with their unit (departments.people.display_name)
    assert "保存未成功:quxian(各区县(自治县)知识产权局) 刚修改了本单位的配合情况" in content
    assert "第二人的内容。" in content  # the user's text is kept in the form
    assert response.context["form"]["version"].value() == 1  # and may be saved over it now
    saved = Contribution.objects.get()
    assert (saved.text, saved.version) == ("第一人的内容。", 1)


def test_a_stale_post_shows_the_colleagues_newer_text(client, quxian, quxian2):
    target = milestone(3, 3)
    contribute(quxian, target, 4, text="第一人的内容。")
    client.force_login(quxian2)

    response = client.post(edit_url(target, 4), form(0, text="第二人的内容。"))

    assert "第一人的内容。" in response.content.decode()


def test_a_later_edit_with_the_current_version_is_saved(quxian, quxian2):
    target = milestone(3, 3)
    first = contribute(quxian, target, 4, text="第一人的内容。")

    second = contribute(quxian2, target, 4, base_version=1, text="第二人补充。")

    assert (second.pk, second.version, second.text) == (first.pk, 2, "第二人补充。")
    assert second.submitted_by == quxian2
    assert second.first_submitted_at == first.first_submitted_at
    assert second.updated_at >= first.updated_at


def test_empty_text_is_refused_with_a_chinese_message(client, quxian):
    client.force_login(quxian)

    response = client.post(edit_url(milestone(3, 3), 4), form(text="   \n "))

    assert response.status_code == 200
    assert "请填写工作情况。" in response.content.decode()
    assert not Contribution.objects.exists()
    with pytest.raises(ValidationError) as refused:
        contribute(quxian, milestone(3, 3), 4, text="  ")
    assert refused.value.message_dict == {"text": ["请填写工作情况。"]}


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("名单.exe", b"MZ\x90\x00"), "的类型不允许"),
        (SimpleUploadedFile("名单.txt", b"plain text"), "的类型不允许"),
        (SimpleUploadedFile("名单.pdf", b"not a pdf at all"), "的内容与扩展名不符"),
    ],
    ids=["exe", "txt", "fake-pdf"],
)
def test_evidence_files_are_checked(client, quxian, media, upload, message):
    client.force_login(quxian)

    response = client.post(edit_url(milestone(3, 3), 4), {**form(), "files": [upload]})

    assert response.status_code == 200
    assert f"文件“{upload.name}”{message}" in response.content.decode()
    assert not Contribution.objects.exists()
    assert not ContributionFile.objects.exists()
    assert not [item for item in media.rglob("*") if item.is_file()]


def test_an_oversized_file_is_refused(client, quxian, media, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    client.force_login(quxian)

    response = client.post(
        edit_url(milestone(3, 3), 4), {**form(), "files": [pdf(content=PDF + b"x" * 200)]}
    )

    assert "超过100\xa0字节的上限" in response.content.decode()
    assert not Contribution.objects.exists()


def test_an_accepted_file_is_stored_under_a_random_name(client, quxian, media):
    client.force_login(quxian)

    client.post(edit_url(milestone(3, 3), 4), {**form(), "files": [pdf(), pdf("第二份.pdf")]})

    stored = list(ContributionFile.objects.order_by("pk"))
    assert [item.name for item in stored] == ["区县宣讲签到表.pdf", "第二份.pdf"]
    for item in stored:
        assert item.file.name.startswith(f"evidence/{milestone(3, 3).pk}/")
        assert "签到表" not in item.file.name
        assert item.uploaded_by == quxian
        assert (media / item.file.name).read_bytes() == PDF


# --- Leaders see each unit's contributions -----------------------------------------------

# Fourth-quarter milestones of measures naming the districts: one each of measures 2, 3 (the
# span), 4, 9, 10, 15 (第四季度), 16 (the span), 18 (第四季度), 22, 29 and 30, and three of
# measure 14 (第一--四季度, 第二--四季度, 第四季度). Measure 19 has only phases.
DISTRICT_Q4_DUE = 14


def submitted_on(contribution: Contribution, day: datetime.date, time=datetime.time(10)) -> None:
    """Backdates the contribution's first submission to `day` at `time`, Beijing time."""
    at = timezone.make_aware(datetime.datetime.combine(day, time))
    Contribution.objects.filter(pk=contribution.pk).update(first_submitted_at=at)


def test_unit_contributions_count_due_made_and_late(quxian, jidi, district, training_base):
    on_time = contribute(quxian, milestone(3, 3), 4)
    late = contribute(quxian, milestone(2, 4), 4)
    submitted_on(on_time, Q4_DUE, datetime.time(23, 30))  # the evening of the due date
    # Half past midnight in Beijing, still the due date in UTC: late all the same.
    submitted_on(late, Q4_DUE + datetime.timedelta(days=1), datetime.time(0, 30))
    plan = on_time.milestone.measure.work_area.plan

    before_due = dashboard.unit_contributions(plan, 4, today=Q4_DUE)
    after_due = dashboard.unit_contributions(plan, 4, today=Q4_DUE + datetime.timedelta(days=1))

    counts = {row.unit: (row.due, row.made, row.late) for row in before_due}
    assert counts == {district: (DISTRICT_Q4_DUE, 2, 1), training_base: (1, 0, 0)}
    counts = {row.unit: (row.due, row.made, row.late) for row in after_due}
    # Late: the one made after the due date and every one still missing after it.
    assert counts == {
        district: (DISTRICT_Q4_DUE, 2, 1 + DISTRICT_Q4_DUE - 2),
        training_base: (1, 0, 1),
    }


def test_generic_units_are_not_counted(plan_2014):
    """有关行业协会, 市级相关部门 and the like hold no accounts."""
    rows = dashboard.unit_contributions(plan_2014, 4, today=Q4_DUE)

    assert [row.unit.name for row in rows] == [DISTRICT, TRAINING_BASE]
    assert all(not row.unit.generic for row in rows)


def test_a_contribution_to_another_quarter_does_not_count(quxian, district):
    contribute(quxian, milestone(3, 3), 3)
    plan = milestone(3, 3).measure.work_area.plan

    rows = {row.unit: row for row in dashboard.unit_contributions(plan, 4, today=Q4_DUE)}

    assert rows[district].made == 0


def test_the_dashboard_shows_the_units_table(client, leader, quxian, district, training_base):
    submitted_on(contribute(quxian, milestone(3, 3), 4), datetime.date(2015, 1, 5))
    plan = milestone(3, 3).measure.work_area.plan
    client.force_login(leader)

    response = client.get(f"{reverse('dashboard')}?plan={plan.pk}&quarter=4")

    content = response.content.decode()
    assert response.status_code == 200
    assert "<h2>配合单位</h2>" in content
    # Today is long past the 2014 plan's due date: every missing contribution is late.
    assert units_table_row(content, district) == [DISTRICT_Q4_DUE, 1, DISTRICT_Q4_DUE - 1]
    assert units_table_row(content, training_base) == [1, 0, 1]
    assert "有关行业协会" not in re.search(
        r'<table class="data-table units">.*?</table>', content, re.S
    ).group(0)


def test_the_cooperation_page_marks_missing_contributions_late(client, quxian):
    contribute(quxian, milestone(3, 3), 4)
    client.force_login(quxian)

    content = client.get(reverse("unit-work") + "?quarter=4").content.decode()

    assert "已提交" in unit_row(content, milestone(3, 3))
    assert "已逾期" in unit_row(content, milestone(2, 4))
    assert 'class="unit-row overdue"' in content


# --- Bounded queries ---------------------------------------------------------------------


def enlarge_with_units(plan, times: int) -> None:
    """tasks' enlarge(), with each copy naming the original's cooperating units."""
    enlarge(plan, times)
    originals = {
        m.number: list(m.cooperating_units.all())
        for m in Measure.objects.filter(work_area__plan=plan, number__lt=100)
    }
    for clone in Measure.objects.filter(work_area__plan=plan, number__gt=100):
        clone.cooperating_units.set(originals[clone.number % 100])


def contribute_everywhere(plan, unit: Department, user, quarter: int) -> int:
    """A contribution of `unit` to every milestone of `quarter` naming it."""
    now = timezone.make_aware(datetime.datetime(2015, 1, 5, 10, 0))  # before the due date
    targets = Milestone.objects.scheduled_in(quarter).filter(
        measure__work_area__plan=plan, measure__cooperating_units=unit
    )
    made = Contribution.objects.bulk_create(
        Contribution(
            milestone=target,
            quarter=quarter,
            unit=unit,
            text="配合。",
            submitted_by=user,
            first_submitted_at=now,
            updated_at=now,
        )
        for target in targets
    )
    return len(made)


# session, user with roles and units (one query), the plan, milestones, contributions,
# approved reports, the plans list.
UNIT_WORK_QUERIES = 8


@pytest.mark.parametrize("times", [1, 20], ids=["1x", "20x"])
def test_the_cooperation_pages_queries_do_not_grow_with_the_data(
    client, quxian, district, reviewer, django_assert_max_num_queries, times
):
    plan = milestone(3, 3).measure.work_area.plan
    enlarge_with_units(plan, times)
    made = contribute_everywhere(plan, district, quxian, 4)
    builders.report(milestone(3, 3), 4, reviewer=reviewer)
    client.force_login(quxian)

    with django_assert_max_num_queries(UNIT_WORK_QUERIES):
        response = client.get(reverse("unit-work") + "?quarter=4")

    assert made == DISTRICT_Q4_DUE * times
    assert response.content.decode().count('class="unit-row') == DISTRICT_Q4_DUE * times


# The dashboard's nine (see tests/test_dashboard_views.py), and two for the units table: the
# cooperating units of the quarter's milestones and the quarter's contributions; and the
# supervision panel's one.
OVERVIEW_QUERIES = 12


@pytest.mark.parametrize("times", [1, 20], ids=["1x", "20x"])
def test_the_dashboards_queries_do_not_grow_with_contributions(
    client, leader, quxian, jidi, district, training_base, django_assert_max_num_queries, times
):
    plan = milestone(3, 3).measure.work_area.plan
    enlarge_with_units(plan, times)
    contribute_everywhere(plan, district, quxian, 4)
    contribute_everywhere(plan, training_base, jidi, 4)
    client.force_login(leader)

    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get(f"{reverse('dashboard')}?plan={plan.pk}&quarter=4")

    due = DISTRICT_Q4_DUE * times
    assert units_table_row(response.content.decode(), district) == [due, due, 0]


# The office's report form: session, user with roles and offices (one query), milestone, its
# measure (with work area and plan), the measure's offices and cooperating units, the report,
# its evidence, then the contributions with their units and authors, their files, their
# versions (with the versions' authors) and the offices of those authors
# (people.display_name). The report page reads the report and its versions too.
OFFICE_PAGE_QUERIES = {"report-edit": 12, "report-detail": 13}


@pytest.mark.parametrize("files", [1, 5])
@pytest.mark.parametrize("name", ["report-edit", "report-detail"])
def test_the_offices_pages_queries_do_not_grow_with_contributions(
    client, planning_staff, quxian, jidi, media, django_assert_max_num_queries, name, files
):
    target = milestone(16, 2)  # both units cooperate
    for user in (quxian, jidi):
        contribute(user, target, 4, files=[pdf(f"材料{n}.pdf") for n in range(files)])
    report = builders.report(target, 4, state="draft")
    client.force_login(planning_staff)
    url = (
        reverse(name, args=[target.pk, 4])
        if name == "report-edit"
        else reverse(name, args=[report.pk])
    )

    with django_assert_max_num_queries(OFFICE_PAGE_QUERIES[name]):
        response = client.get(url)

    assert response.content.decode().count('class="contribution"') == 2
    assert response.content.decode().count("/cooperation/files/") == 2 * files
