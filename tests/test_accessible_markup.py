"""The markup behind the accessibility checks of tests/test_browser_responsive.py, checked
without a browser: charts hold no links, editable admin lists name their fields, help texts
carry the ids their fields refer to, and the favicon is there for every visitor."""

import re

from django.apps import apps
from django.contrib.staticfiles import finders
from django.urls import reverse


def model(name: str):
    return next(m for m in apps.get_models() if m.__name__ == name)


def admin_url(name: str, view: str, *args) -> str:
    meta = model(name)._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def test_dashboard_charts_are_pictures_and_their_tables_hold_the_links(client, leader):
    client.force_login(leader)
    content = client.get(reverse("dashboard")).content.decode()
    charts = re.findall(r"<svg\b.*?</svg>", content, re.S)
    assert len(charts) == 3
    for chart in charts:
        assert 'role="img"' in chart
        assert "<a " not in chart, "a link inside a role=img (axe nested-interactive)"
    # Each area has a link of its own in the table beside the chart.
    table = re.search(r'<table class="data-table buckets[^"]*">.*?</table>', content, re.S)[0]
    assert len(re.findall(r"<th scope=\"row\"><a href=\"\?[^\"]*area=\d+\"", table)) == 11


def test_report_form_help_text_has_the_id_its_field_refers_to(client, staff):
    milestone = model("Milestone").objects.get(measure__number=8, label="第四季度")
    client.force_login(staff)
    content = client.get(reverse("report-edit", args=[milestone.pk, 4])).content.decode()
    referred = re.findall(r'aria-describedby="([^"]+)"', content)
    assert referred, "the evidence field describes itself by its help text"
    for ids in referred:
        for id_ in ids.split():
            assert f'id="{id_}"' in content, id_


def test_admin_editable_lists_name_every_field(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    with django_assert_max_num_queries(8):  # as without the names: they cost no query
        content = client.get(admin_url("Milestone", "changelist")).content.decode()
    selects = re.findall(r"<select [^>]*>", content)
    editable = [s for s in selects if "first_quarter" in s or "last_quarter" in s]
    assert len(editable) == 2 * 61
    for select in editable:
        assert re.search(r'aria-label="(起始季度|截止季度) · [^"]+"', select), select
    content = client.get(admin_url("Plan", "changelist")).content.decode()
    checkbox = re.search(r'<input type="checkbox" name="form-0-published"[^>]*>', content)[0]
    assert 'aria-label="公开 · ' in checkbox


def test_favicon_is_a_static_file_sent_to_anyone(client):
    assert finders.find("favicon.ico") and finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert "/static/" in response["Location"]
