"""Business rules for quarterly reports: who may do what, and every change of state.

Views call these functions and nothing else writes a report. Each write checks the version
the user saw (stale edits are refused) and records a ReportVersion in the same transaction,
so the history holds every step: most lock the report row first; the report form's save is
optimistic (the version is checked by the UPDATE itself), and its common case is one
statement, save_report_at_once, which carries the same rules in its WHERE clause and leaves
every other case, and every explanation of a refusal, to save_report."""

import contextlib
import datetime
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from departments import roles
from departments.models import Department
from departments.roles import roles_of
from plan.models import Measure, Milestone, Plan, WorkArea
from plantracker import clock

from . import signals
from .models import (
    Contribution,
    ContributionFile,
    ContributionVersion,
    Evidence,
    ProgressReport,
    ReportVersion,
    StoredFile,
)

State = ProgressReport.State


class StaleEdit(Exception):
    """The report changed since the user loaded it; `report` is the newer version."""

    def __init__(self, report: ProgressReport):
        super().__init__(f"report {report.pk} is at version {report.version}")
        self.report = report


# --- Who may do what --------------------------------------------------------------------


def office_ids(user) -> frozenset[int]:
    """The departments a user belongs to; cached on the user object for the request (read
    with the user's roles in one query, departments.roles.load_memberships)."""
    return roles.department_ids(user)


def may_write_report(user, milestone: Milestone) -> bool:
    """Office staff write reports for milestones whose measure names one of their offices
    as responsible. Nobody else writes reports (reviewers review, leaders read)."""
    if not user.is_authenticated or roles.STAFF not in roles_of(user):
        return False
    responsible = {office.pk for office in milestone.measure.responsible_offices.all()}
    return bool(responsible & office_ids(user))


def may_read_report(user, milestone: Milestone) -> bool:
    """Reviewers, leaders and admins read every report; staff read their offices' reports."""
    held = roles_of(user)
    if held & {roles.REVIEWER, roles.LEADER, roles.ADMIN}:
        return True
    return may_write_report(user, milestone)


def may_review(user) -> bool:
    return roles.REVIEWER in roles_of(user)


def check_dashboard(user) -> None:
    if not roles.may_view_dashboard(user):
        raise PermissionDenied(_("您无权查看领导看板。"))


def check_write(user, milestone: Milestone) -> None:
    if not may_write_report(user, milestone):
        raise PermissionDenied(_("您无权填报该进度节点。"))


def check_in_force(milestone: Milestone) -> None:
    """A milestone a plan revision retired keeps its reports but takes no new writing."""
    if milestone.retired_on is not None:
        raise ValidationError(
            _("该进度节点已在%(date)s的计划调整中取消,不再填报。")
            % {"date": milestone.retired_on.isoformat()}
        )


# --- Writing reports --------------------------------------------------------------------

Event = ReportVersion.Event
Channel = ReportVersion.Channel
CONTENT_FIELDS = ("status", "percent", "done_text", "problems_text")


def max_files() -> int:
    """How many files a report (or a contribution) may hold at once."""
    return getattr(settings, "EVIDENCE_MAX_FILES", 10)


def check_change(
    *,
    user,
    milestone: Milestone,
    current: str | None,
    author_id: int | None,
    state: str,
    content_changed: bool,
    comment: str = "",
    channel: str = Channel.WEB,
) -> str:
    """The state machine, the one rule every write of a report obeys (the web form, the
    review, the offline template and the admin import): the event a change from `current`
    (None: no report yet) to `state` makes, or PermissionDenied / ValidationError saying why
    it may not happen. `author_id` is who last changed the report's content."""
    current = current or State.DRAFT
    if state in (State.APPROVED, State.RETURNED) and state != current:
        if not may_review(user):
            raise PermissionDenied(_("只有审核人可以审核报告(通过或退回)。"))
        if current != State.SUBMITTED:
            raise ValidationError(_("只能审核已提交的报告。"))
        if content_changed:
            raise ValidationError(_("审核时不能同时修改报告内容。"))
        if author_id == user.pk:
            raise ValidationError(_("不能审核自己提交的报告。"))
        if state == State.RETURNED and not comment.strip():
            raise ValidationError({"comment": _("退回时请填写审核意见。")})
        return Event.APPROVED if state == State.APPROVED else Event.RETURNED
    if current not in ProgressReport.EDITABLE_STATES:
        raise ValidationError(
            _("该报告当前状态为“%(state)s”,不能修改。") % {"state": State(current).label}
        )
    admin_import = channel == Channel.ADMIN and roles.ADMIN in roles_of(user)
    if not admin_import and not may_write_report(user, milestone):
        raise PermissionDenied(_("您无权填报该进度节点。"))
    return Event.SUBMITTED if state == State.SUBMITTED else Event.SAVED


