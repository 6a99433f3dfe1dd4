"""The plan selector at nation-wide scale: year first, then plan; a user's own units' plans
first; one query; works without script (every option is a plan to go to)."""

import re

import pytest
from django.urls import reverse

from departments.models import Department
from plan.models import Plan


@pytest.fixture
def many_plans(plan_2014, patent_office):
    """Plans of 2015 and 2016 by another issuer, and one 2015 plan by the staff's office."""
    other = Department.objects.exclude(pk=patent_office.pk).exclude(pk=plan_2014.issuer_id)[0]
    made = {}
    for year in (2015, 2016):
        for n in range(1, 6):
            made[(year, n)] = Plan.objects.create(year=year, title=f"计划{n:02d}", issuer=other)
    made["own"] = Plan.objects.create(year=2015, title="计划99", issuer=patent_office)
    return made


def options(html: str, name: str = "plan") -> list[tuple[str, str, bool]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [
        (value, text, bool(selected))
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def test_menu_lists_the_years_plans_own_first_and_one_option_per_other_year(
    many_plans, staff, django_assert_max_num_queries
):
    current = many_plans[(2015, 3)]
    menu = Plan.objects.menu(current, staff)
    with django_assert_max_num_queries(1):
        shown, years = menu.shown, menu.years
    assert [title for _pk, _year, title in shown] == ["计划99"] + [
        f"计划{n:02d}" for n in range(1, 6)
    ]
    assert {year for _pk, year, _title in shown} == {2015}
    assert [year for year, _pk in years] == [2016, 2014]
    assert dict(years)[2016] == many_plans[(2016, 1)].pk
    assert len(menu) == 8


def test_another_years_option_goes_to_a_plan_of_the_users_own_units(many_plans, staff, plan_2014):
    menu = Plan.objects.menu(plan_2014, staff)
    assert [year for _pk, year, _title in menu.shown] == [2014]
    assert dict(menu.years)[2015] == many_plans["own"].pk  # not the oldest 2015 plan


def test_my_work_selector_is_year_first_and_picking_a_year_shows_its_plans(
    client, many_plans, staff
):
    client.force_login(staff)
    html = client.get(reverse("my-work") + f"?plan={many_plans[(2016, 2)].pk}").content.decode()
    found = options(html)
    assert (str(many_plans[(2016, 2)].pk), "2016 · 计划02", True) in found
    assert sum(1 for _v, text, _s in found if text.startswith("2016 · ")) == 5
    assert not any(text.startswith("2015 · ") for _v, text, _s in found)
    year_2015 = [v for v, text, _s in found if text == "2015年的计划"]
    assert year_2015 == [str(many_plans["own"].pk)]
    # Without script the option is a plan id like any other: the page of that year follows.
    html = client.get(reverse("my-work") + f"?plan={year_2015[0]}").content.decode()
    assert sum(1 for _v, text, _s in options(html) if text.startswith("2015 · ")) == 6


def test_plan_document_selector_options_are_urls(client, many_plans, leader):
    client.force_login(leader)
    plan = many_plans[(2015, 1)]
    html = client.get(reverse("plan-document", args=[plan.pk])).content.decode()
    values = re.findall(r'<option value="([^"]+)"', html)
    assert reverse("plan-document", args=[plan.pk]) in values
    assert reverse("plan-document", args=[many_plans[(2016, 1)].pk]) in values


def test_review_queue_without_a_plan_lists_the_newest_years_plans(client, many_plans, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("review-queue")).content.decode()
    texts = [text for _v, text, _s in options(html)]
    assert texts[0] == "全部计划"
    assert sum(1 for text in texts if text.startswith("2016 · ")) == 5
    assert "2015年的计划" in texts and "2014年的计划" in texts
