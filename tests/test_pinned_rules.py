"""Rules that survived a mutation of the code until these tests pinned them (issue #17).

Each section names the rule and the line of production code it pins:

- a superuser is an admin even outside the 管理员 group (departments.roles.load_memberships);
- the review queue asked for one plan (?plan=ID) lists that plan's reports only
  (tasks.views.review_queue), whatever it lists by default;
- a member of a generic cooperating unit (有关行业协会 …) cannot contribute
  (tasks.services.contributing_unit);
- generic offices (相关处室) have no row in the dashboard's timeliness table
  (tasks.dashboard.timeliness);
- a cooperating unit's milestone with a contribution is not late, even after the due date; one
  without is (tasks.services.unit_workspace);
- the plan import takes away the apostrophe our export puts before formula-like text, and
  keeps any other leading apostrophe (spreadsheets.writing.unsafe).

The 2014 plan: 有关行业协会 (generic) is the only cooperating unit of measures 7 and 8; measure
16 is 规划发展处's together with the generic 相关处室; the districts' unit cooperates on
measures 2 and 3 (among others). Its fourth-quarter reports are due on 2015-01-10."""

import datetime
import re
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from departments import roles
from departments.models import Department
from plan import layout
from plan.models import Measure, Milestone, Plan
from plan.services import copy_plan
from tasks import dashboard, services
from tasks.models import Contribution

from . import builders
from .conftest import PASSWORD, make_user

Q4_DUE = datetime.date(2015, 1, 10)
IN_Q2_2014 = datetime.date(2014, 5, 20)