def _record(
    report: ProgressReport, event: str, user, at, comment: str = "", channel: str = Channel.WEB
) -> ReportVersion:
    version = ReportVersion.objects.create(
        report=report,
        version=report.version,
        event=event,
        by=user,
        at=at,
        comment=comment,
        channel=channel,
        **report.snapshot(),
    )
    signals.report_changed.send(
        ProgressReport, report=report, user=user, event=event, channel=channel
    )
    return version


# What save_report changes in a report that exists (the optimistic write sets only these).
OPTIMISTIC_FIELDS = (
    "status",
    "percent",
    "done_text",
    "problems_text",
    "updated_by",
    "updated_at",
    "version",
    "state",
    "first_submitted_at",
    "opened_at",
)


def _locked_report(milestone: Milestone, quarter: int) -> ProgressReport | None:
    # Ordered by pk, not by the model's ordering: that orders through the milestone, measure
    # and work area, and FOR UPDATE would then lock those rows too, so that every save in a
    # work area waited for the others (and the query took three joins).
    return (
        ProgressReport.objects.select_for_update()
        .filter(milestone=milestone, quarter=quarter)
        .order_by("pk")
        .first()
    )


#: A report or contribution takes at most this many times max_files() files in all, removed
#: ones included: each stays on disk for the history, so upload-and-remove cannot fill it.
UPLOADS_PER_HOLDING = 5


def check_file_count(stored, adding: int, field: str) -> None:
    """A report or contribution holds at most max_files() files, and takes at most
    UPLOADS_PER_HOLDING × that in all. `stored`: its files (removed ones too), or None."""
    if not adding:
        return
    counts = {"held": 0, "total": 0}
    if stored is not None:
        counts = stored.aggregate(held=Count("pk", filter=Q(removed_in=None)), total=Count("pk"))
    held, limit = counts["held"], max_files() * UPLOADS_PER_HOLDING
    if counts["total"] + adding > limit:
        raise ValidationError(
            {
                field: _(
                    "这里已累计上传%(total)s个文件(含已删除的),最多%(limit)s个。"
                    "如确需更多,请把文件合并后上传,或联系管理员。"
                )
                % {"total": counts["total"], "limit": limit}
            }
        )
    if held + adding > max_files():
        raise ValidationError(
            {
                field: _(
                    "每份报告最多%(limit)s个附件:已有%(held)s个,本次选择了%(adding)s个。"
                    "请删除不需要的附件,或把多个文件合并后再上传。"
                )
                % {"limit": max_files(), "held": held, "adding": adding}
            }
        )


