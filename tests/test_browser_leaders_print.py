"""Browser: the leaders' dashboard printed for the meeting (A4 landscape, at most 4 pages for
the 2014 plan), the office's one-page quarter summary, and the demo `make run` serves."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from plan.models import Plan

from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(page, name: str) -> int:
    """Prints the page as the browser's print dialog would (print CSS, A4 landscape, the
    page's own @page size) and counts the PDF's pages."""
    page.emulate_media(media="print")
    data = page.pdf(format="A4", landscape=True, prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / name).write_bytes(data)
    page.emulate_media(media="screen")
    return len(PAGE.findall(data))


@pytest.fixture
def demo(settings, plan_2014):
    """The demo `make run` serves: the sample year (load_demo) seen on 20 September 2014."""
    settings.DEBUG = True  # the demo commands and the demo date are refused otherwise
    call_command("create_demo_users", password="demo-password-1")
    call_command("load_demo", date="2014-09-20")
    settings.DEMO_DATE = "2014-09-20"
    return plan_2014


def test_the_demo_dashboard_shows_all_three_lights_and_prints_on_four_pages_or_fewer(
    browser, live_server, demo, leader
):
    page = log_in(browser, live_server, leader.username)
    page.goto(live_server.url + reverse("dashboard"))

    assert "2014年第三季度" in page.locator(".page-head").inner_text()  # the demo's quarter
    assert "示例数据" in page.locator(".demo-banner").inner_text()
    lights = {
        name: int(re.search(r"(\d+)$", page.locator(f".headline .light.{name}").inner_text())[1])
        for name in ("red", "yellow", "green")
    }
    assert all(lights.values()), lights  # green, yellow and red
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.screenshot(path=ARTIFACTS / "dashboard_demo.png")
    # tests/artifacts/dashboard_demo.png: looked at, and copied to docs/screenshots/ for the
    # README by hand when the page changes.

    assert pdf_pages(page, "dashboard_demo.pdf") <= 4
    page.emulate_media(media="print")
    assert not page.locator("#all-milestones").is_visible()  # on screen only
    assert page.locator("#at-risk").is_visible()
    page.set_viewport_size({"width": 1047, "height": 718})  # A4 landscape less the margins
    page.screenshot(path=ARTIFACTS / "dashboard_print.png", full_page=True)


def test_the_2014_dashboard_with_every_milestone_warned_prints_on_four_pages_or_fewer(
    browser, live_server, plan_2014, leader
):
    """The worst case of the issue: the whole plan judged late, no report approved (every
    due milestone in the warning list)."""
    page = log_in(browser, live_server, leader.username)
    page.goto(live_server.url + reverse("dashboard") + f"?plan={plan_2014.pk}&quarter=4")
    warned = page.locator("#at-risk tr.figure-row").count()
    assert warned >= 57

    assert pdf_pages(page, "dashboard_worst.pdf") <= 4
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1047, "height": 718})
    page.screenshot(path=ARTIFACTS / "dashboard_worst_print.png", full_page=True)


def test_an_offices_quarter_summary_prints_on_one_page(browser, live_server, demo, leader):
    office = Plan.objects.get(pk=demo.pk).work_areas.first().measures.first()
    office = office.responsible_offices.first()
    page = log_in(browser, live_server, leader.username)
    page.goto(live_server.url + reverse("dashboard-office", args=[demo.pk, office.pk]))

    assert office.name in page.locator("h1").inner_text()
    assert pdf_pages(page, "office_summary.pdf") == 1
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1047, "height": 718})
    page.screenshot(path=ARTIFACTS / "office_summary_print.png", full_page=True)
