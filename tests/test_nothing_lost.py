"""Issue 12: nothing typed is lost, and no write goes around the rules.

The five paths that broke the promise, each shown keeping the text, file or comment, or
refusing the stale row, with the database (history included) as it should be; then
withdrawing, removing a file, the file limit, and the CSRF page."""

import io
import re
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from departments import roles
from departments.models import Department
from plan.models import Milestone
from spreadsheets.importing import XLSX as XLSXFormat
from tasks import services, signals
from tasks.models import Evidence, ProgressReport, ReportVersion
from tasks.resources import ProgressReportResource

from .conftest import make_user
from .test_admin_import_export import REPORT_HEADERS, report_row, xlsx
from .test_offline_templates import as_bytes, fill, row_of
from .test_report_rules import milestone, review, submitted, write
from .test_workspace_views import PDF, edit_url, pdf, report_form

State = ProgressReport.State


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def history(report) -> list[tuple]:
    return list(
        report.versions.order_by("version").values_list("version", "event", "channel", "by")
    )


def channels() -> dict[str, int]:
    counts = {}
    for channel in ReportVersion.objects.values_list("channel", flat=True):
        counts[channel] = counts.get(channel, 0) + 1
    return counts


# --- 1. The admin's progress import follows the rules ----------------------------------


def import_rows(user, *rows):
    dataset = XLSXFormat().create_dataset(xlsx(REPORT_HEADERS, *rows))
    return ProgressReportResource().import_data(dataset, dry_run=False, user=user)


def row_errors(result) -> str:
    return " ".join(
        message
        for row in result.invalid_rows
        for messages in row.error_dict.values()
        for message in messages
    )


@pytest.fixture
def reviewing_admin(plan_2014):
    """An admin who also holds the reviewer role."""
    user = make_user("admin-reviewer", roles.ADMIN)
    user.groups.add(*make_user("tmp-r", roles.REVIEWER).groups.all())
    return user


def test_admin_import_refuses_a_row_exported_before_the_office_saved_again(admin_user, staff):
    target = milestone(7, 4)
    first = write(staff, target, 4, percent=50, done_text="旧的")
    exported_version = first.version
    write(staff, target, 4, base_version=first.version, percent=70, done_text="新的")

    result = import_rows(
        admin_user, report_row(完成百分比=50, 完成情况="管理员的旧文件", 版本号=exported_version)
    )

    assert result.has_validation_errors()
    message = row_errors(result)
    assert "第2行" in message and "第1版" in message and "第2版" in message and "zhang" in message
    report = ProgressReport.objects.get()
    assert (report.version, report.percent, report.done_text) == (2, 70, "新的")
    assert [h[2] for h in history(report)] == ["web", "web"]


def test_admin_import_skips_a_row_left_as_exported_when_the_report_changed_since(admin_user, staff):
    target, other = milestone(7, 4), milestone(8, 4)
    first = write(staff, target, 4, percent=50, done_text="旧的")
    write(staff, target, 4, base_version=first.version, percent=70, done_text="新的")

    result = import_rows(
        admin_user,
        report_row(完成百分比=50, 完成情况="旧的", 版本号=first.version),  # as exported
        report_row(措施编号=8, 完成情况="管理员补录的。"),  # a new report
    )

    assert not result.has_validation_errors(), row_errors(result)
    assert (result.totals["skip"], result.totals["new"]) == (1, 1)
    report = ProgressReport.objects.get(milestone=target)
    assert (report.version, report.percent, report.done_text) == (2, 70, "新的")
    created = ProgressReport.objects.get(milestone=other)
    assert history(created) == [(1, "saved", "admin", admin_user.pk)]


def test_admin_import_may_not_approve_without_the_reviewer_role(admin_user, staff):
    report = submitted(staff, milestone(7, 4), 4)

    result = import_rows(
        admin_user, report_row(审核状态="已通过", 完成百分比=50, 版本号=report.version)
    )

    assert "第2行" in row_errors(result) and "只有审核人可以审核报告" in row_errors(result)
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_admin_import_may_not_move_a_draft_straight_to_approved(reviewing_admin, staff):
    report = write(staff, milestone(7, 4), 4)

    result = import_rows(
        reviewing_admin, report_row(审核状态="已通过", 完成百分比=50, 版本号=report.version)
    )

    assert "只能审核已提交的报告" in row_errors(result)
    assert ProgressReport.objects.get().state == State.DRAFT