@transaction.atomic
def save_report(
    *,
    user,
    milestone: Milestone,
    quarter: int,
    base_version: int,
    status: str,
    percent: int,
    done_text: str,
    problems_text: str,
    submit: bool,
    files: Iterable[UploadedFile] = (),
    channel: str = Channel.WEB,
    known: ProgressReport | None = None,
) -> ProgressReport:
    """Saves the office's report as a draft, or submits it. `base_version` is the version
    the user's form was built from (0 for a report not yet written).

    `known`: the report as the caller has just read it in this request (unlocked). Then the
    save is optimistic: the rules are checked against that reading, and the write is
    `UPDATE … SET …, version = base + 1 WHERE id = … AND version = base`, which changes no
    row if anyone wrote the report since (every write raises its version): then the newer
    report is read and refused as stale, nothing written. One statement fewer than locking
    the row first (README, Performance: update_vs_trivial). Without it, the row is locked."""
    check_write(user, milestone)
    check_in_force(milestone)
    files = list(files)
    now = clock.now()
    optimistic = known is not None and known.pk is not None
    report = known if optimistic else _locked_report(milestone, quarter)
    if report is None:
        if base_version != 0:
            raise ValidationError(_("报告已不存在,请刷新页面。"))
        report = ProgressReport(milestone=milestone, quarter=quarter, version=0)
    elif report.version != base_version:
        raise StaleEdit(report)
    event = check_change(
        user=user,
        milestone=milestone,
        current=report.state if report.pk else None,
        author_id=report.updated_by_id,
        state=State.SUBMITTED if submit else report.state,
        content_changed=True,
        channel=channel,
    )
    check_file_count(report.evidence.all() if report.pk else None, len(files), "evidence")
    report.milestone = milestone  # already loaded: clean() reads its quarters
    report.status, report.percent = status, percent
    report.done_text, report.problems_text = done_text.strip(), problems_text.strip()
    report.updated_by, report.updated_at = user, now
    report.version += 1
    if submit:
        if not report.done_text:
            raise ValidationError({"done_text": _("提交前请填写完成情况。")})
        report.state = State.SUBMITTED
        report.first_submitted_at = report.first_submitted_at or now
        report.opened_at = None  # a new submission: no reviewer has opened it yet
    # The milestone and the user are rows this request has just read: no need to ask the
    # database whether they exist (a query each); the foreign keys guard them anyway.
    report.full_clean(
        exclude=["milestone", "updated_by"], validate_unique=False, validate_constraints=False
    )
    if optimistic:
        written = ProgressReport.objects.filter(pk=report.pk, version=base_version).update(
            **{name: getattr(report, name) for name in OPTIMISTIC_FIELDS}
        )
        if not written:  # someone wrote it since it was read: refused, nothing written
            raise StaleEdit(ProgressReport.objects.get(pk=report.pk))
    elif report.pk is not None:
        report.save()  # the row is locked: an update cannot collide
    else:
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            # Someone else created this quarter's report a moment ago.
            raise StaleEdit(
                ProgressReport.objects.get(milestone=milestone, quarter=quarter)
            ) from None
    for upload in files:
        Evidence.objects.create(
            report=report,
            file=upload,
            name=StoredFile.stored_name(upload.name),
            size=upload.size,
            uploaded_by=user,
            uploaded_at=now,
            version=report.version,
        )
    _record(report, event, user, now, channel=channel)
    return report


