"""The plan page: login required, the whole plan in the document's layout, bounded queries."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from plan.models import Action, Measure, Milestone, Plan

from .conftest import PASSWORD


def enlarge(plan: Plan, times: int) -> None:
    """Adds `times` copies of every measure (with its actions and milestones) to the plan."""
    measures = list(Measure.objects.filter(work_area__plan=plan).prefetch_related("actions"))
    for copy in range(1, times):
        for measure in measures:
            clone = Measure.objects.create(
                work_area=measure.work_area,
                number=measure.number + 100 * copy,
                title=measure.title,
                goal=measure.goal,
                executing_department=measure.executing_department,
            )
            clone.responsible_offices.set(measure.responsible_offices.all())
            Action.objects.bulk_create(
                Action(measure=clone, number=a.number, text=a.text) for a in measure.actions.all()
            )
            Milestone.objects.bulk_create(
                Milestone(
                    measure=clone,
                    order=m.order,
                    label=m.label,
                    text=m.text,
                    first_quarter=m.first_quarter,
                    last_quarter=m.last_quarter,
                )
                for m in measure.milestones.all()
            )


def test_anonymous_visitor_is_sent_to_login(client, plan_2014):
    for url in [reverse("home"), reverse("plan-document", args=[plan_2014.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_speaks_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()
    assert response.headers["Content-Language"] == "zh-hans"


def test_english_is_available(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("login"))
    assert "Log in" in response.content.decode()


def test_wrong_password_gets_a_message(client, staff):
    response = client.post(reverse("login"), {"username": "zhang", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_home_leads_each_role_to_its_page(client, staff, reviewer, leader, plan_2014):
    expected = {
        staff: reverse("my-work"),
        reviewer: reverse("review-queue"),
        leader: reverse("dashboard"),
    }
    for user, url in expected.items():
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"] == url


def test_plan_page_shows_the_whole_plan_in_document_order(client, staff, plan_2014):
    client.force_login(staff)
    response = client.get(reverse("plan-document", args=[plan_2014.pk]))
    html = response.content.decode()
    assert plan_2014.title in html
    for header in [
        "工作措施",
        "工作目标",
        "具体措施",
        "进度安排",
        "执行部门",
        "配合单位",
        "责任处室",
    ]:
        assert header in html
    positions = [html.index(f'id="measure-{m.number}"') for m in Measure.objects.all()]
    assert positions == sorted(positions)
    assert len(positions) == 18
    for action in Action.objects.all():
        assert action.text in html
    for milestone in Milestone.objects.all():
        assert milestone.text in html
    # Measure 19's phases are shown, marked unscheduled.
    assert html.count("未排期</span>") == Milestone.objects.unscheduled().count() == 3


def test_plan_page_queries_do_not_grow_with_the_plan(
    client, staff, plan_2014, django_assert_max_num_queries
):
    client.force_login(staff)
    url = reverse("plan-document", args=[plan_2014.pk])
    # session, user with roles (one query), plan, plans list, work areas, measures, offices,
    # actions, milestones
    with django_assert_max_num_queries(10):
        small = client.get(url)
    enlarge(plan_2014, 20)
    with django_assert_max_num_queries(10):
        large = client.get(url)
    assert large.content.decode().count("measure-row") == 20 * small.content.decode().count(
        "measure-row"
    )


def test_unknown_plan_is_404(client, staff):
    client.force_login(staff)
    assert client.get(reverse("plan-document", args=[999])).status_code == 404


def test_ensure_plan_loads_once(db):
    call_command("ensure_plan")
    call_command("ensure_plan")
    assert Plan.objects.count() == 1
    assert Measure.objects.count() == 18


def test_demo_users_are_refused_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_users")


def test_demo_users_cover_every_role_and_office(client, plan_2014, settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_users", password=PASSWORD)
    out = capsys.readouterr().out
    assert "zhuanli" in out and PASSWORD in out
    response = client.post(reverse("login"), {"username": "zhuanli", "password": PASSWORD})
    assert response.status_code == 302
    call_command("create_demo_users")
    assert PASSWORD not in capsys.readouterr().out  # printed once only
    from django.contrib.auth import get_user_model

    names = set(get_user_model().objects.values_list("username", flat=True))
    assert {"reviewer", "leader", "admin", "guihua", "fawu", "xinxi", "baohu"} <= names
    assert not any(name.startswith("office-") for name in names)  # generic 相关处室 has none