def test_admin_import_may_not_touch_a_report_being_reviewed(admin_user, staff):
    report = submitted(staff, milestone(7, 4), 4)

    result = import_rows(
        admin_user, report_row(审核状态="已提交", 完成百分比=99, 版本号=report.version)
    )

    assert "第2行" in row_errors(result) and "不能修改" in row_errors(result)
    assert ProgressReport.objects.get().percent == 50


def test_a_reviewer_admins_import_is_recorded_as_their_review(reviewing_admin, staff):
    report = submitted(staff, milestone(7, 4), 4)

    result = import_rows(
        reviewing_admin,
        report_row(
            审核状态="已退回",
            完成百分比=50,
            完成情况="已完成前期调研。",
            审核意见="请补充数据。",
            版本号=report.version,
        ),
    )

    assert not result.has_validation_errors() and not result.has_errors(), row_errors(result)
    report.refresh_from_db()
    assert (report.state, report.version, report.review_comment) == (
        State.RETURNED,
        3,
        "请补充数据。",
    )
    assert report.updated_by == staff  # a review leaves the author as it was
    last = report.versions.order_by("version").last()
    assert (last.event, last.channel, last.by, last.comment) == (
        "returned",
        "admin",
        reviewing_admin,
        "请补充数据。",
    )


def test_an_imported_review_is_announced_like_a_web_review(
    reviewing_admin, staff, django_capture_on_commit_callbacks
):
    report = submitted(staff, milestone(7, 4), 4)
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["report"].pk, kwargs["approved"], kwargs["channel"]))

    signals.report_reviewed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = import_rows(
                reviewing_admin,
                report_row(审核状态="已通过", 完成百分比=50, 完成情况="已完成前期调研。", 版本号=2),
            )
    finally:
        signals.report_reviewed.disconnect(listener)
    assert not result.has_validation_errors(), row_errors(result)
    assert heard == [(report.pk, True, "admin")]


def test_a_reviewer_admin_may_not_edit_and_review_in_one_row(reviewing_admin, staff):
    report = submitted(staff, milestone(7, 4), 4)

    result = import_rows(
        reviewing_admin,
        report_row(审核状态="已通过", 完成百分比=55, 版本号=report.version),  # edit + approve
    )

    assert "审核时不能同时修改报告内容" in row_errors(result)
    assert ProgressReport.objects.get().state == State.SUBMITTED


def test_a_reviewer_admin_may_not_review_a_report_they_submitted(reviewing_admin, staff):
    report = write(staff, milestone(7, 4), 4)
    submitted_by_import = import_rows(
        reviewing_admin, report_row(审核状态="已提交", 版本号=report.version)
    )
    assert not submitted_by_import.has_validation_errors(), row_errors(submitted_by_import)
    report.refresh_from_db()
    assert (report.state, report.updated_by) == (State.SUBMITTED, reviewing_admin)

    result = import_rows(reviewing_admin, report_row(审核状态="已通过", 版本号=report.version))

    assert "第2行" in row_errors(result) and "不能审核自己提交的报告" in row_errors(result)
    report.refresh_from_db()
    assert report.state == State.SUBMITTED
    assert [h[1:3] for h in history(report)] == [("saved", "web"), ("submitted", "admin")]


def test_the_admin_export_carries_each_reports_version(admin_client, staff):
    report = submitted(staff, milestone(7, 4), 4)
    content = admin_client.post(
        reverse("admin:tasks_progressreport_export"), {"format": "0", "resource": "0"}
    ).content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("版本号") + 1).value == report.version


# --- 2. The offline template does not overwrite newer web edits -----------------------


def offline_upload(client, plan, book):
    return client.post(
        reverse("offline-upload") + f"?plan={plan.pk}&quarter=4",
        {"file": SimpleUploadedFile("填报表.xlsx", as_bytes(book))},
        follow=True,
    )


def template(client, plan):
    response = client.get(reverse("offline-download"), {"plan": plan.pk, "quarter": 4})
    return load_workbook(io.BytesIO(response.content))