def save_report_at_once(
    *,
    user,
    milestone_id: int,
    quarter: int,
    base_version: int,
    status: str,
    percent: int,
    done_text: str,
    problems_text: str,
    submit: bool,
) -> ProgressReport | None:
    """The report form's save of a report that exists, without files, in one statement: the
    UPDATE carries every rule of a web save in its WHERE clause (the version the user saw, a
    state that may be edited, a milestone in force and scheduled in the quarter, a measure
    one of the user's offices is responsible for) and, on PostgreSQL, inserts the history row
    too. The values are checked first, as save_report checks them.

    Returns the saved report (with `plan_id`), or None when anything is amiss (a value, the
    version, the state, the permission, no report yet): then nothing was written, and the
    caller takes save_report's way, which reads the report and says what is wrong. So this
    way accepts exactly what save_report accepts (tests/test_save_at_once.py holds the two
    to the same outcome), and refusals are explained in one place."""
    if not office_ids(user) or roles.STAFF not in roles_of(user):
        return None
    if connection.vendor != "postgresql" and not connection.features.can_return_columns_from_insert:
        return None  # no RETURNING (SQLite before 3.35)
    done_text, problems_text = done_text.strip(), problems_text.strip()
    if submit and not done_text:
        return None
    report = ProgressReport(
        quarter=quarter,
        status=status,
        percent=percent,
        done_text=done_text,
        problems_text=problems_text,
        updated_by=user,
        updated_at=clock.now(),
        state=State.SUBMITTED if submit else State.DRAFT,  # a draft keeps the row's state
        version=base_version + 1,
    )
    try:  # the milestone (its quarters) is checked by the statement
        report.full_clean(
            exclude=["milestone", "updated_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError:
        return None
    event = Event.SUBMITTED if submit else Event.SAVED
    # Receivers of report_changed run inside the write's transaction (tasks.signals) and get
    # the row as it now stands: only when someone listens, as the statement needs neither.
    listening = signals.report_changed.has_listeners(ProgressReport)
    with transaction.atomic() if listening else contextlib.nullcontext():
        row = _update_with_history(report, milestone_id, base_version, event)
        if row is None:
            return None
        report.pk, report.version, report.state, plan_id = row
        report.milestone_id = milestone_id
        report._state.adding, report._state.db = False, connection.alias
        if listening:
            report = ProgressReport.objects.get(pk=report.pk)
            signals.report_changed.send(
                ProgressReport, report=report, user=user, event=event, channel=Channel.WEB
            )
    report.plan_id = plan_id
    return report


#: save_report_at_once's statement is prepared once per PostgreSQL session under this name
#: and a hash of its text: planning it each time cost the database more than running it
#: (README, Performance).
PREPARED = "plantracker_save_report_at_once"
UNDEFINED_PREPARED_STATEMENT, DUPLICATE_PREPARED_STATEMENT = "26000", "42P05"


@functools.cache
def _at_once_sql() -> dict:
    """save_report_at_once's statements. Table names come from the models; every value is a
    parameter, so the text is the same each time."""
    responsible = Measure._meta.get_field("responsible_offices")
    members = Department._meta.get_field("members")
    update = f"""
        UPDATE {ProgressReport._meta.db_table} SET
            status = %s, percent = %s, done_text = %s, problems_text = %s,
            updated_by_id = %s, updated_at = %s, version = version + 1,
            state = CASE WHEN %s THEN %s ELSE state END,
            first_submitted_at = CASE WHEN %s THEN COALESCE(first_submitted_at, %s)
                                 ELSE first_submitted_at END,
            opened_at = CASE WHEN %s THEN NULL ELSE opened_at END
        WHERE milestone_id = %s AND quarter = %s AND version = %s AND state IN (%s, %s)
          AND EXISTS (
            SELECT 1 FROM {Milestone._meta.db_table} m
            JOIN {responsible.m2m_db_table()} o
              ON o.{responsible.m2m_column_name()} = m.measure_id
            JOIN {members.m2m_db_table()} d
              ON d.{members.m2m_column_name()} = o.{responsible.m2m_reverse_name()}
            WHERE m.id = %s AND m.retired_on IS NULL
              AND m.first_quarter <= %s AND %s <= m.last_quarter
              AND d.{members.m2m_reverse_name()} = %s)
        RETURNING id, version, state, (
            SELECT w.plan_id FROM {Milestone._meta.db_table} m
            JOIN {Measure._meta.db_table} me ON me.id = m.measure_id
            JOIN {WorkArea._meta.db_table} w ON w.id = me.work_area_id
            WHERE m.id = %s) AS plan_id, status, percent, done_text, problems_text"""  # noqa: S608
    insert = f"""
        INSERT INTO {ReportVersion._meta.db_table} (report_id, version, event, by_id, at,
            state, status, percent, done_text, problems_text, comment, channel)
        SELECT id, version, %s, %s, %s, state, status, percent, done_text, problems_text,
            '', %s FROM {{}}"""  # noqa: S608
    together = (
        f"WITH changed AS ({update}), recorded AS ({insert.format('changed')}"  # noqa: S608
        " RETURNING report_id) SELECT id, version, state, plan_id"
        " FROM changed JOIN recorded ON recorded.report_id = changed.id"
    )
    numbered = iter(range(1, together.count("%s") + 1))
    return {
        # PostgreSQL: one statement, prepared (no transaction to open)
        "name": f"{PREPARED}_{hashlib.sha256(together.encode()).hexdigest()[:12]}",
        "prepare": re.sub("%s", lambda _: f"${next(numbered)}", together),
        "parameters": together.count("%s"),
        # elsewhere: the two in a transaction (SQLite has no UPDATE in WITH)
        "update": update,
        "insert": insert.format(f"{ProgressReport._meta.db_table} WHERE id = %s"),
    }


def _pgcode(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "pgcode", None)


def _prepare(cursor, sql: dict) -> None:
    """PREPAREs the statement on this database session unless done already. A prepared
    statement lasts as long as the session, whatever becomes of the transaction it was
    prepared in; the session is known by the driver's connection object (a new one after a
    reconnection). The session may have it already (the name is the text's hash)."""
    session = connection.connection
    if getattr(connection, "prepared_at_once_on", None) is session:
        return
    try:  # in a transaction, a savepoint: a refusal leaves the transaction usable
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            cursor.execute(f"PREPARE {sql['name']} AS {sql['prepare']}")
    except DatabaseError as error:
        if _pgcode(error) != DUPLICATE_PREPARED_STATEMENT:
            raise
    connection.prepared_at_once_on = session


def _execute_prepared(cursor, sql: dict, values: list) -> None:
    execute = f"EXECUTE {sql['name']} ({', '.join(['%s'] * sql['parameters'])})"
    _prepare(cursor, sql)
    try:
        cursor.execute(execute, values)
    except DatabaseError as error:
        connection.prepared_at_once_on = None  # whatever went wrong, prepare it again
        # DISCARD ALL or DEALLOCATE (a pooler's reset) forgot it: prepare again and retry
        # unless in a transaction, which the error has spoilt (the next request prepares it)
        if _pgcode(error) != UNDEFINED_PREPARED_STATEMENT or connection.in_atomic_block:
            raise
        _prepare(cursor, sql)
        cursor.execute(execute, values)


def _update_with_history(report, milestone_id, base_version, event):
    """save_report_at_once's write: (id, version, state, plan id) of the report written, or
    None when the WHERE clause matched no row (nothing written)."""
    submit = report.state == State.SUBMITTED
    now, user_id, quarter = report.updated_at, report.updated_by.pk, report.quarter
    params = [
        *(report.status, report.percent, report.done_text, report.problems_text),
        *(user_id, now, submit, State.SUBMITTED, submit, now, submit),
        *(milestone_id, quarter, base_version, *ProgressReport.EDITABLE_STATES),
        *(milestone_id, quarter, quarter, user_id, milestone_id),
    ]
    recorded = [event, user_id, now, Channel.WEB]
    sql = _at_once_sql()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _execute_prepared(cursor, sql, [*params, *recorded])
            return cursor.fetchone()
        with transaction.atomic():
            cursor.execute(sql["update"], params)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(sql["insert"], [*recorded, row[0]])
            return row and row[:4]


def _locked_version(report_id: int, base_version: int) -> ProgressReport:
    report = ProgressReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ValidationError(_("报告已不存在,请刷新页面。"))
    if report.version != base_version:
        raise StaleEdit(report)
    return report


@transaction.atomic
def review_report(
    *,
    reviewer,
    report_id: int,
    base_version: int,
    approve: bool,
    comment: str,
    channel: str = Channel.WEB,
) -> ProgressReport:
    """A reviewer approves a submitted report, or returns it with a comment."""
    if not may_review(reviewer):
        raise PermissionDenied(_("您无权审核报告。"))
    report = _locked_version(report_id, base_version)
    comment = comment.strip()
    event = check_change(
        user=reviewer,
        milestone=report.milestone,
        current=report.state,
        author_id=report.updated_by_id,
        state=State.APPROVED if approve else State.RETURNED,
        content_changed=False,
        comment=comment,
        channel=channel,
    )
    now = clock.now()
    report.state = State.APPROVED if approve else State.RETURNED
    report.review_comment = comment
    report.version += 1
    report.save(update_fields=["state", "review_comment", "version"])
    _record(report, event, reviewer, now, comment, channel)
    signals.report_reviewed.send(
        ProgressReport, report=report, reviewer=reviewer, approved=approve, channel=channel
    )
    return report


def mark_opened(user, report: ProgressReport) -> None:
    """A reviewer has opened a submitted report: from now on the office cannot withdraw it.
    Not a version of the report (nothing in it changed)."""
    if report.state == State.SUBMITTED and report.opened_at is None and may_review(user):
        report.opened_at = clock.now()
        ProgressReport.objects.filter(
            pk=report.pk, state=State.SUBMITTED, opened_at=None, version=report.version
        ).update(opened_at=report.opened_at)


def may_withdraw(user, report: ProgressReport) -> bool:
    return (
        report.state == State.SUBMITTED
        and report.opened_at is None
        and may_write_report(user, report.milestone)
    )


@transaction.atomic
def withdraw_report(*, user, report_id: int, base_version: int) -> ProgressReport:
    """The office takes back (撤回) a submitted report no reviewer has opened yet; it becomes
    a draft again, with its text and files."""
    report = _locked_version(report_id, base_version)
    check_write(user, report.milestone)
    if report.state != State.SUBMITTED:
        raise ValidationError(_("只能撤回已提交、尚未审核的报告。"))
    if report.opened_at is not None:
        raise ValidationError(
            _("审核人已于%(time)s打开这份报告,不能再撤回。如需修改,请联系审核人退回。")
            % {"time": timezone.localtime(report.opened_at).strftime("%Y-%m-%d %H:%M")}
        )
    now = clock.now()
    report.state = State.DRAFT
    report.version += 1
    report.updated_by, report.updated_at = user, now
    report.save(update_fields=["state", "version", "updated_by", "updated_at"])
    _record(report, Event.WITHDRAWN, user, now)
    return report


@transaction.atomic
def remove_evidence(*, user, evidence_id: int, base_version: int) -> ProgressReport:
    """Takes a wrongly uploaded file off a draft (or returned) report: the report gets a new
    version, the file stays in the history (and on disk), marked with the version it was
    removed in."""
    evidence = Evidence.objects.filter(pk=evidence_id).only("report_id").first()
    if evidence is None:
        raise ValidationError(_("附件已不存在,请刷新页面。"))
    report = _locked_version(evidence.report_id, base_version)
    evidence = Evidence.objects.select_for_update().get(pk=evidence_id)
    check_change(
        user=user,
        milestone=report.milestone,
        current=report.state,
        author_id=report.updated_by_id,
        state=report.state,
        content_changed=True,
    )
    if evidence.removed_in is not None:
        raise ValidationError(_("该附件已删除。"))
    now = clock.now()
    report.version += 1
    report.updated_by, report.updated_at = user, now
    report.save(update_fields=["version", "updated_by", "updated_at"])
    evidence.removed_in = report.version
    evidence.save(update_fields=["removed_in"])
    _record(report, Event.FILE_REMOVED, user, now, comment=evidence.name)
    return report


# --- What is owed ------------------------------------------------------------------------


def done_in(milestone: Milestone, quarter: int, reports) -> int | None:
    """The quarter before `quarter` in which a report on `milestone` was approved 已完成, or
    None. `reports` are the milestone's reports (any quarters, any states)."""
    done = [
        r.quarter
        for r in reports
        if r.milestone_id == milestone.pk
        and r.quarter < quarter
        and r.state == State.APPROVED
        and r.status == ProgressReport.Status.DONE
    ]
    return min(done) if done else None


def owes_report(milestone: Milestone, quarter: int, reports) -> bool:
    """Whether the responsible office owes a report on `milestone` for `quarter`: the
    milestone is scheduled in that quarter and was not approved 已完成 in an earlier one (a
    第一--四季度 span done in the third quarter is not asked for in the fourth). The one rule
    the dashboards, the office's workspace and the reminders (send_reminders) share."""
    return quarter in milestone.quarters and done_in(milestone, quarter, reports) is None


# --- Reading: the office's workspace ----------------------------------------------------


@dataclass
class WorkRow:
    milestone: Milestone
    report: ProgressReport | None
    overdue: bool
    done_in: int | None = None  # approved 已完成 in this earlier quarter: nothing more is owed

    @property
    def state(self) -> str:
        """due (not reported yet), done_earlier, draft, submitted, returned or approved."""
        if self.report:
            return self.report.state
        return "done_earlier" if self.done_in else "due"

    @property
    def pending(self) -> bool:
        """Still owed by the office: not written, a draft, or returned; never a milestone
        already done in an earlier quarter (owes_report)."""
        return self.done_in is None and self.state in ("due", State.DRAFT, State.RETURNED)


@dataclass
class MeasureGroup:
    measure: object
    rows: list[WorkRow] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return any(row.overdue for row in self.rows)


def workspace(user, plan: Plan, quarter: int, today: datetime.date) -> list[MeasureGroup]:
    """The user's milestones due in `quarter`, grouped by measure, overdue groups and
    rows first. Three queries whatever the plan's size."""
    milestones = list(
        Milestone.objects.in_force()
        .scheduled_in(quarter)
        .filter(
            measure__work_area__plan=plan,
            measure__responsible_offices__in=office_ids(user),
        )
        .distinct()
        .select_related("measure__work_area")
        .order_by("measure__work_area__order", "measure__number", "order")
    )
    # By the milestones' ids, unordered: the model's ordering (milestone → measure → work
    # area) and the milestones as a subquery made a nine-table query that PostgreSQL took
    # longer to plan than to run, the longer the more plans there are.
    # This quarter's reports, and earlier ones approved 已完成 (owes_report), in one query.
    earlier_done = Q(quarter__lt=quarter, state=State.APPROVED, status=ProgressReport.Status.DONE)
    found = ProgressReport.objects.filter(
        Q(quarter=quarter) | earlier_done, milestone__in=milestones
    ).order_by()
    reports: dict[int, list[ProgressReport]] = {}
    for report in found:
        reports.setdefault(report.milestone_id, []).append(report)
    late = today > plan.report_due(quarter)
    groups: dict[int, MeasureGroup] = {}
    for milestone in milestones:
        mine = reports.get(milestone.pk, [])
        report = next((r for r in mine if r.quarter == quarter), None)
        row = WorkRow(milestone, report, overdue=False, done_in=done_in(milestone, quarter, mine))
        row.overdue = late and row.pending
        groups.setdefault(milestone.measure_id, MeasureGroup(milestone.measure)).rows.append(row)
    ordered = sorted(groups.values(), key=lambda group: not group.overdue)
    for group in ordered:
        group.rows.sort(key=lambda row: not row.overdue)
    return ordered


def pending_rows(groups: list[MeasureGroup]) -> list[WorkRow]:
    """What a reminder lists: milestones not submitted yet (none or a draft), or returned."""
    return [row for group in groups for row in group.rows if row.pending]


# --- Cooperating units' contributions ---------------------------------------------------


def contributing_units(user, milestone: Milestone) -> list:
    """The cooperating units through which `user` may contribute to `milestone`. Generic
    units (有关行业协会 …) stand for many bodies and hold no accounts."""
    if not user.is_authenticated or roles.UNIT not in roles_of(user):
        return []
    mine = office_ids(user)
    units = milestone.measure.cooperating_units.all()
    return [u for u in units if u.pk in mine and not u.generic]


def contributing_unit(user, milestone: Milestone):
    """The first of them (someone in two contributes as the first), or None."""
    return next(iter(contributing_units(user, milestone)), None)


def check_contribute(user, milestone: Milestone):
    unit = contributing_unit(user, milestone)
    if unit is None:
        raise PermissionDenied(_("您所在的单位不是该工作措施的配合单位。"))
    return unit


def may_change_contribution(user, contribution: Contribution) -> bool:
    """The unit's own people, while the unit cooperates on the measure."""
    units = contributing_units(user, contribution.milestone)
    return any(unit.pk == contribution.unit_id for unit in units)


def may_read_contribution(user, contribution: Contribution) -> bool:
    """The unit itself, the responsible office, reviewers, leaders and admins; never
    another cooperating unit."""
    if contribution.unit_id in office_ids(user) and roles.UNIT in roles_of(user):
        return True
    return may_read_report(user, contribution.milestone)


@transaction.atomic
def save_contribution(
    *,
    user,
    milestone: Milestone,
    quarter: int,
    base_version: int,
    text: str,
    figures: str,
    files: Iterable[UploadedFile] = (),
) -> Contribution:
    """A cooperating unit submits (or corrects) what it did for a milestone in a quarter.
    Closed once the responsible office's report for that quarter is approved. Each save is
    kept as a ContributionVersion (channel 网页), with the files it added."""
    unit = check_contribute(user, milestone)
    check_in_force(milestone)
    if quarter not in milestone.quarters:
        raise ValidationError(_("该进度节点在这个季度没有安排。"))
    check_contribution_open(milestone, quarter)
    if not text.strip():
        raise ValidationError({"text": _("请填写工作情况。")})
    now = clock.now()
    contribution = (
        Contribution.objects.select_for_update()
        .filter(milestone=milestone, quarter=quarter, unit=unit)
        .order_by("pk")  # lock the contribution only (see _locked_report)
        .first()
    )
    if contribution is None:
        if base_version != 0:
            raise ValidationError(_("配合情况已不存在,请刷新页面。"))
        contribution = Contribution(
            milestone=milestone, quarter=quarter, unit=unit, version=0, first_submitted_at=now
        )
    elif contribution.version != base_version:
        raise StaleEdit(contribution)
    files = list(files)
    check_file_count(contribution.files.all() if contribution.pk else None, len(files), "files")
    created = contribution.pk is None
    contribution.text, contribution.figures = text.strip(), figures.strip()
    contribution.submitted_by, contribution.updated_at = user, now
    contribution.version += 1
    try:
        with transaction.atomic():
            contribution.save()
    except IntegrityError:
        raise StaleEdit(
            Contribution.objects.get(milestone=milestone, quarter=quarter, unit=unit)
        ) from None
    _record_contribution(contribution, user, now)
    for upload in files:
        ContributionFile.objects.create(
            contribution=contribution,
            file=upload,
            name=StoredFile.stored_name(upload.name),
            size=upload.size,
            uploaded_by=user,
            uploaded_at=now,
            version=contribution.version,
        )
    signals.contribution_saved.send(
        Contribution, contribution=contribution, user=user, created=created
    )
    return contribution


def _record_contribution(contribution: Contribution, user, at, removed_file: str = ""):
    """The contribution as this step leaves it, kept as a ContributionVersion (channel 网页)."""
    return ContributionVersion.objects.create(
        contribution=contribution,
        version=contribution.version,
        by=user,
        at=at,
        text=contribution.text,
        figures=contribution.figures,
        channel=Channel.WEB,
        removed_file=removed_file,
    )


def check_contribution_open(milestone: Milestone, quarter: int) -> None:
    """A contribution is closed once the responsible office's report for its quarter is
    approved."""
    if ProgressReport.objects.approved().filter(milestone=milestone, quarter=quarter).exists():
        raise ValidationError(_("责任处室本季度的报告已审核通过,不能再修改配合情况。"))


@transaction.atomic
def remove_contribution_file(*, user, file_id: int, base_version: int) -> Contribution:
    """Takes a wrongly uploaded file off the unit's contribution while it is open: a new
    version (text and figures unchanged) names the file removed; the file stays in the
    history (and on disk), marked with that version."""
    stored = ContributionFile.objects.filter(pk=file_id).only("contribution_id").first()
    if stored is None:
        raise ValidationError(_("附件已不存在,请刷新页面。"))
    contribution = (
        Contribution.objects.select_for_update(of=("self",))  # not the milestone's row
        .select_related("milestone")
        .get(pk=stored.contribution_id)
    )
    milestone = contribution.milestone
    if not may_change_contribution(user, contribution):
        raise PermissionDenied(_("只有本单位人员可以修改本单位的配合情况。"))
    if contribution.version != base_version:
        raise StaleEdit(contribution)
    check_in_force(milestone)
    check_contribution_open(milestone, contribution.quarter)
    stored = ContributionFile.objects.select_for_update().get(pk=file_id)
    if stored.removed_in is not None:
        raise ValidationError(_("该附件已删除。"))
    now = clock.now()
    contribution.version += 1
    contribution.submitted_by, contribution.updated_at = user, now
    contribution.save(update_fields=["version", "submitted_by", "updated_at"])
    _record_contribution(contribution, user, now, removed_file=stored.name)
    stored.removed_in = contribution.version
    stored.save(update_fields=["removed_in"])
    return contribution


@dataclass
class UnitRow:
    milestone: Milestone
    contribution: Contribution | None
    approved: bool  # the office's report is approved: the contribution is closed
    late: bool


def unit_workspace(user, plan: Plan, quarter: int, today: datetime.date) -> list[UnitRow]:
    """The milestones of `quarter` whose measures name one of the user's units as
    cooperating, with the unit's contribution. Three queries."""
    units = office_ids(user)
    milestones = list(
        Milestone.objects.in_force()
        .scheduled_in(quarter)
        .filter(measure__work_area__plan=plan, measure__cooperating_units__in=units)
        .distinct()
        .select_related("measure__work_area")
        .order_by("measure__work_area__order", "measure__number", "order")
    )
    mine = {
        c.milestone_id: c
        for c in Contribution.objects.filter(
            milestone__in=milestones, quarter=quarter, unit__in=units
        ).order_by()  # unordered: see workspace()
    }
    approved = set(
        ProgressReport.objects.approved()
        .filter(milestone__in=milestones, quarter=quarter)
        .order_by()
        .values_list("milestone_id", flat=True)
    )
    late = today > plan.report_due(quarter)
    return [
        UnitRow(m, mine.get(m.pk), m.pk in approved, late and m.pk not in mine) for m in milestones
    ]