def milestone(plan: Plan, measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in `plan`."""
    return Milestone.objects.select_related("measure").get(
        measure__work_area__plan=plan, measure__number=measure, order=order
    )


# --- A superuser is an admin, in the 管理员 group or not --------------------------------------


@pytest.fixture
def superuser(plan_2014):
    """A superuser (createsuperuser) who was never put in any group."""
    user = get_user_model().objects.create_superuser("root", "root@example.gov.cn", PASSWORD)
    assert not user.groups.exists()
    return user


def test_a_superuser_outside_the_admin_group_holds_the_admin_role(superuser):
    assert roles.roles_of(superuser) == {roles.ADMIN}
    assert roles.is_admin(superuser)
    assert roles.may_view_dashboard(superuser)


def test_a_superuser_outside_the_admin_group_sees_the_dashboard(client, superuser):
    client.force_login(superuser)

    assert client.get(reverse("dashboard")).status_code == 200


def test_a_superuser_outside_the_admin_group_may_import_in_the_admin(client, superuser):
    """The admin's import pages are for the 管理员 role (AdminImportExportMixin)."""
    client.force_login(superuser)

    assert client.get(reverse("admin:departments_department_import")).status_code == 200


def test_a_staff_account_in_no_group_is_not_an_admin(client, plan_2014):
    """The other side of the rule: it is being a superuser that makes the admin."""
    user = get_user_model().objects.create_user("clerk", password=PASSWORD, is_staff=True)
    client.force_login(user)

    assert not roles.is_admin(user)
    assert client.get(reverse("dashboard")).status_code == 403
    assert client.get(reverse("admin:departments_department_import")).status_code == 403


# --- The review queue asked for one plan ---------------------------------------------------


@pytest.fixture
def two_plans_waiting(plan_2014):
    """A 2015 plan copied from the 2014 one; one submitted report in each plan.
    Returns {plan: its waiting report}."""
    plan_2015 = copy_plan(plan_2014, year=2015, title="重庆市2015年专利事业发展战略推进计划")
    return {
        plan: builders.report(milestone(plan, 3, 1), 1, state="submitted")
        for plan in (plan_2014, plan_2015)
    }


def offered(content: str, report) -> bool:
    """Whether the queue offers `report` for review (links to it)."""
    return f'href="{reverse("report-detail", args=[report.pk])}"' in content


def test_the_review_queue_asked_for_a_plan_lists_only_that_plans_reports(
    client, reviewer, two_plans_waiting
):
    client.force_login(reviewer)

    for plan, waiting in two_plans_waiting.items():
        response = client.get(reverse("review-queue"), {"plan": plan.pk})

        content = response.content.decode()
        assert response.status_code == 200
        assert offered(content, waiting), plan.year
        others = [r for p, r in two_plans_waiting.items() if p != plan]
        assert not any(offered(content, other) for other in others), plan.year


# --- A generic cooperating unit does not contribute ------------------------------------------


@pytest.fixture
def association_member(plan_2014):
    """A unit account of 有关行业协会, a generic unit (it stands for many bodies)."""
    association = Department.objects.get(name="有关行业协会")
    assert association.generic
    return make_user("xiehui", roles.UNIT, association)


def test_a_member_of_a_generic_unit_is_not_a_contributing_unit(plan_2014, association_member):
    target = milestone(plan_2014, 7, 4)  # measure 7 names 有关行业协会 only

    assert services.contributing_unit(association_member, target) is None
    with pytest.raises(PermissionDenied, match="不是该工作措施的配合单位"):
        services.save_contribution(
            user=association_member,
            milestone=target,
            quarter=4,
            base_version=0,
            text="协会组织了培训。",
            figures="",
        )
    assert not Contribution.objects.exists()


def test_a_member_of_a_generic_unit_is_refused_the_contribution_form(
    client, plan_2014, association_member
):
    target = milestone(plan_2014, 7, 4)
    url = reverse("contribution-edit", args=[target.pk, 4])
    client.force_login(association_member)

    assert client.get(url).status_code == 403
    posted = client.post(url, {"version": 0, "text": "协会组织了培训。", "figures": ""})
    assert posted.status_code == 403
    assert not Contribution.objects.exists()


# --- Generic offices in the timeliness table --------------------------------------------------


def test_generic_offices_have_no_row_in_the_timeliness_table(plan_2014):
    offices = Department.objects.filter(
        pk__in=Measure.objects.filter(work_area__plan=plan_2014).values("responsible_offices")
    )
    assert offices.filter(name="相关处室", generic=True).exists()  # measure 16's second office

    rows = dashboard.overview(plan_2014, 2, today=IN_Q2_2014).timeliness

    names = {row.office.name for row in rows}
    assert "相关处室" not in names
    assert "规划发展处" in names  # the office it shares measure 16 with
    assert names == set(offices.filter(generic=False).values_list("name", flat=True))


def test_the_dashboard_page_lists_no_generic_office_under_timeliness(client, leader, plan_2014):
    client.force_login(leader)

    response = client.get(reverse("dashboard"), {"plan": plan_2014.pk, "quarter": 2})

    table = re.search(
        r'<table class="data-table timeliness[^"]*">.*?</table>', response.content.decode(), re.S
    )
    assert table, "no timeliness table"
    assert "规划发展处" in table[0]
    assert "相关处室" not in table[0]


# --- The late flag on a cooperating unit's rows --------------------------------------------


@pytest.fixture
def quxian(plan_2014):
    """A member of 各区县(自治县)知识产权局, who contributed to measure 3's 第三--四季度
    milestone in the fourth quarter and to nothing else."""
    user = make_user("quxian", roles.UNIT, Department.objects.get(name="各区县(自治县)知识产权局"))
    services.save_contribution(
        user=user,
        milestone=milestone(plan_2014, 3, 3),
        quarter=4,
        base_version=0,
        text="本区县组织企业参加专利政策宣讲。",
        figures="",
    )
    return user


def lateness(user, plan: Plan, today: datetime.date) -> dict[tuple[int, int], bool]:
    """(measure, order) → late, for the unit's fourth-quarter rows."""
    return {
        (row.milestone.measure.number, row.milestone.order): row.late
        for row in services.unit_workspace(user, plan, 4, today)
    }


def test_after_the_due_date_a_row_with_a_contribution_is_not_late(plan_2014, quxian):
    late = lateness(quxian, plan_2014, Q4_DUE + datetime.timedelta(days=1))

    assert late[(3, 3)] is False  # contributed
    assert late[(2, 4)] is True  # nothing contributed


def test_up_to_the_due_date_no_row_is_late(plan_2014, quxian):
    late = lateness(quxian, plan_2014, Q4_DUE)

    assert late[(3, 3)] is False
    assert late[(2, 4)] is False


def test_the_cooperation_page_does_not_mark_a_contributed_row_overdue(client, plan_2014, quxian):
    client.force_login(quxian)  # today is long past the 2014 plan's due dates

    response = client.get(reverse("unit-work"), {"plan": plan_2014.pk, "quarter": 4})
    rows = re.findall(
        r'<tr class="(unit-row[^"]*)" data-milestone="(\d+)">', response.content.decode()
    )
    classes = {int(pk): css for css, pk in rows}

    assert classes[milestone(plan_2014, 3, 3).pk] == "unit-row"
    assert classes[milestone(plan_2014, 2, 4).pk] == "unit-row overdue"


# --- The plan import and the formula escape --------------------------------------------------


def exported(plan: Plan) -> bytes:
    """The plan's workbook, as the export writes it."""
    buffer = BytesIO()
    layout.export_plan(plan).save(buffer)
    return buffer.getvalue()


def cell_values(data: bytes) -> set:
    return {cell.value for row in load_workbook(BytesIO(data)).active.iter_rows() for cell in row}


def reimported(plan: Plan) -> Plan:
    """The plan exported and imported again (under another title, next to the original)."""
    data = exported(plan)
    Plan.objects.filter(pk=plan.pk).update(title="原计划")
    return builders.import_plan(data).plan


FORMULA_LIKE = {2: "=SUM(1,2)", 3: "+86 专利增长", 4: "-5%以内", 7: "@各处室"}


def test_formula_like_text_comes_back_as_written_after_the_round_trip(plan_2014):
    for number, text in FORMULA_LIKE.items():
        Measure.objects.filter(work_area__plan=plan_2014, number=number).update(goal=text)
    Measure.objects.filter(work_area__plan=plan_2014, number=2).update(title="=SUM(1,2)")
    data = exported(plan_2014)
    assert {f"'{text}" for text in FORMULA_LIKE.values()} <= cell_values(data)  # escaped

    imported = reimported(plan_2014)

    goals = dict(Measure.objects.filter(work_area__plan=imported).values_list("number", "goal"))
    for number, text in FORMULA_LIKE.items():
        assert goals[number] == text
    assert Measure.objects.get(work_area__plan=imported, number=2).title == "=SUM(1,2)"


def test_a_leading_apostrophe_before_other_text_is_kept(plan_2014):
    """Only the apostrophe before = + - @ is the export's escape; any other is the text's."""
    goal = "'十二五'期间专利申请量翻番"
    Measure.objects.filter(work_area__plan=plan_2014, number=2).update(goal=goal)

    imported = reimported(plan_2014)

    assert Measure.objects.get(work_area__plan=imported, number=2).goal == goal
