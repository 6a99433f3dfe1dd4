"""The rules of quarterly reporting (tasks.services): who writes, who reviews, what each step
records, stale edits, and the office's workspace of milestones due in a quarter.

专利管理处 (the `staff` persona) is responsible for measures 3, 7, 8, 18 and 19 of the 2014 plan:
one milestone of each scheduled measure falls in every quarter, measure 3's third milestone
(第三--四季度) spans quarters 3 and 4, measure 18's second (第二--三季度) quarters 2 and 3, and
measure 19 has only phases (第一阶段 …) with no quarter."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from departments import roles
from departments.models import Department
from plan.models import Milestone, Plan
from tasks import services
from tasks.forms import ReportForm
from tasks.models import ProgressReport, ReportVersion

from .conftest import make_user

State = ProgressReport.State
Status = ProgressReport.Status
Event = ReportVersion.Event


def milestone(measure: int, order: int) -> Milestone:
    """Milestone `order` of measure `measure` in the 2014 plan."""
    return Milestone.objects.select_related("measure").get(measure__number=measure, order=order)


def write(
    user,
    target: Milestone,
    quarter: int,
    *,
    base_version: int = 0,
    submit: bool = False,
    status: str = Status.IN_PROGRESS,
    percent: int = 50,
    done_text: str = "已完成前期调研。",
    problems_text: str = "",
    files=(),
) -> ProgressReport:
    """Saves (or submits) a report the way the report form does."""
    return services.save_report(
        user=user,
        milestone=target,
        quarter=quarter,
        base_version=base_version,
        status=status,
        percent=percent,
        done_text=done_text,
        problems_text=problems_text,
        submit=submit,
        files=files,
    )


def review(reviewer, report: ProgressReport, *, approve: bool, comment: str = ""):
    return services.review_report(
        reviewer=reviewer,
        report_id=report.pk,
        base_version=report.version,
        approve=approve,
        comment=comment,
    )


def submitted(user, target: Milestone, quarter: int) -> ProgressReport:
    """A report saved as a draft (version 1), then submitted (version 2)."""
    draft = write(user, target, quarter)
    return write(user, target, quarter, base_version=draft.version, submit=True)


def returned(user, reviewer, target: Milestone, quarter: int) -> ProgressReport:
    return review(reviewer, submitted(user, target, quarter), approve=False, comment="请补充数据。")


def approved(user, reviewer, target: Milestone, quarter: int) -> ProgressReport:
    return review(reviewer, submitted(user, target, quarter), approve=True)


def history(report: ProgressReport) -> list[tuple]:
    return list(
        ReportVersion.objects.filter(report=report).values_list("version", "event", "state")
    )


@pytest.fixture
def colleague(patent_office):
    """A second member of 专利管理处."""
    return make_user("chen", roles.STAFF, patent_office)


# --- Who may write ----------------------------------------------------------------------


def test_staff_of_the_responsible_office_may_write(staff):
    assert services.may_write_report(staff, milestone(3, 1))


def test_staff_of_another_office_may_not_write(other_staff):
    assert not services.may_write_report(other_staff, milestone(3, 1))


@pytest.mark.parametrize("persona", ["reviewer", "leader", "admin_user"])
def test_reviewers_leaders_and_admins_may_not_write(request, persona):
    user = request.getfixturevalue(persona)
    assert not services.may_write_report(user, milestone(3, 1))


def test_office_membership_without_the_staff_role_is_not_enough(patent_office):
    reviewer_in_office = make_user("sun", roles.REVIEWER, patent_office)
    assert not services.may_write_report(reviewer_in_office, milestone(3, 1))


def test_staff_of_either_office_of_a_shared_measure_may_write(plan_2014, staff):
    # Measure 16 names two responsible offices: 规划发展处 and 相关处室.
    planning = make_user("zhou", roles.STAFF, Department.objects.get(name="规划发展处"))
    shared = milestone(16, 1)
    assert services.may_write_report(planning, shared)
    assert not services.may_write_report(staff, shared)


def test_staff_read_their_offices_reports_only(staff, other_staff):
    assert services.may_read_report(staff, milestone(3, 1))
    assert not services.may_read_report(other_staff, milestone(3, 1))


@pytest.mark.parametrize("persona", ["reviewer", "leader", "admin_user"])
def test_reviewers_leaders_and_admins_read_every_report(request, persona):
    user = request.getfixturevalue(persona)
    assert services.may_read_report(user, milestone(3, 1))


def test_writing_for_another_office_is_refused(other_staff):
    with pytest.raises(PermissionDenied):
        write(other_staff, milestone(3, 1), 1)
    assert not ProgressReport.objects.exists()


# --- Saving and submitting --------------------------------------------------------------


def test_a_first_save_creates_a_draft_at_version_1(staff):
    report = write(staff, milestone(3, 1), 1, done_text="  已完成文件梳理。  ")

    report.refresh_from_db()
    assert (report.state, report.version) == (State.DRAFT, 1)
    assert report.done_text == "已完成文件梳理。"
    assert report.updated_by == staff
    assert report.first_submitted_at is None
    assert history(report) == [(1, Event.SAVED, State.DRAFT)]


def test_submitting_a_draft_makes_it_submitted_at_the_next_version(staff):
    draft = write(staff, milestone(3, 1), 1)

    report = write(staff, milestone(3, 1), 1, base_version=draft.version, submit=True)

    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)
    assert report.first_submitted_at is not None
    assert history(report) == [(1, Event.SAVED, State.DRAFT), (2, Event.SUBMITTED, State.SUBMITTED)]


def test_the_first_submission_time_is_kept_on_resubmission(staff, reviewer):
    report = returned(staff, reviewer, milestone(3, 1), 1)
    first = ProgressReport.objects.get(pk=report.pk).first_submitted_at

    write(staff, milestone(3, 1), 1, base_version=report.version, submit=True)

    report.refresh_from_db()
    assert report.state == State.SUBMITTED
    assert report.first_submitted_at == first


def test_submitting_without_done_text_is_refused_and_nothing_is_saved(staff):
    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, done_text="   ", submit=True)

    assert refused.value.message_dict == {"done_text": ["提交前请填写完成情况。"]}
    assert not ProgressReport.objects.exists()
    assert not ReportVersion.objects.exists()


def test_submitting_a_draft_without_done_text_leaves_the_draft_as_it_was(staff):
    draft = write(staff, milestone(3, 1), 1, done_text="")

    with pytest.raises(ValidationError):
        write(staff, milestone(3, 1), 1, base_version=1, percent=80, done_text="", submit=True)

    draft.refresh_from_db()
    assert (draft.state, draft.version, draft.percent) == (State.DRAFT, 1, 50)
    assert history(draft) == [(1, Event.SAVED, State.DRAFT)]


def test_done_with_less_than_100_percent_is_refused(staff):
    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, status=Status.DONE, percent=90)

    assert refused.value.message_dict == {"percent": ["状态为“已完成”时,完成百分比须为100%。"]}
    assert not ProgressReport.objects.exists()


def test_done_at_100_percent_is_accepted(staff):
    report = write(staff, milestone(3, 1), 1, status=Status.DONE, percent=100, submit=True)
    assert (report.status, report.percent) == (Status.DONE, 100)


@pytest.mark.parametrize("percent", [-1, 101])
def test_the_form_refuses_a_percent_outside_0_to_100(percent):
    form = ReportForm({"version": 0, "status": Status.IN_PROGRESS, "percent": percent})

    assert not form.is_valid()
    assert form.errors["percent"] == ["完成百分比须在0到100之间。"]


@pytest.mark.parametrize("percent", [0, 100])
def test_the_form_accepts_0_and_100_percent(percent):
    form = ReportForm({"version": 0, "status": Status.IN_PROGRESS, "percent": percent})
    assert form.is_valid(), form.errors


def test_the_service_refuses_a_percent_over_100_too(staff):
    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, percent=101)

    assert refused.value.message_dict == {"percent": ["确保该值小于或等于100。"]}
    assert not ProgressReport.objects.exists()


def test_a_quarter_the_milestone_does_not_span_is_refused(staff):
    spans_3_and_4 = milestone(3, 3)  # 第三--四季度

    with pytest.raises(ValidationError) as refused:
        write(staff, spans_3_and_4, 2)

    assert refused.value.message_dict == {"quarter": ["该进度节点在这个季度没有安排。"]}
    assert not ProgressReport.objects.exists()


def test_a_span_is_reported_separately_for_each_quarter_it_covers(staff):
    spans_3_and_4 = milestone(3, 3)

    third = write(staff, spans_3_and_4, 3, done_text="第三季度进展。")
    fourth = write(staff, spans_3_and_4, 4, done_text="第四季度进展。")

    assert third.pk != fourth.pk
    assert list(
        ProgressReport.objects.filter(milestone=spans_3_and_4).values_list("quarter", "done_text")
    ) == [(3, "第三季度进展。"), (4, "第四季度进展。")]


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_an_unscheduled_milestone_cannot_be_reported(staff, quarter):
    phase = milestone(19, 1)
    assert phase.label == "第一阶段" and not phase.scheduled

    with pytest.raises(ValidationError) as refused:
        write(staff, phase, quarter)

    assert refused.value.message_dict == {"quarter": ["该进度节点在这个季度没有安排。"]}
    assert not ProgressReport.objects.exists()


# --- Stale edits ------------------------------------------------------------------------


def test_the_second_of_two_edits_of_the_same_version_is_stale(staff, colleague):
    draft = write(staff, milestone(3, 1), 1, done_text="初稿。")
    both_loaded = draft.version

    write(staff, milestone(3, 1), 1, base_version=both_loaded, done_text="张的修改。")
    with pytest.raises(services.StaleEdit) as stale:
        write(colleague, milestone(3, 1), 1, base_version=both_loaded, done_text="陈的修改。")

    assert stale.value.report.version == 2
    assert stale.value.report.done_text == "张的修改。"
    draft.refresh_from_db()
    assert (draft.version, draft.done_text, draft.updated_by) == (2, "张的修改。", staff)
    assert history(draft) == [(1, Event.SAVED, State.DRAFT), (2, Event.SAVED, State.DRAFT)]


def test_the_second_of_two_creations_of_a_report_is_stale(staff, colleague):
    write(staff, milestone(3, 1), 1, base_version=0, done_text="张的初稿。")

    with pytest.raises(services.StaleEdit) as stale:
        write(colleague, milestone(3, 1), 1, base_version=0, done_text="陈的初稿。")

    assert stale.value.report.done_text == "张的初稿。"
    assert ProgressReport.objects.get().done_text == "张的初稿。"
    assert ReportVersion.objects.count() == 1


def test_a_creation_that_races_past_the_row_lock_is_stale_too(staff, colleague, monkeypatch):
    # Two requests both find no report, then both insert: the unique constraint refuses the
    # second insert, which is reported as a stale edit instead of a server error.
    write(staff, milestone(3, 1), 1, done_text="张的初稿。")
    monkeypatch.setattr(services, "_locked_report", lambda milestone, quarter: None)

    with pytest.raises(services.StaleEdit) as stale:
        write(colleague, milestone(3, 1), 1, base_version=0, done_text="陈的初稿。")

    assert stale.value.report.done_text == "张的初稿。"
    assert ReportVersion.objects.count() == 1


def test_editing_a_report_that_does_not_exist_any_more_is_refused(staff):
    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, base_version=3)

    assert refused.value.messages == ["报告已不存在,请刷新页面。"]
    assert not ProgressReport.objects.exists()


# --- What staff may edit ----------------------------------------------------------------


def test_a_submitted_report_cannot_be_edited(staff):
    report = submitted(staff, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, base_version=report.version, done_text="改动。")

    assert refused.value.messages == ["该报告当前状态为“已提交”,不能修改。"]
    report.refresh_from_db()
    assert (report.version, report.done_text) == (2, "已完成前期调研。")


def test_an_approved_report_cannot_be_edited(staff, reviewer):
    report = approved(staff, reviewer, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        write(staff, milestone(3, 1), 1, base_version=report.version, done_text="改动。")

    assert refused.value.messages == ["该报告当前状态为“已通过”,不能修改。"]
    report.refresh_from_db()
    assert (report.state, report.version, report.done_text) == (
        State.APPROVED,
        3,
        "已完成前期调研。",
    )


def test_a_returned_report_can_be_edited_and_resubmitted(staff, reviewer):
    report = returned(staff, reviewer, milestone(3, 1), 1)

    text = "补充了数据。"
    edited = write(staff, milestone(3, 1), 1, base_version=report.version, done_text=text)
    assert (edited.state, edited.version) == (State.RETURNED, 4)  # still owed to the reviewer
    resubmitted = write(staff, milestone(3, 1), 1, base_version=4, done_text=text, submit=True)

    resubmitted.refresh_from_db()
    assert (resubmitted.state, resubmitted.version) == (State.SUBMITTED, 5)
    assert resubmitted.done_text == "补充了数据。"


# --- Reviewing --------------------------------------------------------------------------


def test_a_reviewer_approves_a_submitted_report(staff, reviewer):
    report = submitted(staff, milestone(3, 1), 1)

    review(reviewer, report, approve=True, comment="同意。")

    report.refresh_from_db()
    assert (report.state, report.version, report.review_comment) == (State.APPROVED, 3, "同意。")
    last = report.versions.last()
    assert (last.event, last.by, last.comment) == (Event.APPROVED, reviewer, "同意。")


def test_a_reviewer_returns_a_report_with_a_comment(staff, reviewer):
    report = submitted(staff, milestone(3, 1), 1)

    review(reviewer, report, approve=False, comment="  请补充质押融资数据。 ")

    report.refresh_from_db()
    assert (report.state, report.version) == (State.RETURNED, 3)
    assert report.review_comment == "请补充质押融资数据。"
    last = report.versions.last()
    assert (last.event, last.by, last.comment) == (Event.RETURNED, reviewer, "请补充质押融资数据。")


@pytest.mark.parametrize("comment", ["", "   "])
def test_returning_without_a_comment_is_refused(staff, reviewer, comment):
    report = submitted(staff, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        review(reviewer, report, approve=False, comment=comment)

    assert refused.value.message_dict == {"comment": ["退回时请填写审核意见。"]}
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_a_draft_cannot_be_reviewed(staff, reviewer):
    draft = write(staff, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        review(reviewer, draft, approve=True)

    assert refused.value.messages == ["只能审核已提交的报告。"]
    draft.refresh_from_db()
    assert (draft.state, draft.version) == (State.DRAFT, 1)


def test_an_approved_report_cannot_be_reviewed_again(staff, reviewer):
    report = approved(staff, reviewer, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        review(reviewer, report, approve=False, comment="再看看。")

    assert refused.value.messages == ["只能审核已提交的报告。"]
    report.refresh_from_db()
    assert (report.state, report.version) == (State.APPROVED, 3)


def test_a_reviewer_cannot_review_a_report_they_submitted_themselves(patent_office, reviewer):
    both = make_user("qian", roles.STAFF, patent_office)
    both.groups.add(Group.objects.get(name=roles.REVIEWER))
    report = submitted(both, milestone(3, 1), 1)

    with pytest.raises(ValidationError) as refused:
        review(both, report, approve=True)

    assert refused.value.messages == ["不能审核自己提交的报告。"]
    review(reviewer, report, approve=True)  # another reviewer can
    report.refresh_from_db()
    assert report.state == State.APPROVED


@pytest.mark.parametrize("persona", ["staff", "other_staff", "leader", "admin_user"])
def test_only_reviewers_review(request, staff, persona):
    report = submitted(staff, milestone(3, 1), 1)
    user = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        review(user, report, approve=True)

    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


def test_a_review_of_an_older_version_is_stale(staff, reviewer):
    report = submitted(staff, milestone(3, 1), 1)

    with pytest.raises(services.StaleEdit) as stale:
        services.review_report(
            reviewer=reviewer, report_id=report.pk, base_version=1, approve=True, comment=""
        )

    assert stale.value.report.version == 2
    report.refresh_from_db()
    assert (report.state, report.version) == (State.SUBMITTED, 2)


# --- History ----------------------------------------------------------------------------


def test_every_step_is_kept_as_a_version_and_none_is_overwritten(staff, reviewer):
    target = milestone(8, 1)
    steps = []

    report = write(staff, target, 1, percent=20, done_text="召开协调会。")
    steps.append(list(report.versions.values()))
    report = write(staff, target, 1, base_version=1, percent=40, done_text="已协调。", submit=True)
    steps.append(list(report.versions.values()))
    report = review(reviewer, report, approve=False, comment="请写明政策名称。")
    steps.append(list(report.versions.values()))
    report = write(staff, target, 1, base_version=3, percent=60, done_text="落实了两项政策。")
    steps.append(list(report.versions.values()))
    report = write(
        staff, target, 1, base_version=4, percent=60, done_text="落实了两项政策。", submit=True
    )
    steps.append(list(report.versions.values()))
    report = review(reviewer, report, approve=True)
    steps.append(list(report.versions.values()))

    final = list(report.versions.values())
    assert [
        (row["version"], row["event"], row["by_id"], row["state"], row["percent"], row["done_text"])
        for row in final
    ] == [
        (1, Event.SAVED, staff.pk, State.DRAFT, 20, "召开协调会。"),
        (2, Event.SUBMITTED, staff.pk, State.SUBMITTED, 40, "已协调。"),
        (3, Event.RETURNED, reviewer.pk, State.RETURNED, 40, "已协调。"),
        (4, Event.SAVED, staff.pk, State.RETURNED, 60, "落实了两项政策。"),
        (5, Event.SUBMITTED, staff.pk, State.SUBMITTED, 60, "落实了两项政策。"),
        (6, Event.APPROVED, reviewer.pk, State.APPROVED, 60, "落实了两项政策。"),
    ]
    assert final[2]["comment"] == "请写明政策名称。"
    for step, rows in enumerate(steps, start=1):
        assert final[:step] == rows  # each earlier row exactly as it was written


# --- The office's workspace -------------------------------------------------------------


def measures_and_labels(groups) -> list[tuple[int, list[str]]]:
    return [(g.measure.number, [row.milestone.label for row in g.rows]) for g in groups]


EARLY_2014 = datetime.date(2014, 1, 15)


def test_the_workspace_shows_the_users_offices_milestones_of_the_quarter(staff, plan_2014):
    groups = services.workspace(staff, plan_2014, 1, EARLY_2014)

    assert measures_and_labels(groups) == [
        (3, ["第一季度"]),
        (7, ["第一季度"]),
        (8, ["第一季度"]),
        (18, ["第一季度"]),
    ]


def test_another_office_sees_its_own_milestones(other_staff, plan_2014):
    groups = services.workspace(other_staff, plan_2014, 1, EARLY_2014)
    assert [g.measure.number for g in groups] == [9, 10, 22, 30]


def test_a_member_of_two_offices_sees_both(patent_office, legal_office, plan_2014):
    both = make_user("wu", roles.STAFF, patent_office, legal_office)
    groups = services.workspace(both, plan_2014, 1, EARLY_2014)
    assert [g.measure.number for g in groups] == [3, 7, 8, 9, 10, 18, 22, 30]


def test_a_measure_shared_by_two_of_the_users_offices_appears_once(plan_2014):
    # Measure 16 names both 规划发展处 and 相关处室.
    offices = Department.objects.filter(name__in=["规划发展处", "相关处室"])
    both = make_user("zheng", roles.STAFF, *offices)

    groups = services.workspace(both, plan_2014, 1, EARLY_2014)

    assert [group.measure.number for group in groups] == [2, 16, 29]
    assert [len(group.rows) for group in groups] == [1, 1, 1]


def test_a_user_without_an_office_has_an_empty_workspace(reviewer, plan_2014):
    assert services.workspace(reviewer, plan_2014, 1, EARLY_2014) == []


@pytest.mark.parametrize(
    ("quarter", "expected"),
    [
        (2, [(3, ["第二季度"]), (7, ["第二季度"]), (8, ["第二季度"]), (18, ["第二--三季度"])]),
        (3, [(3, ["第三--四季度"]), (7, ["第三季度"]), (8, ["第三季度"]), (18, ["第二--三季度"])]),
        (4, [(3, ["第三--四季度"]), (7, ["第四季度"]), (8, ["第四季度"]), (18, ["第四季度"])]),
    ],
)
def test_a_span_appears_in_each_quarter_it_covers(staff, plan_2014, quarter, expected):
    groups = services.workspace(staff, plan_2014, quarter, EARLY_2014)
    assert measures_and_labels(groups) == expected


def test_a_measure_with_several_milestones_in_the_quarter_is_one_group(plan_2014):
    # Measure 14 (重庆知识产权信息中心): 第一--四季度, 第二--四季度 and 第三季度 all fall in Q3.
    centre = make_user("xu", roles.STAFF, Department.objects.get(name="重庆知识产权信息中心"))

    groups = services.workspace(centre, plan_2014, 3, EARLY_2014)

    assert measures_and_labels(groups) == [
        (14, ["第一--四季度", "第二--四季度", "第三季度"]),
        (15, ["第一--三季度"]),
    ]


def test_rows_without_a_report_are_due(staff, plan_2014):
    groups = services.workspace(staff, plan_2014, 1, EARLY_2014)
    rows = [row for group in groups for row in group.rows]
    assert {row.state for row in rows} == {"due"}
    assert all(row.report is None for row in rows)


def test_rows_show_the_state_of_their_report(staff, reviewer, plan_2014):
    write(staff, milestone(3, 1), 1)
    submitted(staff, milestone(7, 1), 1)
    returned(staff, reviewer, milestone(8, 1), 1)
    approved(staff, reviewer, milestone(18, 1), 1)

    groups = services.workspace(staff, plan_2014, 1, EARLY_2014)

    assert [(g.measure.number, g.rows[0].state) for g in groups] == [
        (3, State.DRAFT),
        (7, State.SUBMITTED),
        (8, State.RETURNED),
        (18, State.APPROVED),
    ]


def test_a_report_of_another_quarter_does_not_count(staff, plan_2014):
    write(staff, milestone(18, 2), 2)  # 第二--三季度, reported for Q2 only

    q2, q3 = (services.workspace(staff, plan_2014, q, EARLY_2014) for q in (2, 3))

    assert [g.rows[0].state for g in q2 if g.measure.number == 18] == [State.DRAFT]
    assert [g.rows[0].state for g in q3 if g.measure.number == 18] == ["due"]


def test_pending_rows_are_the_due_draft_and_returned_ones(
    patent_office, legal_office, reviewer, plan_2014
):
    both = make_user("wu", roles.STAFF, patent_office, legal_office)
    write(both, milestone(3, 1), 1)
    submitted(both, milestone(7, 1), 1)
    returned(both, reviewer, milestone(8, 1), 1)
    approved(both, reviewer, milestone(9, 1), 1)
    # 10, 18, 22 and 30 are not reported yet.

    pending = services.pending_rows(services.workspace(both, plan_2014, 1, EARLY_2014))

    assert [(row.milestone.measure.number, row.state) for row in pending] == [
        (3, State.DRAFT),
        (8, State.RETURNED),
        (10, "due"),
        (18, "due"),
        (22, "due"),
        (30, "due"),
    ]


def test_nothing_is_overdue_until_the_due_date_has_passed(staff, plan_2014):
    due = plan_2014.report_due(2)
    assert due == datetime.date(2014, 7, 10)

    groups = services.workspace(staff, plan_2014, 2, due)

    assert not any(row.overdue for group in groups for row in group.rows)


def test_after_the_due_date_pending_rows_are_overdue_and_come_first(staff, reviewer, plan_2014):
    submitted(staff, milestone(3, 2), 2)
    approved(staff, reviewer, milestone(7, 2), 2)
    returned(staff, reviewer, milestone(18, 2), 2)
    # 8 is not reported at all.
    day_after = plan_2014.report_due(2) + datetime.timedelta(days=1)

    groups = services.workspace(staff, plan_2014, 2, day_after)

    assert [(g.measure.number, g.overdue, g.rows[0].overdue) for g in groups] == [
        (8, True, True),
        (18, True, True),
        (3, False, False),
        (7, False, False),
    ]


def test_overdue_rows_come_first_within_a_measure(reviewer, plan_2014):
    centre = make_user("xu", roles.STAFF, Department.objects.get(name="重庆知识产权信息中心"))
    submitted(centre, milestone(14, 1), 3)
    late = plan_2014.report_due(3) + datetime.timedelta(days=1)

    groups = services.workspace(centre, plan_2014, 3, late)

    assert [(row.milestone.label, row.overdue) for row in groups[0].rows] == [
        ("第二--四季度", True),
        ("第三季度", True),
        ("第一--四季度", False),
    ]


def test_report_due_days_moves_the_due_date(settings, staff, plan_2014):
    settings.REPORT_DUE_DAYS = 30
    assert plan_2014.report_due(2) == datetime.date(2014, 7, 30)
    assert plan_2014.report_due(4) == datetime.date(2015, 1, 30)

    groups = services.workspace(staff, plan_2014, 2, datetime.date(2014, 7, 20))

    assert not any(group.overdue for group in groups)


def test_the_default_due_date_is_ten_days_after_the_quarter(plan_2014):
    assert [plan_2014.report_due(q) for q in (1, 2, 3, 4)] == [
        datetime.date(2014, 4, 10),
        datetime.date(2014, 7, 10),
        datetime.date(2014, 10, 10),
        datetime.date(2015, 1, 10),
    ]


# --- The default quarter ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (datetime.date(2014, 1, 1), 1),
        (datetime.date(2014, 3, 31), 1),
        (datetime.date(2014, 4, 10), 1),  # Q1 reports are due on 10 April
        (datetime.date(2014, 4, 11), 2),
        (datetime.date(2014, 8, 15), 3),
        (datetime.date(2014, 12, 31), 4),
        (datetime.date(2015, 1, 10), 4),  # Q4 reports are due on 10 January
    ],
)
def test_the_default_quarter_is_the_one_being_reported_in_the_plans_year(today, quarter):
    assert Plan(year=2014).default_quarter(today) == quarter


def test_the_default_quarter_of_a_past_plan_is_the_fourth():
    assert Plan(year=2014).default_quarter(datetime.date(2026, 2, 1)) == 4


def test_the_default_quarter_of_a_future_plan_is_the_first():
    assert Plan(year=2014).default_quarter(datetime.date(2013, 11, 30)) == 1
