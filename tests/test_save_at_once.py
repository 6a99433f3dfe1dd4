"""The report form's common save in one statement (tasks.services.save_report_at_once) keeps
every rule: whatever the situation (who saves, the report's state, the version the form was
built from, a milestone retired or no longer scheduled in the quarter, the values typed),
the page, the report and its history come out exactly as they do when the save takes
save_report's full way; and the one statement takes every save that way accepts on a report
that exists, and nothing else."""

import datetime
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from departments import roles
from plan.models import Milestone
from tasks import services, signals
from tasks.models import ProgressReport, ReportVersion

from .conftest import make_user
from .test_report_rules import milestone, review, write
from .test_workspace_views import report_form

State = ProgressReport.State
QUARTER = 4  # milestone 4 of measure 7 falls in the fourth quarter

PEOPLE = (
    "staff",
    "other_staff",
    "staff_in_two_offices",
    "reviewer",
    "leader",
    "admin",
    "reviewer_in_office",
    "admin_in_office",
    "unit_in_office",
)
STATES = (None, State.DRAFT, State.SUBMITTED, State.RETURNED, State.APPROVED)
VALUES = {
    "ordinary": {},
    "done at 100%": {"status": "done", "percent": 100},
    "done at 60%": {"status": "done", "percent": 60},  # the model's rule refuses it
    "no text": {"done_text": "  "},  # fine for a draft, refused for a submission
    "percent 101": {"percent": 101},  # the form refuses it
    "long text": {"problems_text": "问" * 6000},  # over the limit
    "unknown status": {"status": "finished"},
}
SCHEDULES = ("as planned", "moved to the first half", "no quarter")


@pytest.fixture
def people(staff, other_staff, reviewer, leader, admin_user, patent_office, legal_office):
    return {
        "staff": staff,
        "other_staff": other_staff,  # 法律事务处: not responsible for measure 7
        "staff_in_two_offices": make_user("staff2", roles.STAFF, legal_office, patent_office),
        "reviewer": reviewer,
        "leader": leader,
        "admin": admin_user,
        # in the responsible office, without the office staff's role: they do not write
        "reviewer_in_office": make_user("reviewer2", roles.REVIEWER, patent_office),
        "admin_in_office": make_user("admin2", roles.ADMIN, patent_office),
        "unit_in_office": make_user("unit2", roles.UNIT, patent_office),
    }


class Rollback(Exception):
    pass


def play(people, **situation):
    """One save through the report form in a situation, rolled back afterwards: what the
    user saw, the report and its history, what report_changed's receivers got, and whether
    the one statement wrote it."""
    try:
        with transaction.atomic():
            raise Rollback(_play(people, **situation))
    except Rollback as done:
        return done.args[0]


def _play(
    people,
    *,
    who,
    state,
    version_offset,
    retired,
    schedule,
    shared,
    submit,
    values,
    listening,
    full_way,
):
    staff, reviewer = people["staff"], people["reviewer"]
    target = milestone(7, 4)
    report = None
    if state is not None:
        report = write(staff, target, QUARTER)
    if state in (State.SUBMITTED, State.RETURNED, State.APPROVED):
        report = write(staff, target, QUARTER, base_version=report.version, submit=True)
        services.mark_opened(reviewer, report)  # a reviewer has it open: no withdrawing
        report.refresh_from_db()
    if state in (State.RETURNED, State.APPROVED):
        approve = state == State.APPROVED
        report = review(reviewer, report, approve=approve, comment="" if approve else "补充")
    before = ProgressReport.objects.filter(pk=report.pk).first() if report else None
    if retired:
        Milestone.objects.filter(pk=target.pk).update(retired_on=datetime.date(2014, 6, 30))
    if schedule == "moved to the first half":  # a plan revision since the report was written
        Milestone.objects.filter(pk=target.pk).update(first_quarter=1, last_quarter=2)
    elif schedule == "no quarter":
        Milestone.objects.filter(pk=target.pk).update(first_quarter=None, last_quarter=None)
    if shared:  # 法律事务处 is responsible for the measure too
        target.measure.responsible_offices.add(people["other_staff"].departments.get())
    base = max(0, (before.version if before else 0) + version_offset)
    client = Client()
    client.force_login(people[who])
    took, heard = [], []
    at_once = services.save_report_at_once

    def spy(**kwargs):
        saved = None if full_way else at_once(**kwargs)
        took.append(saved is not None)
        return saved

    def receiver(report, user, event, channel, **kwargs):
        heard.append(
            {
                "event": event,
                "channel": channel,
                "user": user.pk,
                "adding": report._state.adding,
                **{
                    name: getattr(report, name)
                    for name in (
                        "version",
                        "state",
                        "status",
                        "percent",
                        "done_text",
                        "problems_text",
                        "review_comment",
                        "milestone_id",
                        "quarter",
                    )
                },
                "first_submitted": report.first_submitted_at is not None,
                "opened": report.opened_at is not None,
            }
        )

    if listening:
        signals.report_changed.connect(receiver, weak=False)
    try:
        with mock.patch.object(services, "save_report_at_once", spy):
            response = client.post(
                reverse("report-edit", args=[target.pk, QUARTER]),
                report_form(base, submit=submit, **values),
            )
    finally:
        signals.report_changed.disconnect(receiver)
    row = ProgressReport.objects.filter(milestone=target, quarter=QUARTER).first()
    form = response.context["form"] if response.status_code == 200 else None
    return {
        "status_code": response.status_code,
        "location": response.get("Location"),
        "messages": [str(m) for m in get_messages(response.wsgi_request)],
        "form_errors": form.errors.get_json_data() if form is not None else None,
        "report": row
        and {
            **{
                name: getattr(row, name)
                for name in (
                    "state",
                    "status",
                    "percent",
                    "done_text",
                    "problems_text",
                    "version",
                    "updated_by_id",
                    "review_comment",
                )
            },
            "first_submitted_kept": before is not None
            and row.first_submitted_at == before.first_submitted_at,
            "first_submitted": row.first_submitted_at is not None,
            "opened_kept": before is not None and row.opened_at == before.opened_at,
            "opened": row.opened_at is not None,
        },
        "history": list(
            ReportVersion.objects.filter(report__milestone=target, report__quarter=QUARTER)
            .order_by("version")
            .values_list(
                "version",
                "event",
                "channel",
                "by",
                "state",
                "status",
                "percent",
                "done_text",
                "problems_text",
                "comment",
            )
        ),
        "heard": heard,
        "existed": before is not None,
        "took_one_statement": any(took),
    }


