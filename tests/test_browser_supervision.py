"""Browser journey of the supervision loop (督办): a leader writes an instruction, the office sees
the notice and answers it, the leader sees it answered; a reviewer urges the office, the office
ignores it, and after its date the escalation reaches the leader."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from plan.models import Measure

from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_instruction_answer_urging_and_escalation(browser, live_server, staff, reviewer, leader):
    leader.first_name = "赵局长"
    leader.save()
    measure = Measure.objects.get(number=7)

    # The leader writes an instruction from the measure's page of the dashboard.
    boss = log_in(browser, live_server, "zhao")
    boss.goto(live_server.url + reverse("dashboard-measure", args=[measure.pk]))
    boss.get_by_role("link", name="作出批示").click()
    boss.fill("#id_text", "请专利管理处月底前报送价值分析指标体系应用情况。")
    boss.get_by_role("button", name="送承办处室办理").click()
    assert "批示已送达承办处室" in boss.locator(".messages").inner_text()
    assert "办理中" in boss.locator("h1").inner_text()

    # The office sees the notice (a count in the header), opens it and answers.
    office = log_in(browser, live_server, "zhang")
    office.wait_for_selector(".notice-count:not([hidden])")
    assert office.locator(".notice-count").inner_text() == "1"
    assert "请专利管理处月底前报送" in office.locator(".supervision-banner").inner_text()
    office.locator(".notices-link").click()
    assert "领导批示" in office.locator("tr.notice.unread").inner_text()
    office.screenshot(path=ARTIFACTS / "notices.png", full_page=True)
    office.locator("tr.notice.unread a").click()
    office.get_by_role("button", name="签收").click()
    assert "专利管理处(已签收)" in office.locator(".context").inner_text()
    office.fill("#id_text", "已召开推进会,指标体系已在10家企业试用。")
    office.get_by_role("button", name="报送", exact=True).click()
    assert "办理情况已报送" in office.locator(".messages").inner_text()
    office.screenshot(path=ARTIFACTS / "instruction.png", full_page=True)

    # The leader sees it answered: a notice, and the supervision page.
    boss.goto(live_server.url + reverse("notice-list"))
    assert "专利管理处 已报送对批示" in boss.locator("tr.notice.unread").inner_text()
    boss.goto(live_server.url + reverse("supervision-overview"))
    row = boss.locator("tr.instruction-row").first
    assert "已办理" in row.inner_text()
    assert "专利管理处(已报送办理情况)" in row.inner_text()

    # A reviewer urges the office about its milestones not yet reported this quarter.
    review = log_in(browser, live_server, "wang")
    review.goto(live_server.url + reverse("supervision-overview") + "?quarter=4")
    review.locator("li", has_text="专利管理处").get_by_role("link", name="催办").click()
    today = timezone.localdate()
    review.fill("#id_reply_by", today.isoformat())
    review.get_by_role("button", name="发出催办").click()
    assert "催办已发出" in review.locator(".messages").inner_text()
    # Urging the same milestones again today is refused.
    review.go_back()
    review.fill("#id_reply_by", today.isoformat())
    review.get_by_role("button", name="发出催办").click()
    assert "今天已催办过" in review.locator("main").inner_text()

    # The office sees the urging on 我的工作, and ignores it.
    office.goto(live_server.url + reverse("my-work") + "?quarter=4")
    assert "请抓紧报送2014年第4季度进展情况" in office.locator(".supervision-banner").inner_text()
    office.screenshot(path=ARTIFACTS / "my_work_urged.png")

    # The day after its date, the daily run escalates it to the leader.
    call_command("supervise", date=(today + datetime.timedelta(days=1)).isoformat())
    boss.goto(live_server.url + reverse("dashboard") + "?quarter=4")
    panel = boss.locator(".supervision-panel").inner_text()
    assert "1 项催办逾期未反馈,已提级" in panel
    boss.locator(".supervision-panel").screenshot(path=ARTIFACTS / "supervision_panel.png")
    boss.get_by_role("link", name="查看督办情况").click()
    assert "专利管理处" in boss.locator(".escalations").inner_text()
    boss.screenshot(path=ARTIFACTS / "supervision.png", full_page=True)
    boss.goto(live_server.url + reverse("notice-list"))
    assert "专利管理处 未在" in boss.locator("tr.notice.unread").first.inner_text()
    boss.screenshot(path=ARTIFACTS / "notices_leader.png", full_page=True)
    boss.locator("tr.notice.unread a").first.click()
    assert "已提级" in boss.locator("h1").inner_text()
