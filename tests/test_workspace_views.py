"""The office workspace through the web: who may open and post what, evidence files, stale
edits, the "my work" page and the number of queries each page makes."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from departments import roles
from plan.models import Milestone, Plan
from tasks.models import Evidence, ProgressReport, ReportVersion

from .conftest import make_user
from .test_plan_views import enlarge
from .test_report_rules import approved, milestone, returned, review, submitted, write

State = ProgressReport.State
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE_NAME = "专利质押融资情况.pdf"
PERSONAS = ["anonymous", "staff", "other_staff", "reviewer", "leader", "admin_user"]


def log_in(client, request, persona: str):
    """Logs `client` in as the persona fixture named `persona` (or leaves it anonymous)."""
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


def edit_url(target: Milestone, quarter: int) -> str:
    return reverse("report-edit", args=[target.pk, quarter])


def report_form(version: int = 0, *, submit: bool = False, **fields) -> dict:
    """What the report form posts."""
    data = {
        "version": version,
        "status": "in_progress",
        "percent": 50,
        "done_text": "已完成前期调研。",
        "problems_text": "",
        **fields,
    }
    data["submit" if submit else "save"] = ""
    return data


def redirected_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def pdf(name: str = EVIDENCE_NAME, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def files_under(path) -> list:
    return [item for item in path.rglob("*") if item.is_file()]


@pytest.fixture
def colleague(patent_office):
    """A second member of 专利管理处."""
    return make_user("chen", roles.STAFF, patent_office)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def evidence(staff, media) -> Evidence:
    """A draft report of 专利管理处 (measure 8, first quarter) with one PDF attached."""
    write(staff, milestone(8, 1), 1, files=[pdf()])
    return Evidence.objects.get()


# --- Who may write ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("staff", 302),
        ("other_staff", 403),
        ("reviewer", 403),
        ("leader", 403),
        ("admin_user", 403),
    ],
)
def test_only_the_responsible_office_posts_a_report(client, request, plan_2014, persona, status):
    log_in(client, request, persona)

    response = client.post(edit_url(milestone(3, 1), 1), report_form())

    assert response.status_code == status
    assert ProgressReport.objects.exists() == (status == 302)
    assert ReportVersion.objects.exists() == (status == 302)


def test_an_anonymous_report_post_is_sent_to_login(client, plan_2014):
    response = client.post(edit_url(milestone(3, 1), 1), report_form())

    assert redirected_to_login(response)
    assert not ProgressReport.objects.exists()


def test_a_saved_report_leads_back_to_the_quarters_work(client, staff, plan_2014):
    client.force_login(staff)

    response = client.post(edit_url(milestone(3, 1), 1), report_form(submit=True))

    assert response["Location"] == f"{reverse('my-work')}?plan={plan_2014.pk}&quarter=1"
    assert ProgressReport.objects.get().state == State.SUBMITTED


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("staff", 403),
        ("other_staff", 403),
        ("reviewer", 302),
        ("leader", 403),
        ("admin_user", 403),
    ],
)
def test_only_reviewers_post_a_review(client, request, staff, persona, status):
    report = submitted(staff, milestone(3, 1), 1)
    log_in(client, request, persona)

    response = client.post(
        reverse("report-review", args=[report.pk]), {"version": 2, "approve": ""}
    )

    assert response.status_code == status
    report.refresh_from_db()
    if status == 302:
        assert response["Location"] == reverse("review-queue")
        assert (report.state, report.version) == (State.APPROVED, 3)
    else:
        assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_an_anonymous_review_post_is_sent_to_login(client, staff):
    report = submitted(staff, milestone(3, 1), 1)

    response = client.post(
        reverse("report-review", args=[report.pk]), {"version": 2, "approve": ""}
    )

    assert redirected_to_login(response)
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


@pytest.mark.parametrize("persona", ["other_staff", "reviewer", "leader", "admin_user"])
def test_only_the_responsible_office_opens_the_report_form(client, request, plan_2014, persona):
    log_in(client, request, persona)
    assert client.get(edit_url(milestone(3, 1), 1)).status_code == 403


def test_the_responsible_office_opens_the_report_form(client, staff):
    client.force_login(staff)

    response = client.get(edit_url(milestone(3, 1), 1))

    assert response.status_code == 200
    assert "第一季度进展填报" in response.content.decode()


def test_other_offices_cannot_edit_an_existing_report_either(client, staff, other_staff):
    report = write(staff, milestone(3, 1), 1, done_text="张的初稿。")
    client.force_login(other_staff)

    response = client.post(edit_url(milestone(3, 1), 1), report_form(1, done_text="李的改动。"))

    assert response.status_code == 403
    report.refresh_from_db()
    assert (report.version, report.done_text) == (1, "张的初稿。")


def test_the_form_of_a_quarter_the_milestone_does_not_span_is_refused(client, staff):
    client.force_login(staff)
    assert client.get(edit_url(milestone(3, 3), 2)).status_code == 403  # 第三--四季度
    assert client.get(edit_url(milestone(19, 1), 1)).status_code == 403  # 第一阶段


def test_a_submitted_report_shows_it_cannot_be_changed(client, staff):
    report = submitted(staff, milestone(3, 1), 1)
    client.force_login(staff)

    page = client.get(edit_url(milestone(3, 1), 1))
    response = client.post(edit_url(milestone(3, 1), 1), report_form(2, done_text="改动。"))

    assert "该报告当前状态为“已提交”,不能修改。" in page.content.decode()
    assert 'class="card report-form"' not in page.content.decode()
    assert response.status_code == 200
    report.refresh_from_db()
    assert (report.version, report.done_text) == (2, "已完成前期调研。")


def test_submitting_without_done_text_shows_the_message_at_the_field(client, staff):
    client.force_login(staff)

    response = client.post(edit_url(milestone(3, 1), 1), report_form(submit=True, done_text=""))

    assert response.status_code == 200
    assert response.context["form"].errors["done_text"] == ["提交前请填写完成情况。"]
    assert "提交前请填写完成情况。" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_done_below_100_percent_shows_the_message_at_the_field(client, staff):
    client.force_login(staff)

    response = client.post(edit_url(milestone(3, 1), 1), report_form(status="done", percent=80))

    assert response.context["form"].errors["percent"] == ["状态为“已完成”时,完成百分比须为100%。"]
    assert not ProgressReport.objects.exists()


# --- Reviewing through the page ---------------------------------------------------------


def test_returning_without_a_comment_is_refused_with_a_message(client, staff, reviewer):
    report = submitted(staff, milestone(3, 1), 1)
    client.force_login(reviewer)

    response = client.post(reverse("report-review", args=[report.pk]), {"version": 2, "return": ""})

    assert response.status_code == 200  # the page again, with the review form
    assert "退回时请填写审核意见。" in response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_a_review_of_an_older_version_is_refused_with_a_message(client, staff, reviewer):
    report = submitted(staff, milestone(3, 1), 1)
    client.force_login(reviewer)

    response = client.post(
        reverse("report-review", args=[report.pk]), {"version": 1, "approve": "", "comment": "好"}
    )

    assert response.status_code == 409
    assert "审核未成功:" in response.content.decode() and "第2版" in response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_a_returned_report_shows_the_reviewers_comment_on_the_form(client, staff, reviewer):
    returned(staff, reviewer, milestone(3, 1), 1)
    client.force_login(staff)

    html = client.get(edit_url(milestone(3, 1), 1)).content.decode()

    assert "退回意见" in html and "请补充数据。" in html
    assert 'class="card report-form"' in html


# --- Who may read -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("staff", 200),
        ("reviewer", 200),
        ("leader", 200),
        ("admin_user", 200),
        ("other_staff", 404),  # may not know the report exists
    ],
)
def test_who_reads_a_report(client, request, evidence, persona, status):
    log_in(client, request, persona)

    response = client.get(reverse("report-detail", args=[evidence.report.pk]))

    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("staff", 200),
        ("reviewer", 200),
        ("leader", 200),
        ("admin_user", 200),
        ("other_staff", 404),  # may not know the report exists
    ],
)
def test_who_downloads_evidence(client, request, evidence, persona, status):
    log_in(client, request, persona)

    response = client.get(reverse("evidence-download", args=[evidence.pk]))

    assert response.status_code == status


def test_anonymous_visitors_read_nothing(client, evidence):
    assert redirected_to_login(client.get(reverse("report-detail", args=[evidence.report.pk])))
    assert redirected_to_login(client.get(reverse("evidence-download", args=[evidence.pk])))


def test_evidence_is_downloaded_as_an_attachment_under_its_own_name(client, leader, evidence):
    client.force_login(leader)

    response = client.get(reverse("evidence-download", args=[evidence.pk]))

    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(EVIDENCE_NAME)}"
    assert b"".join(response.streaming_content) == PDF


def test_evidence_is_stored_under_a_random_name_and_not_served_as_media(client, staff, evidence):
    client.force_login(staff)
    stored = evidence.file.name

    assert stored.startswith(f"evidence/{milestone(8, 1).pk}/") and stored.endswith(".pdf")
    assert "质押" not in stored
    assert client.get(f"/media/{stored}").status_code == 404


def test_the_report_page_links_the_evidence(client, reviewer, evidence):
    client.force_login(reviewer)

    html = client.get(reverse("report-detail", args=[evidence.report.pk])).content.decode()

    assert reverse("evidence-download", args=[evidence.pk]) in html
    assert EVIDENCE_NAME in html


# --- Evidence files through the form ----------------------------------------------------


def test_evidence_files_are_saved_with_the_report(client, staff, media):
    client.force_login(staff)

    client.post(
        edit_url(milestone(8, 1), 1),
        report_form(evidence=[pdf("会议纪要.pdf"), pdf("签到表.pdf")]),
    )

    report = ProgressReport.objects.get()
    assert list(report.evidence.values_list("name", "size", "version")) == [
        ("会议纪要.pdf", len(PDF), 1),
        ("签到表.pdf", len(PDF), 1),
    ]
    assert len(files_under(media)) == 2


def post_rejected_file(client, staff, upload):
    client.force_login(staff)
    return client.post(edit_url(milestone(8, 1), 1), report_form(evidence=[upload]))


def assert_refused_with(response, message: str, media) -> None:
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"] == [message]
    assert 'id="id_evidence_error"' in response.content.decode()
    assert message in response.content.decode()
    assert not ProgressReport.objects.exists()
    assert not Evidence.objects.exists()
    assert files_under(media) == []


def test_an_exe_file_is_refused(client, staff, media):
    upload = SimpleUploadedFile("tool.exe", b"MZ\x90\x00\x03", content_type="application/pdf")

    response = post_rejected_file(client, staff, upload)

    message = "文件“tool.exe”的类型不允许。可上传:pdf、doc、docx、xls、xlsx、jpg、png。"
    assert_refused_with(response, message, media)


def test_a_pdf_that_is_not_a_pdf_is_refused(client, staff, media):
    upload = pdf("进展.pdf", b"MZ\x90\x00 this is a program")

    response = post_rejected_file(client, staff, upload)

    assert_refused_with(response, "文件“进展.pdf”的内容与扩展名不符,可能已损坏。", media)


def test_a_file_over_the_size_limit_is_refused(client, staff, media, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    upload = pdf("big.pdf", PDF + b"0" * (200 - len(PDF)))

    response = post_rejected_file(client, staff, upload)

    assert_refused_with(response, "文件“big.pdf”大小为200\xa0字节,超过100\xa0字节的上限。", media)


def test_one_bad_file_refuses_the_whole_upload(client, staff, media):
    client.force_login(staff)

    response = client.post(
        edit_url(milestone(8, 1), 1),
        report_form(evidence=[pdf("好的.pdf"), SimpleUploadedFile("坏的.exe", b"MZ")]),
    )

    assert response.status_code == 200
    assert not Evidence.objects.exists()
    assert files_under(media) == []


# --- Stale edits through the form -------------------------------------------------------


def test_a_stale_save_keeps_the_users_text_and_shows_the_newer_version(client, staff, colleague):
    write(staff, milestone(3, 1), 1, done_text="初稿。")
    other = Client()
    client.force_login(staff)
    other.force_login(colleague)
    client.get(edit_url(milestone(3, 1), 1))
    other.get(edit_url(milestone(3, 1), 1))  # both forms carry version 1

    first = client.post(edit_url(milestone(3, 1), 1), report_form(1, done_text="张的修改。"))
    second = other.post(edit_url(milestone(3, 1), 1), report_form(1, done_text="陈的修改。"))

    assert first.status_code == 302
    assert second.status_code == 200
    html = second.content.decode()
    assert "保存未成功:zhang(专利管理处) 已于 " in html  # by name (none set: login) and office
    assert (
        "修改了这份报告(第2版)。下方是最新内容,您填写的内容仍保留在表单中(选择的附件已暂存,保存时一并上传),请核对后重新保存。"
        in html
    )
    assert '<dd class="pre">张的修改。</dd>' in html  # the newer version
    assert ">\n陈的修改。</textarea>" in html  # the user's own text, still in the form
    assert second.context["form"]["version"].value() == 2  # saving again overwrites knowingly
    report = ProgressReport.objects.get()
    assert (report.version, report.done_text, report.updated_by) == (2, "张的修改。", staff)


def test_a_stale_save_keeps_the_users_text_when_the_newer_version_was_submitted(
    client, staff, colleague
):
    write(staff, milestone(3, 1), 1, done_text="初稿。")
    other = Client()
    client.force_login(staff)
    other.force_login(colleague)

    client.post(edit_url(milestone(3, 1), 1), report_form(1, done_text="张的定稿。", submit=True))
    second = other.post(edit_url(milestone(3, 1), 1), report_form(1, done_text="陈的长篇修改。"))

    html = second.content.decode()
    assert "保存未成功" in html
    assert "陈的长篇修改。" in html


# --- My work ----------------------------------------------------------------------------


def test_my_work_shows_the_last_quarter_of_a_past_plan_by_default(client, staff, plan_2014):
    assert timezone.localdate().year > 2014
    client.force_login(staff)

    response = client.get(reverse("my-work"))

    assert response.context["quarter"] == 4
    assert '<option value="4" selected>2014年第四季度</option>' in response.content.decode()
    assert [group.measure.number for group in response.context["groups"]] == [3, 7, 8, 18]


def test_my_work_shows_the_chosen_quarter(client, staff, plan_2014):
    client.force_login(staff)

    response = client.get(reverse("my-work"), {"quarter": 2})

    assert response.context["quarter"] == 2
    html = response.content.decode()
    assert '<option value="2" selected>2014年第二季度</option>' in html
    assert "第二--三季度" in html
    assert "本季度报告截止日期:2014-07-10" in html


@pytest.mark.parametrize("quarter", ["9", "0", "abc", ""])
def test_an_invalid_quarter_falls_back_to_the_default(client, staff, plan_2014, quarter):
    client.force_login(staff)

    response = client.get(reverse("my-work"), {"quarter": quarter})

    assert response.status_code == 200
    assert response.context["quarter"] == 4


def test_the_banner_lists_the_pending_milestones(client, staff, plan_2014):
    submitted(staff, milestone(7, 4), 4)
    write(staff, milestone(8, 4), 4)
    client.force_login(staff)

    html = client.get(reverse("my-work")).content.decode()

    banner = html[html.index('class="banner"') : html.index("</div>", html.index('class="banner"'))]
    assert "本季度还有 3 个进度节点未提交或被退回:" in banner
    for pending in [milestone(3, 3), milestone(8, 4), milestone(18, 3)]:
        assert f'href="{edit_url(pending, 4)}"' in banner
    assert edit_url(milestone(7, 4), 4) not in banner


def test_no_banner_when_everything_is_submitted(client, staff, plan_2014):
    for target in [milestone(3, 3), milestone(7, 4), milestone(8, 4), milestone(18, 3)]:
        submitted(staff, target, 4)
    client.force_login(staff)

    html = client.get(reverse("my-work")).content.decode()

    assert 'class="banner"' not in html
    assert "已提交" in html


def test_a_returned_report_is_shown_returned_and_overdue(client, staff, reviewer, plan_2014):
    returned(staff, reviewer, milestone(7, 4), 4)
    client.force_login(staff)

    html = client.get(reverse("my-work")).content.decode()

    row = html[html.index(f'data-milestone="{milestone(7, 4).pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="state state-returned">已退回</span>' in row
    assert '<span class="state state-overdue">已逾期</span>' in row
    assert "编辑" in row


def test_an_approved_report_of_a_past_plan_is_not_overdue(client, staff, reviewer, plan_2014):
    approved(staff, reviewer, milestone(7, 4), 4)
    client.force_login(staff)

    html = client.get(reverse("my-work")).content.decode()

    row = html[html.index(f'data-milestone="{milestone(7, 4).pk}"') :]
    row = row[: row.index("</tr>")]
    assert "已通过" in row
    assert "已逾期" not in row


def test_a_user_without_an_office_is_told_so(client, plan_2014):
    client.force_login(make_user("sun", roles.STAFF))

    html = client.get(reverse("my-work")).content.decode()

    assert "您的账号尚未关联任何责任处室,请联系管理员。" in html


# --- Queries do not grow with the plan --------------------------------------------------


def add_reports_to_every_milestone(plan: Plan, quarter: int, author) -> None:
    """Gives every milestone of the plan due in `quarter` a report, in turns draft,
    submitted, returned and approved, each with its versions."""
    now = timezone.now()
    states = [State.DRAFT, State.SUBMITTED, State.RETURNED, State.APPROVED]
    milestones = Milestone.objects.scheduled_in(quarter).filter(measure__work_area__plan=plan)
    reports = ProgressReport.objects.bulk_create(
        ProgressReport(
            milestone=target,
            quarter=quarter,
            state=states[index % 4],
            percent=50,
            done_text=f"进展{index}。",
            version=2,
            updated_by=author,
            updated_at=now,
        )
        for index, target in enumerate(milestones.exclude(reports__quarter=quarter))
    )
    ReportVersion.objects.bulk_create(
        ReportVersion(
            report=report, version=version, event="saved", by=author, at=now, percent=50, **fields
        )
        for report in reports
        for version, fields in [
            (1, {"state": State.DRAFT, "done_text": report.done_text}),
            (2, {"state": report.state, "done_text": report.done_text}),
        ]
    )


def a_long_history(staff, reviewer, target: Milestone, quarter: int) -> ProgressReport:
    """A report returned and resubmitted five times, with a file at each resubmission."""
    report = submitted(staff, target, quarter)
    for round_ in range(5):
        report = review(reviewer, report, approve=False, comment=f"第{round_ + 1}次退回。")
        report = write(
            staff,
            target,
            quarter,
            base_version=report.version,
            done_text=f"第{round_ + 1}次修改。",
            submit=True,
            files=[pdf(f"材料{round_ + 1}.pdf")],
        )
    return report


def test_my_work_queries_do_not_grow_with_the_plan(
    client, staff, reviewer, plan_2014, django_assert_max_num_queries
):
    returned(staff, reviewer, milestone(7, 4), 4)
    client.force_login(staff)
    # session, user with roles and offices (one query), plan, reports, milestones, plans
    # list, and the supervision banner: open urgings, unanswered instructions
    with django_assert_max_num_queries(8):
        small = client.get(reverse("my-work"))
    enlarge(plan_2014, 20)
    add_reports_to_every_milestone(plan_2014, 4, staff)
    with django_assert_max_num_queries(8):
        large = client.get(reverse("my-work"))
    assert large.content.decode().count("work-row") == 20 * small.content.decode().count("work-row")


def test_report_form_queries_do_not_grow_with_the_plan_or_the_history(
    client, staff, reviewer, plan_2014, media, django_assert_max_num_queries
):
    target = milestone(7, 4)
    write(staff, target, 4, files=[pdf()])
    client.force_login(staff)
    # session, user with roles and offices (one query), milestone, its measure (with work
    # area and plan), the measure's offices and cooperating units, the report, its evidence,
    # the cooperating units' contributions (and their files, when there are any)
    with django_assert_max_num_queries(11):
        client.get(edit_url(target, 4))
    enlarge(plan_2014, 20)
    add_reports_to_every_milestone(plan_2014, 4, staff)
    for round_ in range(5):
        report = ProgressReport.objects.get(milestone=target, quarter=4)
        write(staff, target, 4, base_version=report.version, files=[pdf(f"材料{round_}.pdf")])
    with django_assert_max_num_queries(11):
        response = client.get(edit_url(target, 4))
    assert len(response.context["evidence"]) == 6


def test_report_page_queries_do_not_grow_with_the_plan_or_the_history(
    client, staff, reviewer, plan_2014, media, django_assert_max_num_queries
):
    small = submitted(staff, milestone(7, 4), 4)
    client.force_login(reviewer)
    # session, user with roles (one query), report with its author, milestone, its measure
    # (with work area and plan), the measure's offices and cooperating units, evidence with
    # uploaders, versions with their authors, the cooperating units' contributions (and
    # their files, if any)
    with django_assert_max_num_queries(11):
        client.get(reverse("report-detail", args=[small.pk]))
    large = a_long_history(staff, reviewer, milestone(8, 4), 4)
    enlarge(plan_2014, 20)
    add_reports_to_every_milestone(plan_2014, 4, staff)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("report-detail", args=[large.pk]))
    assert len(response.context["versions"]) == 12
    assert len(response.context["evidence"]) == 5


def test_review_queue_queries_do_not_grow_with_the_plan(
    client, staff, reviewer, plan_2014, django_assert_max_num_queries
):
    submitted(staff, milestone(7, 4), 4)
    client.force_login(reviewer)
    # session, user with roles (one query), the plan, the plans for the selector, the count
    # of waiting reports, one page of them with milestone, measure and author
    with django_assert_max_num_queries(6):
        small = client.get(reverse("review-queue"))
    enlarge(plan_2014, 20)
    add_reports_to_every_milestone(plan_2014, 4, staff)
    with django_assert_max_num_queries(6):
        large = client.get(reverse("review-queue"))
    assert small.content.decode().count("review-row") == 1
    waiting = ProgressReport.objects.filter(state=State.SUBMITTED).count()
    assert waiting > 50
    assert large.content.decode().count("review-row") == 50  # one page
    assert f"共 {waiting} 份待审核" in large.content.decode()
    last = client.get(reverse("review-queue"), {"page": (waiting + 49) // 50})
    assert last.content.decode().count("review-row") == waiting - 50 * ((waiting - 1) // 50)