BASELINE = {
    "who": "staff",
    "state": State.DRAFT,
    "version_offset": 0,
    "retired": False,
    "schedule": "as planned",
    "shared": False,
    "submit": False,
    "values": {},
    "listening": True,
}


def same_outcome(people, **change):
    situation = {**BASELINE, **change}
    at_once = play(people, **situation, full_way=False)
    full = play(people, **situation, full_way=True)
    took = at_once.pop("took_one_statement")
    full.pop("took_one_statement")
    assert at_once == full, situation
    accepted = full["status_code"] == 302 and full["location"].startswith(reverse("my-work"))
    # the one statement takes every accepted save of a report that exists, and nothing else
    assert took == (accepted and full["existed"]), situation
    assert len(full["heard"]) == (1 if accepted and situation["listening"] else 0)
    return full, accepted


@pytest.mark.parametrize("submit", [False, True], ids=["save", "submit"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_save_in_which_state_is_the_same_either_way(people, who, state, submit):
    full, accepted = same_outcome(people, who=who, state=state, submit=submit)
    writers = ("staff", "staff_in_two_offices")
    assert accepted == (who in writers and state in (None, State.DRAFT, State.RETURNED))


@pytest.mark.parametrize("listening", [True, False], ids=["heard", "unheard"])
@pytest.mark.parametrize(
    "state, submit",
    [(State.DRAFT, False), (State.DRAFT, True), (State.RETURNED, False), (State.RETURNED, True)],
)
def test_the_common_saves_take_one_statement_and_end_as_the_full_way_does(
    people, state, submit, listening
):
    full, accepted = same_outcome(people, state=state, submit=submit, listening=listening)
    assert accepted
    assert full["report"]["state"] == (State.SUBMITTED if submit else state)
    assert full["report"]["opened"] == (state == State.RETURNED and not submit)
    assert full["history"][-1][1:3] == ("submitted" if submit else "saved", "web")


@pytest.mark.parametrize(
    "change",
    [
        {"version_offset": -1},
        {"version_offset": 1},
        {"retired": True},
        {"schedule": "moved to the first half"},
        {"schedule": "no quarter"},
        {"who": "other_staff", "shared": True},  # allowed once 法律事务处 shares the measure
        {"submit": True, "values": VALUES["no text"]},
        {"values": VALUES["no text"]},
        {"values": VALUES["done at 100%"]},
        {"values": VALUES["done at 60%"]},
        {"values": VALUES["percent 101"]},
        {"values": VALUES["long text"]},
        {"values": VALUES["unknown status"]},
    ],
    ids=lambda change: ",".join(f"{k}={v}"[:30] for k, v in change.items()),
)
def test_each_rule_holds_on_the_one_statement_as_on_the_full_way(people, change):
    full, accepted = same_outcome(people, **change)
    allowed = [{"who": "other_staff", "shared": True}, {"values": VALUES["no text"]}]
    assert accepted == (change in allowed or change == {"values": VALUES["done at 100%"]})


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,  # the same situations on every run: a difference is never a flake
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from(PEOPLE),
    state=st.sampled_from(STATES),
    version_offset=st.sampled_from((0, 0, -1, 1)),
    retired=st.booleans(),
    schedule=st.sampled_from(SCHEDULES),
    shared=st.booleans(),
    submit=st.booleans(),
    values=st.sampled_from(sorted(VALUES)),
    listening=st.booleans(),
)
def test_any_situation_ends_as_on_the_full_way(people, values, **situation):
    same_outcome(people, **situation, values=VALUES[values])


def statements_of_the_save(queries) -> list[str]:
    return [
        " ".join(q["sql"].split()[:2])
        for q in queries.captured_queries
        if "tasks_" in q["sql"] or services.PREPARED in q["sql"]
    ]


def test_the_save_is_one_prepared_statement_on_postgresql(client, staff, plan_2014):
    target = milestone(7, 4)
    draft = write(staff, target, QUARTER)
    client.force_login(staff)
    url = reverse("report-edit", args=[target.pk, QUARTER])
    client.post(url, report_form(draft.version, done_text="第一次保存。"))  # may PREPARE
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, report_form(draft.version + 1, done_text="一条语句保存。"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('my-work')}?plan={plan_2014.pk}&quarter=4"
    name = services._at_once_sql()["name"]
    if connection.vendor == "postgresql":  # prepared once per session, then only executed
        assert statements_of_the_save(queries) == [f"EXECUTE {name}"]
    else:  # an UPDATE and an INSERT (in a savepoint)
        assert [s.split()[0] for s in statements_of_the_save(queries)] == ["UPDATE", "INSERT"]
    assert list(
        ReportVersion.objects.filter(report=draft).values_list("version", "event", "done_text")
    ) == [
        (1, "saved", "已完成前期调研。"),
        (2, "saved", "第一次保存。"),
        (3, "saved", "一条语句保存。"),
    ]


def test_a_receiver_of_report_changed_gets_the_row_inside_the_write(client, staff, plan_2014):
    target = milestone(7, 4)
    draft = write(staff, target, QUARTER)
    client.force_login(staff)
    heard = []

    def receiver(report, event, **kwargs):
        heard.append((event, report.version, report._state.adding, report.updated_by_id))
        raise RuntimeError("a receiver fails")  # the save must not stay written

    signals.report_changed.connect(receiver, weak=False)
    try:
        with pytest.raises(RuntimeError):
            client.post(
                reverse("report-edit", args=[target.pk, QUARTER]),
                report_form(draft.version, done_text="收到了。"),
            )
    finally:
        signals.report_changed.disconnect(receiver)
    assert heard == [("saved", 2, False, staff.pk)]
    row = ProgressReport.objects.get(pk=draft.pk)
    assert (row.version, row.done_text) == (1, "已完成前期调研。")
    assert ReportVersion.objects.filter(report=draft).count() == 1


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared on PostgreSQL only"
)


