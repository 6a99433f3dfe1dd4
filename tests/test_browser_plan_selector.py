"""Browser: the plan selector at scale is year first, then plan; picking another year goes
to a plan of that year and lists that year's plans."""

import pytest
from django.urls import reverse

from departments.models import Department
from plan.models import Plan

from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picking_another_year_lists_that_years_plans(browser, live_server, staff, plan_2014):
    other = Department.objects.exclude(pk=plan_2014.issuer_id).exclude(name="专利管理处")[0]
    for year in (2015, 2016):
        for n in range(1, 4):
            Plan.objects.create(year=year, title=f"{year}年区县计划{n}", issuer=other)
    page = log_in(browser, live_server, "zhang")
    page.goto(live_server.url + reverse("my-work") + f"?plan={plan_2014.pk}")
    select = page.locator("select[name=plan]")
    groups = select.locator("optgroup")
    assert groups.nth(0).get_attribute("label") == "2014年的计划"
    assert groups.nth(1).get_attribute("label") == "其他年度"
    page.screenshot(path=ARTIFACTS / "plan_selector_2014.png")
    with page.expect_navigation():
        select.select_option(label="2016年的计划")  # data-autosubmit: the form goes
    page.wait_for_load_state()
    texts = page.locator("select[name=plan] option").all_inner_texts()
    assert [t for t in texts if t.startswith("2016 · ")] == [
        f"2016 · 2016年区县计划{n}" for n in range(1, 4)
    ]
    assert "2014年的计划" in texts and "2015年的计划" in texts
    page.screenshot(path=ARTIFACTS / "plan_selector_2016.png")
