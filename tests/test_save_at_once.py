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
from .test_report_rules import milestone, review, submitted, write
from .test_workspace_views import report_form

State = ProgressReport.State
QUARTER = 4  # milestone 4 of measure 7 falls in the fourth quarter

PEOPLE = ("staff", "other_staff", "reviewer", "leader", "reviewer_in_office")
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


@pytest.fixture
def people(staff, other_staff, reviewer, leader, patent_office):
    return {
        "staff": staff,
        "other_staff": other_staff,
        "reviewer": reviewer,
        "leader": leader,
        # in the responsible office, but a reviewer: reviewers do not write reports
        "reviewer_in_office": make_user("reviewer2", roles.REVIEWER, patent_office),
    }


class Rollback(Exception):
    pass


def play(people, *, who, state, version_offset, retired, unscheduled, submit, values, full_way):
    """One save through the report form in a situation, rolled back afterwards: what the
    user saw, the report and its history, and whether the one statement wrote it."""
    try:
        with transaction.atomic():
            raise Rollback(
                _play(
                    people,
                    who,
                    state,
                    version_offset,
                    retired,
                    unscheduled,
                    submit,
                    values,
                    full_way,
                )
            )
    except Rollback as done:
        return done.args[0]


def _play(people, who, state, version_offset, retired, unscheduled, submit, values, full_way):
    staff, reviewer = people["staff"], people["reviewer"]
    target = milestone(7, 4)
    report = None
    if state == State.DRAFT:
        report = write(staff, target, QUARTER)
    elif state == State.SUBMITTED:
        report = submitted(staff, target, QUARTER)
    elif state == State.RETURNED:
        report = review(reviewer, submitted(staff, target, QUARTER), approve=False, comment="补充")
    elif state == State.APPROVED:
        report = review(reviewer, submitted(staff, target, QUARTER), approve=True)
    before = ProgressReport.objects.filter(pk=report.pk).first() if report else None
    if retired:
        Milestone.objects.filter(pk=target.pk).update(retired_on=datetime.date(2014, 6, 30))
    if unscheduled:  # a plan revision moved it to the first half since the report was written
        Milestone.objects.filter(pk=target.pk).update(first_quarter=1, last_quarter=2)
    base = max(0, (before.version if before else 0) + version_offset)
    client = Client()
    client.force_login(people[who])
    took = []
    at_once = services.save_report_at_once

    def spy(**kwargs):
        saved = None if full_way else at_once(**kwargs)
        took.append(saved is not None)
        return saved

    with mock.patch.object(services, "save_report_at_once", spy):
        response = client.post(
            reverse("report-edit", args=[target.pk, QUARTER]),
            report_form(base, submit=submit, **values),
        )
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
                for name in ("state", "status", "percent", "done_text", "problems_text")
            },
            "version": row.version,
            "updated_by": row.updated_by_id,
            "first_submitted_kept": before is not None
            and row.first_submitted_at == before.first_submitted_at,
            "first_submitted": row.first_submitted_at is not None,
            "opened": row.opened_at is not None,
            "review_comment": row.review_comment,
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
        "existed": before is not None,
        "took_one_statement": any(took),
    }


def same_outcome(people, **situation):
    at_once = play(people, **situation, full_way=False)
    full = play(people, **situation, full_way=True)
    took = at_once.pop("took_one_statement")
    full.pop("took_one_statement")
    assert at_once == full, situation
    accepted = full["status_code"] == 302 and full["location"].startswith(reverse("my-work"))
    # the one statement takes every accepted save of a report that exists, and nothing else
    assert took == (accepted and full["existed"]), situation
    return full, accepted


@pytest.mark.parametrize(
    "state, submit",
    [(State.DRAFT, False), (State.DRAFT, True), (State.RETURNED, False), (State.RETURNED, True)],
)
def test_the_common_saves_take_one_statement_and_end_as_the_full_way_does(people, state, submit):
    full, accepted = same_outcome(
        people,
        who="staff",
        state=state,
        version_offset=0,
        retired=False,
        unscheduled=False,
        submit=submit,
        values={},
    )
    assert accepted
    assert full["report"]["state"] == (State.SUBMITTED if submit else state)
    assert full["history"][-1][1:3] == ("submitted" if submit else "saved", "web")


@pytest.mark.parametrize(
    "change",
    [
        {"who": "other_staff"},
        {"who": "reviewer"},
        {"who": "leader"},
        {"who": "reviewer_in_office"},
        {"state": State.SUBMITTED},
        {"state": State.APPROVED},
        {"version_offset": -1},
        {"version_offset": 1},
        {"retired": True},
        {"unscheduled": True},
        {"submit": True, "values": VALUES["no text"]},
        {"values": VALUES["done at 60%"]},
        {"values": VALUES["percent 101"]},
        {"values": VALUES["long text"]},
        {"state": None},  # no report yet: the full way writes the first version
    ],
    ids=lambda change: ",".join(f"{k}={v}"[:30] for k, v in change.items()),
)
def test_each_rule_refuses_on_the_one_statement_as_on_the_full_way(people, change):
    situation = {
        "who": "staff",
        "state": State.DRAFT,
        "version_offset": 0,
        "retired": False,
        "unscheduled": False,
        "submit": False,
        "values": {},
        **change,
    }
    full, accepted = same_outcome(people, **situation)
    assert accepted == (change == {"state": None})


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from(PEOPLE),
    state=st.sampled_from(STATES),
    version_offset=st.sampled_from((0, 0, -1, 1)),
    retired=st.booleans(),
    unscheduled=st.booleans(),
    submit=st.booleans(),
    values=st.sampled_from(sorted(VALUES)),
)
def test_any_situation_ends_as_on_the_full_way(people, values, **situation):
    same_outcome(people, **situation, values=VALUES[values])


def test_the_save_is_one_prepared_statement_on_postgresql(client, staff, plan_2014):
    target = milestone(7, 4)
    draft = write(staff, target, QUARTER)
    client.force_login(staff)
    url = reverse("report-edit", args=[target.pk, QUARTER])
    client.post(url, report_form(draft.version, done_text="第一次保存。"))  # may PREPARE
    sent = []
    receiver = lambda **kwargs: sent.append((kwargs["event"], kwargs["report"].version))  # noqa: E731
    signals.report_changed.connect(receiver, weak=False)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, report_form(draft.version + 1, done_text="一条语句保存。"))
    finally:
        signals.report_changed.disconnect(receiver)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('my-work')}?plan={plan_2014.pk}&quarter=4"
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "tasks_" in q["sql"] or services.PREPARED in q["sql"]
    ]
    if connection.vendor == "postgresql":  # prepared once per session, then only executed
        assert [sql.split()[:2] for sql in writes] == [["EXECUTE", services.PREPARED]]
    else:  # an UPDATE and an INSERT (in a savepoint)
        assert [sql.split()[0] for sql in writes] == ["UPDATE", "INSERT"]
    assert sent == [("saved", 3)]
    assert list(
        ReportVersion.objects.filter(report=draft).values_list("version", "event", "done_text")
    ) == [
        (1, "saved", "已完成前期调研。"),
        (2, "saved", "第一次保存。"),
        (3, "saved", "一条语句保存。"),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")
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
    assert [
        q["sql"].split()[0] for q in queries.captured_queries if services.PREPARED in q["sql"]
    ] == ["PREPARE", "EXECUTE"]
    assert ProgressReport.objects.get(pk=draft.pk).done_text == "新会话。"