@postgresql_only
def test_a_new_database_session_prepares_the_statement_again(transactional_db, staff, client):
    target = milestone(7, 4)
    draft = write(staff, target, QUARTER)
    client.force_login(staff)
    url = reverse("report-edit", args=[target.pk, QUARTER])
    assert client.post(url, report_form(draft.version, done_text="旧会话。")).status_code == 302
    connection.close()  # as CONN_MAX_AGE does; the prepared statement goes with the session
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, report_form(draft.version + 1, done_text="新会话。"))
    assert response.status_code == 302
    name = services._at_once_sql()["name"]
    assert statements_of_the_save(queries) == [f"PREPARE {name}", f"EXECUTE {name}"]
    assert ProgressReport.objects.get(pk=draft.pk).done_text == "新会话。"


@postgresql_only
@pytest.mark.parametrize("forgotten", ["by the session (DEALLOCATE ALL)", "by the app"])
def test_a_prepared_statement_forgotten_on_one_side_is_prepared_again(
    transactional_db, staff, client, forgotten
):
    target = milestone(7, 4)
    draft = write(staff, target, QUARTER)
    client.force_login(staff)
    url = reverse("report-edit", args=[target.pk, QUARTER])
    assert client.post(url, report_form(draft.version, done_text="第一次。")).status_code == 302
    if forgotten == "by the app":  # the session still has it: PREPARE finds the name taken
        connection.prepared_at_once_on = None
    else:  # what a pooler's reset does: EXECUTE finds no such statement
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    response = client.post(url, report_form(draft.version + 1, done_text="第二次。"))
    assert response.status_code == 302
    assert ProgressReport.objects.get(pk=draft.pk).version == 3
    assert ReportVersion.objects.filter(report=draft).count() == 3