def test_an_old_template_leaves_the_newer_web_edit_and_saves_the_row_touched(
    client, staff, plan_2014
):
    edited, other = milestone(7, 4), milestone(8, 4)
    first = write(staff, edited, 4, percent=50, done_text="旧的文字")
    client.force_login(staff)
    book = template(client, plan_2014)  # 7-4 at version 1: 50%, 旧的文字
    write(staff, edited, 4, base_version=first.version, percent=70, done_text="网页上的新文字")
    fill(book.active, other.pk, "进行中", 30, "只改了另一行。")

    page = offline_upload(client, plan_2014, book).content.decode()

    report = ProgressReport.objects.get(milestone=edited, quarter=4)
    assert (report.version, report.percent, report.done_text) == (2, 70, "网页上的新文字")
    assert "新建草稿1份,更新草稿0份" in page
    created_row = row_of(book.active, other.pk)
    untouched_row = row_of(book.active, edited.pk)
    assert f"第{created_row}行新建" in page and f"第{untouched_row}行未改动" in page
    new = ProgressReport.objects.get(milestone=other, quarter=4)
    assert history(new) == [(1, "saved", "offline", staff.pk)]
    assert [h[2] for h in history(report)] == ["web", "web"]


def test_a_changed_row_on_an_older_version_is_refused_saying_who_when_and_what(
    client, staff, plan_2014, patent_office
):
    colleague = make_user("chen", roles.STAFF, patent_office)
    edited, other = milestone(7, 4), milestone(8, 4)
    first = write(staff, edited, 4, percent=50, done_text="旧的文字")
    client.force_login(staff)
    book = template(client, plan_2014)
    write(colleague, edited, 4, base_version=first.version, percent=70, done_text="同事的新文字")
    fill(book.active, edited.pk, "进行中", 60, "我在表格里写的。")
    fill(book.active, other.pk, "进行中", 30, "另一行。")

    page = offline_upload(client, plan_2014, book).content.decode()

    number = row_of(book.active, edited.pk)
    assert f"第{number}行:您的这一行是在第1版上填写的,但chen已于" in page
    assert "第2版" in page and "同事的新文字" in page and "70%" in page
    assert f"第{number}行被拒绝" in page
    report = ProgressReport.objects.get(milestone=edited, quarter=4)
    assert (report.version, report.done_text) == (2, "同事的新文字")
    assert ProgressReport.objects.filter(milestone=other, quarter=4).exists()


def test_a_blank_row_downloaded_before_the_report_was_written_is_left_alone(
    client, staff, plan_2014
):
    edited, other = milestone(7, 4), milestone(8, 4)
    client.force_login(staff)
    book = template(client, plan_2014)  # no reports yet: every row blank, version 0
    write(staff, edited, 4, percent=70, done_text="网页上写的")
    fill(book.active, other.pk, "进行中", 30, "另一行。")

    page = offline_upload(client, plan_2014, book).content.decode()

    assert "新建草稿1份" in page and "被拒绝" not in page
    assert ProgressReport.objects.get(milestone=edited).done_text == "网页上写的"


# --- 3. A session that ended: the server refuses plainly, the CSRF page is ours --------


