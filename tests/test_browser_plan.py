"""Browser journey: a person logs in and checks the plan against the paper."""

from pathlib import Path

import pytest

from .conftest import PASSWORD

ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_reads_the_plan(live_server, page, staff):
    page.goto(live_server.url + "/")
    assert "登录" in page.title()
    page.fill("#id_username", "zhang")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "我的工作"  # office staff land on their work
    page.get_by_role("link", name="推进计划", exact=True).click()
    page.wait_for_selector("table.plan-table")
    assert page.locator("h1").inner_text() == "重庆市2014年专利事业发展战略推进计划"
    assert page.locator("tr.measure-row").count() == 18
    assert page.locator("tr.area-row").count() == 11
    assert "(十三)发展知识产权服务业" in page.locator("tr.area-row").last.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "plan_document.png")
    # The print layout hides navigation.
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
