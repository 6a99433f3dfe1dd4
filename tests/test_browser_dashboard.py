"""Browser journey: a leader watches the overview change when a report is approved."""

import pytest
from django.urls import reverse

from plan.models import Milestone
from tasks import services

from . import builders
from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def figure(page, label: str) -> int:
    return int(page.locator(".figure", has_text=label).locator(".n").inner_text().rstrip("%"))


def test_approval_changes_the_leaders_overview(browser, live_server, reviewer, leader):
    # Second quarter of 2014: a mix of approved, returned, behind and missing reports.
    milestones = list(Milestone.objects.scheduled_in(2).order_by("measure__number", "order"))
    for index, milestone in enumerate(milestones[:14]):
        kind = index % 4
        builders.report(
            milestone,
            2,
            reviewer=reviewer,
            percent=[100, 60, 20, 40][kind],
            status=["done", "in_progress", "behind", "in_progress"][kind],
            state=["approved", "approved", "approved", "returned"][kind],
        )
    pending = builders.report(milestones[-1], 2, percent=100, status="done", state="submitted")

    page = log_in(browser, live_server, "zhao")
    page.goto(live_server.url + reverse("dashboard") + "?quarter=2")
    done_before = figure(page, "已完成")
    completion_before = figure(page, "总体完成率")
    row = page.locator(f"#all-milestones tr[data-milestone='{milestones[-1].pk}']")
    assert "正常" not in row.inner_text()
    page.screenshot(path=ARTIFACTS / "dashboard_full.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.screenshot(path=ARTIFACTS / "dashboard.png")
    # tests/artifacts/dashboard.png: looked at, and copied to docs/screenshots/ for the
    # README by hand when the page changes (a test run leaves the work tree clean).

    services.review_report(
        reviewer=reviewer,
        report_id=pending.pk,
        base_version=pending.version,
        approve=True,
        comment="",
    )

    page.reload()
    assert figure(page, "已完成") == done_before + 1
    assert figure(page, "总体完成率") > completion_before
    assert "正常" in row.inner_text()
    # Each figure drills down: the 已完成 count links to the milestones behind it,
    # and each of those to its measure's grid and its report.
    page.locator(".figure", has_text="已完成").click()
    assert page.locator("#all-milestones tr.figure-row").count() == done_before + 1
    page.locator(f"#all-milestones tr[data-milestone='{milestones[-1].pk}'] a").first.click()
    grid_row = page.locator(f"tr.grid-row[data-milestone='{milestones[-1].pk}']")
    assert "已通过" in grid_row.inner_text()
    grid_row.locator("a").first.click()
    assert "审核通过" in page.locator(".history").inner_text()
    # Print: A4 landscape, no navigation.
    page.goto(live_server.url + reverse("dashboard") + "?quarter=2")
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("form.filters").is_visible()