def test_a_save_after_logout_goes_to_login_and_saves_nothing(client, staff):
    target = milestone(7, 4)
    client.force_login(staff)
    client.logout()

    response = client.post(edit_url(target, 4), report_form(done_text="打了很久的字"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert f"next={edit_url(target, 4)}" in response["Location"].replace("%2F", "/")
    assert not ProgressReport.objects.exists()


def test_a_stale_csrf_token_gets_our_chinese_page_leading_back_to_the_form(staff):
    target = milestone(7, 4)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    form_url = edit_url(target, 4)
    client.get(form_url)  # sets the CSRF cookie

    response = client.post(
        form_url,
        {**report_form(done_text="打了很久的字"), "csrfmiddlewaretoken": "x" * 64},
        HTTP_REFERER=f"http://testserver{form_url}",
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "页面已过期,内容未提交" in page and "您填写的内容没有丢失" in page
    assert f'href="http://testserver{form_url}"' in page
    assert "CSRF" not in page and "Forbidden" not in page
    assert not ProgressReport.objects.exists()


def test_forms_are_marked_for_keeping_drafts_by_user_page_and_version(client, staff):
    target = milestone(7, 4)
    report = write(staff, target, 4)
    client.force_login(staff)

    page = client.get(edit_url(target, 4)).content.decode()

    assert "data-keep-draft" in page
    assert f'data-draft-page="{staff.pk}:{edit_url(target, 4)}"' in page
    assert f'data-draft-version="{report.version}"' in page
    assert "js/drafts.js" in page


def test_a_successful_save_tells_the_browser_to_forget_the_draft(client, staff):
    target = milestone(7, 4)
    client.force_login(staff)

    response = client.post(edit_url(target, 4), report_form())

    assert response.status_code == 302
    assert response.cookies["pt_draft_saved"].value == f"{staff.pk}%3A{edit_url(target, 4)}"


# --- 4. A chosen file is never dropped silently ----------------------------------------


def held_tokens(page: str) -> list[str]:
    return re.findall(r'name="held" value="([0-9a-f]{32})"', page)


def test_a_file_chosen_with_a_refused_submit_is_held_for_the_next_submit(client, staff, media):
    target = milestone(7, 4)
    client.force_login(staff)

    response = client.post(
        edit_url(target, 4),
        report_form(submit=True, done_text="", evidence=pdf("质押合同.pdf")),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "提交前请填写完成情况。" in page
    assert "您选择的附件已暂存,保存或提交时会一并上传,无需重新选择" in page
    assert "“质押合同.pdf”" in page
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()
    (token,) = held_tokens(page)
    assert len(list((media / "held").iterdir())) == 1

    # The clerk types 完成情况 and submits again without choosing the file.
    response = client.post(
        edit_url(target, 4), {**report_form(submit=True, done_text="已签订。"), "held": token}
    )

    assert response.status_code == 302
    report = ProgressReport.objects.get()
    (evidence,) = report.evidence.all()
    assert (evidence.name, evidence.version, evidence.file.read()) == ("质押合同.pdf", 1, PDF)
    assert history(report) == [(1, "submitted", "web", staff.pk)]
    assert list((media / "held").iterdir()) == []  # uploaded, no longer held


def test_a_held_file_can_be_let_go(client, staff, media):
    target = milestone(7, 4)
    client.force_login(staff)
    page = client.post(
        edit_url(target, 4), report_form(submit=True, done_text="", evidence=pdf("错的.pdf"))
    ).content.decode()
    (token,) = held_tokens(page)

    client.post(edit_url(target, 4), {**report_form(), "held": token, "drop_held": token})

    assert not Evidence.objects.exists()
    assert list((media / "held").iterdir()) == []


def test_a_held_file_belongs_to_its_session_and_page(client, staff, patent_office, media):
    target = milestone(7, 4)
    client.force_login(staff)
    page = client.post(
        edit_url(target, 4), report_form(submit=True, done_text="", evidence=pdf())
    ).content.decode()
    (token,) = held_tokens(page)
    colleague = Client()
    colleague.force_login(make_user("chen", roles.STAFF, patent_office))

    colleague.post(edit_url(target, 4), {**report_form(), "held": token})  # another session
    client.post(edit_url(milestone(8, 4), 4), {**report_form(), "held": token})  # another page

    assert ProgressReport.objects.count() == 2 and not Evidence.objects.exists()


def test_a_stale_save_holds_the_chosen_file_too(client, staff, patent_office, media):
    target = milestone(7, 4)
    write(make_user("chen", roles.STAFF, patent_office), target, 4)
    client.force_login(staff)

    page = client.post(edit_url(target, 4), report_form(0, evidence=pdf("新的.pdf"))).content
    page = page.decode()

    assert "选择的附件已暂存" in page and "“新的.pdf”" in page
    (token,) = held_tokens(page)
    assert client.post(edit_url(target, 4), {**report_form(1), "held": token}).status_code == 302
    assert [e.name for e in Evidence.objects.all()] == ["新的.pdf"]


def test_a_report_holds_at_most_the_file_limit(client, staff, media, settings):
    settings.EVIDENCE_MAX_FILES = 2
    target = milestone(7, 4)
    report = write(staff, target, 4, files=[pdf("一.pdf")])
    client.force_login(staff)

    response = client.post(
        edit_url(target, 4),
        {**report_form(report.version), "evidence": [pdf("二.pdf"), pdf("三.pdf")]},
    )

    page = response.content.decode()
    assert "每份报告最多2个附件:已有1个,本次选择了2个" in page
    assert len(held_tokens(page)) == 2  # held: the clerk may let one go and save again
    report.refresh_from_db()
    assert report.version == 1 and report.evidence.count() == 1


def test_upload_and_remove_cannot_fill_the_disk(client, staff, media, settings):
    """Removed files stay on disk for the history, so a report takes five times the file
    limit in all: then a save with a file is refused, and one without a file still goes."""
    settings.EVIDENCE_MAX_FILES = 2
    target = milestone(7, 4)
    report = write(staff, target, 4, files=[pdf("1.pdf"), pdf("2.pdf")])
    for round_ in range(4):
        for evidence in report.evidence.filter(removed_in=None):
            report = services.remove_evidence(
                user=staff, evidence_id=evidence.pk, base_version=report.version
            )
        report = services.save_report(
            user=staff,
            milestone=target,
            quarter=4,
            base_version=report.version,
            status="in_progress",
            percent=10,
            done_text=f"第{round_}轮。",
            problems_text="",
            submit=False,
            files=[pdf("a.pdf"), pdf("b.pdf")],
        )
    assert report.evidence.count() == 10  # two held, eight removed
    for evidence in report.evidence.filter(removed_in=None):
        report = services.remove_evidence(
            user=staff, evidence_id=evidence.pk, base_version=report.version
        )
    client.force_login(staff)

    refused = client.post(edit_url(target, 4), {**report_form(report.version), "evidence": pdf()})
    saved = client.post(edit_url(target, 4), report_form(report.version))

    assert "已累计上传10个文件(含已删除的),最多10个" in refused.content.decode()
    assert saved.status_code == 302
    assert report.evidence.count() == 10


def test_a_wrong_file_is_removed_from_a_draft_and_kept_in_history(client, staff, media):
    target = milestone(7, 4)
    report = write(staff, target, 4, files=[pdf("错的文件.pdf"), pdf("对的文件.pdf")])
    wrong = report.evidence.get(name="错的文件.pdf")
    client.force_login(staff)

    response = client.post(
        reverse("evidence-remove", args=[wrong.pk]), {"version": report.version}, follow=True
    )

    page = response.content.decode()
    assert "附件“错的文件.pdf”已从报告中删除" in page
    report.refresh_from_db()
    wrong.refresh_from_db()
    assert (report.version, wrong.removed_in) == (2, 2)
    assert [e.name for e in report.evidence.filter(removed_in=None)] == ["对的文件.pdf"]
    assert history(report)[-1] == (2, "file_off", "web", staff.pk)
    assert wrong.file.storage.exists(wrong.file.name)  # never truly deleted
    detail = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "删除附件" in detail and "错的文件.pdf" in detail
    assert client.get(reverse("evidence-download", args=[wrong.pk])).status_code == 200


def test_a_file_cannot_be_removed_from_a_submitted_report(client, staff, media):
    target = milestone(7, 4)
    draft = write(staff, target, 4, files=[pdf()])
    report = write(staff, target, 4, base_version=draft.version, submit=True)
    with pytest.raises(ValidationError):
        services.remove_evidence(
            user=staff, evidence_id=report.evidence.get().pk, base_version=report.version
        )
    assert Evidence.objects.get().removed_in is None


# --- 5. The stale review keeps the comment ---------------------------------------------


def test_a_stale_review_keeps_the_comment_and_shows_the_newer_state(client, staff, reviewer):
    report = submitted(staff, milestone(7, 4), 4)
    client.force_login(reviewer)
    client.get(reverse("report-detail", args=[report.pk]))
    other = make_user("wang2", roles.REVIEWER)
    review(other, report, approve=False, comment="另一位审核人的意见")

    response = client.post(
        reverse("report-review", args=[report.pk]),
        {"version": report.version, "approve": "", "comment": "我写了很长的审核意见"},
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "审核未成功:wang2 已于" in page and "第3版(已退回)" in page
    assert "我写了很长的审核意见" in page  # kept, in a read-only box: it cannot be reviewed now
    assert "您未保存的审核意见" in page
    report.refresh_from_db()
    assert (report.state, report.review_comment) == (State.RETURNED, "另一位审核人的意见")
    assert [h[1] for h in history(report)] == ["saved", "submitted", "returned"]


def test_a_review_refused_for_a_newer_submission_keeps_the_comment_in_the_form(
    client, staff, reviewer
):
    target = milestone(7, 4)
    report = submitted(staff, target, 4)
    client.force_login(reviewer)
    services.withdraw_report(user=staff, report_id=report.pk, base_version=report.version)
    again = write(staff, target, 4, base_version=3, submit=True, done_text="补充后的内容")

    response = client.post(
        reverse("report-review", args=[report.pk]),
        {"version": report.version, "approve": "", "comment": "同意"},
    )

    page = response.content.decode()
    assert response.status_code == 409 and "补充后的内容" in page
    assert 'name="comment"' in page and "同意</textarea>" in page
    assert f'name="version" value="{again.version}"' in page


# --- Withdraw --------------------------------------------------------------------------


def test_an_office_withdraws_a_submission_no_reviewer_has_opened(client, staff):
    target = milestone(7, 4)
    report = submitted(staff, target, 4)
    client.force_login(staff)

    response = client.post(
        reverse("report-withdraw", args=[report.pk]), {"version": report.version}, follow=True
    )

    assert "报告已撤回" in response.content.decode()
    report.refresh_from_db()
    assert (report.state, report.version, report.done_text) == (State.DRAFT, 3, "已完成前期调研。")
    assert history(report)[-1] == (3, "withdrawn", "web", staff.pk)


def test_a_report_a_reviewer_opened_cannot_be_withdrawn(client, staff, reviewer):
    report = submitted(staff, milestone(7, 4), 4)
    client.force_login(reviewer)
    client.get(reverse("report-detail", args=[report.pk]))
    client.force_login(staff)
    page = client.get(edit_url(report.milestone, 4)).content.decode()
    assert "report-withdraw" not in page and "撤回</button>" not in page

    response = client.post(
        reverse("report-withdraw", args=[report.pk]), {"version": report.version}, follow=True
    )

    assert "审核人已于" in response.content.decode()
    report.refresh_from_db()
    assert report.state == State.SUBMITTED and report.version == 2


def test_a_leader_opening_the_report_does_not_stop_the_withdrawal(client, staff, leader):
    report = submitted(staff, milestone(7, 4), 4)
    client.force_login(leader)
    client.get(reverse("report-detail", args=[report.pk]))
    report.refresh_from_db()
    assert report.opened_at is None
    assert services.withdraw_report(user=staff, report_id=report.pk, base_version=2).state == (
        State.DRAFT
    )


def test_another_office_cannot_withdraw(other_staff, staff):
    report = submitted(staff, milestone(7, 4), 4)
    with pytest.raises(PermissionDenied):
        services.withdraw_report(user=other_staff, report_id=report.pk, base_version=2)


def test_the_rule_is_one_function_for_every_path(monkeypatch, staff, reviewer, admin_user):
    """save_report, review_report, withdraw-free paths and the admin import all ask
    services.check_change."""
    calls = []
    original = services.check_change
    monkeypatch.setattr(
        services, "check_change", lambda **kw: calls.append(kw["channel"]) or original(**kw)
    )
    report = submitted(staff, milestone(7, 4), 4)
    review(reviewer, report, approve=True)
    import_rows(admin_user, report_row(措施编号=8))
    assert calls == ["web", "web", "web", "admin"]


def test_the_contribution_and_review_forms_keep_drafts_too(client, staff, reviewer, plan_2014):
    unit = make_user("quxian", roles.UNIT, Department.objects.get(name="各区县(自治县)知识产权局"))
    target = Milestone.objects.scheduled_in(4).filter(measure__number=18).first()
    client.force_login(unit)
    url = reverse("contribution-edit", args=[target.pk, 4])
    page = client.get(url).content.decode()
    assert f'data-draft-page="{unit.pk}:{url}" data-draft-version="0"' in page

    report = submitted(staff, milestone(7, 4), 4)
    client.force_login(reviewer)
    detail = reverse("report-detail", args=[report.pk])
    page = client.get(detail).content.decode()
    assert f'data-draft-page="{reviewer.pk}:{detail}" data-draft-version="2"' in page
    # The review's success forgets the detail page's draft, not the review URL's.
    response = client.post(
        reverse("report-review", args=[report.pk]), {"version": 2, "approve": ""}
    )
    assert response.cookies["pt_draft_saved"].value == f"{reviewer.pk}%3A{detail}"


def test_the_form_knows_when_the_login_really_ends(client, staff):
    """A session expires SESSION_COOKIE_AGE after it was last saved: the page says how long
    is left of this one, for drafts.js to warn two minutes before."""
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(staff)
    moment = timezone.now()
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=moment + datetime.timedelta(minutes=5)
    )

    # the page is read at a fixed moment: however slow the machine, five minutes are left
    with mock.patch("plantracker.sessions.timezone.now", return_value=moment):
        page = client.get(edit_url(milestone(7, 4), 4)).content.decode()

    seconds = int(re.search(r'data-session-seconds="(\d+)"', page)[1])
    assert 240 < seconds <= 300


def test_a_stale_login_form_leads_back_to_the_login(staff):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))

    response = client.post(
        reverse("login"), {"username": "zhang", "password": "x", "csrfmiddlewaretoken": "y" * 64}
    )

    page = response.content.decode()
    assert response.status_code == 403 and "页面已过期" in page
    assert "重新登录" in page and "您填写的内容没有丢失" not in page
