"""Browser: nothing typed is lost (issue 12). A session that ends while typing, a CSRF token
changed by a login in another tab, a chosen file with a refused submit, the session warning."""

import pytest
from django.urls import reverse

from plan.models import Milestone
from tasks.models import Evidence, ProgressReport

from .conftest import PASSWORD
from .test_browser_plan import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEXT = "第四季度完成了专利导航项目三项,培训企业一百二十家。"


ERRORS = []  # script errors of the pages (drafts.js must never break a page)


@pytest.fixture(autouse=True)
def _no_script_errors():
    ERRORS.clear()
    yield
    assert ERRORS == []


def new_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: ERRORS.append(str(error)))
    return page


def log_in(page, live_server, username="zhang"):
    if "/accounts/login/" not in page.url:
        page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")  # not the header's 退出 button
    page.wait_for_load_state()


def form_url(live_server) -> str:
    target = Milestone.objects.get(measure__number=7, label="第四季度")
    return live_server.url + reverse("report-edit", args=[target.pk, 4])


def test_a_session_ended_while_typing_gets_the_text_back_after_logging_in(
    browser, live_server, staff
):
    page = new_page(browser)
    log_in(page, live_server)
    page.goto(form_url(live_server))
    page.fill("#id_done_text", TEXT)
    page.fill("#id_percent", "80")

    page.context.clear_cookies(name="sessionid")  # the session ended (expired, logged out …)
    page.click("button[name=save]")

    assert "/accounts/login/" in page.url  # nothing saved, the server asks for a login
    assert not ProgressReport.objects.exists()
    log_in(page, live_server)
    assert page.url == form_url(live_server)  # back on the form after the login
    offer = page.locator(".draft-offer")
    assert "找到您在本机浏览器中保存、尚未提交到系统的内容" in offer.inner_text()
    assert page.input_value("#id_done_text") == ""
    page.screenshot(path=ARTIFACTS / "draft_offered_after_login.png", full_page=True)
    offer.get_by_role("button", name="恢复这些内容").click()
    assert page.input_value("#id_done_text") == TEXT
    assert page.input_value("#id_percent") == "80"
    page.click("button[name=save]")
    assert "草稿已保存" in page.locator(".messages").inner_text()
    report = ProgressReport.objects.get()
    assert (report.done_text, report.percent) == (TEXT, 80)

    # Saved: the browser forgot its copy, the form offers nothing any more.
    page.goto(form_url(live_server))
    assert page.input_value("#id_done_text") == TEXT
    assert page.locator(".draft-offer").count() == 0


def test_a_login_in_another_tab_gets_our_csrf_page_and_the_text_back(browser, live_server, staff):
    page = new_page(browser)
    log_in(page, live_server)
    page.goto(form_url(live_server))
    page.fill("#id_done_text", TEXT)

    other_tab = page.context.new_page()
    other_tab.goto(live_server.url + reverse("login"))
    log_in(other_tab, live_server)  # a new login changes the CSRF token
    page.click("button[name=save]")

    assert page.locator("h1").inner_text() == "页面已过期,内容未提交"
    body = page.locator("main").inner_text()
    assert "您填写的内容没有丢失" in body and "CSRF" not in body
    page.screenshot(path=ARTIFACTS / "csrf_failure.png", full_page=True)
    assert not ProgressReport.objects.exists()
    page.get_by_role("link", name="返回表单").click()
    page.locator(".draft-offer").get_by_role("button", name="恢复这些内容").click()
    assert page.input_value("#id_done_text") == TEXT
    page.click("button[name=save]")
    assert ProgressReport.objects.get().done_text == TEXT


def test_the_evidence_file_across_a_validation_error(
    browser, live_server, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    evidence = tmp_path / "专利导航项目验收单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% acceptance\n")
    page = new_page(browser)
    log_in(page, live_server)
    page.goto(form_url(live_server))
    page.set_input_files("#id_evidence", str(evidence))
    page.click("button[name=submit]")  # 完成情况 is empty: refused

    errors = page.locator(".report-form").inner_text()
    assert "提交前请填写完成情况" in errors
    held = page.locator(".held-files").inner_text()
    assert "您选择的附件已暂存,保存或提交时会一并上传,无需重新选择" in held
    assert "专利导航项目验收单.pdf" in held
    page.locator("#id_evidence").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "evidence_held_across_an_error.png", full_page=True)
    assert not Evidence.objects.exists()

    page.fill("#id_done_text", TEXT)  # the file is not chosen again
    page.click("button[name=submit]")
    assert "报告已提交" in page.locator(".messages").inner_text()
    assert [e.name for e in Evidence.objects.all()] == ["专利导航项目验收单.pdf"]


def test_a_session_about_to_expire_is_announced(browser, live_server, staff, settings):
    settings.SESSION_COOKIE_AGE = 600
    page = new_page(browser)
    page.clock.install()
    log_in(page, live_server)
    page.goto(form_url(live_server))
    page.fill("#id_done_text", TEXT)

    page.clock.fast_forward(481_000)  # two minutes before the end

    warning = page.locator(".session-warning")
    assert "您的登录将在约2分钟后过期" in warning.inner_text()
    page.screenshot(path=ARTIFACTS / "session_warning.png")
    page.clock.fast_forward(121_000)
    assert "您的登录可能已经过期" in page.locator(".session-over").inner_text()


def test_an_office_removes_a_wrong_file_and_withdraws_its_submission(
    browser, live_server, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    right, wrong = tmp_path / "验收单.pdf", tmp_path / "发错的文件.pdf"
    right.write_bytes(b"%PDF-1.4\n% right\n")
    wrong.write_bytes(b"%PDF-1.4\n% wrong\n")
    page = new_page(browser)
    log_in(page, live_server)
    page.goto(form_url(live_server))
    page.fill("#id_done_text", TEXT)
    page.set_input_files("#id_evidence", [str(right), str(wrong)])
    page.click("button[name=save]")

    page.goto(form_url(live_server))
    page.get_by_role("button", name="删除附件“发错的文件.pdf”").click()
    assert "已从报告中删除" in page.locator(".messages").inner_text()
    assert page.locator(".evidence-list").inner_text().count(".pdf") == 1
    page.screenshot(path=ARTIFACTS / "evidence_removed.png", full_page=True)

    page.click("button[name=submit]")
    page.goto(form_url(live_server))
    page.get_by_role("button", name="撤回").click()
    assert "报告已撤回" in page.locator(".messages").inner_text()
    assert page.locator("#id_done_text").input_value() == TEXT
    page.screenshot(path=ARTIFACTS / "report_withdrawn.png", full_page=True)
    report = ProgressReport.objects.get()
    assert report.state == "draft"
    assert list(report.versions.values_list("event", flat=True)) == [
        "saved",
        "file_off",
        "submitted",
        "withdrawn",
    ]
