"""Browser journey: an office reports, a reviewer returns and then approves, history shows it."""

import pytest
from django.urls import reverse

from plan.models import Milestone
from tasks.models import ProgressReport

from .conftest import PASSWORD
from .test_browser_plan import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, username):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_report_goes_from_draft_to_approved(
    browser, live_server, staff, other_staff, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    milestone = Milestone.objects.get(measure__number=7, label="第四季度")
    row = f"tr.work-row[data-milestone='{milestone.pk}']"
    evidence = tmp_path / "培训签到表.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% sign-in sheet\n")

    # Office staff: lands on My work for the 4th quarter, drafts, then submits with evidence.
    office = log_in(browser, live_server, "zhang")
    assert office.locator("h1").inner_text() == "我的工作"
    assert "未填报" in office.locator(row).inner_text()
    office.locator(row).get_by_role("link", name="填报").click()
    office.select_option("#id_status", "in_progress")
    office.fill("#id_percent", "60")
    office.fill("#id_done_text", "已完成指标体系初稿。")
    office.click("button[name=save]")
    assert "草稿已保存" in office.locator(".messages").inner_text()
    assert "草稿" in office.locator(row).inner_text()
    office.locator(row).get_by_role("link", name="编辑").click()
    office.set_input_files("#id_evidence", str(evidence))
    office.click("button[name=submit]")
    assert "报告已提交" in office.locator(".messages").inner_text()
    assert "已提交" in office.locator(row).inner_text()
    office.screenshot(path=ARTIFACTS / "my_work.png", full_page=True)

    # A staff member of another office is refused by the server.
    outsider = log_in(browser, live_server, "li")
    response = outsider.goto(live_server.url + reverse("report-edit", args=[milestone.pk, 4]))
    assert response.status == 403
    assert "您无权填报该进度节点" in outsider.locator(".denied").inner_text()

    # Reviewer returns it with a comment.
    review = log_in(browser, live_server, "wang")
    review.get_by_role("link", name="审核").last.click()
    review.fill("#id_comment", "请补充参训企业名单。")
    review.click("button[name=return]")
    assert "审核结果已保存" in review.locator(".messages").inner_text()

    # Staff sees it returned with the comment, corrects and resubmits.
    office.goto(live_server.url + reverse("my-work"))
    assert "已退回" in office.locator(row).inner_text()
    assert "已退回" in office.locator(".banner").inner_text()
    office.locator(row).get_by_role("link", name="编辑").click()
    assert "请补充参训企业名单" in office.locator(".returned-comment").inner_text()
    office.fill("#id_done_text", "已完成指标体系初稿,参训企业名单见附件。")
    office.click("button[name=submit]")
    assert "已提交" in office.locator(row).inner_text()

    # Reviewer approves.
    review.goto(live_server.url + reverse("review-queue"))
    review.get_by_role("link", name="审核").last.click()
    review.click("button[name=approve]")
    assert "没有待审核的报告" in review.locator("main").inner_text()

    # The history shows every step, with the comment and the evidence file.
    report = ProgressReport.objects.get(milestone=milestone, quarter=4)
    assert report.state == ProgressReport.State.APPROVED
    office.goto(live_server.url + reverse("report-detail", args=[report.pk]))
    events = office.locator("tr.version-row td:nth-child(4)").all_inner_texts()
    assert events == ["保存草稿", "提交", "退回", "提交", "审核通过"]
    history = office.locator(".history").inner_text()
    assert "请补充参训企业名单。" in history
    assert "培训签到表.pdf" in history
    office.screenshot(path=ARTIFACTS / "report_history.png", full_page=True)
    with office.expect_download() as download:
        office.get_by_role("link", name="培训签到表.pdf").first.click()
    assert download.value.suggested_filename == "培训签到表.pdf"
