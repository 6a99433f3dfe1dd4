"""Business rules for quarterly reports: who may do what, and every change of state.

Views call these functions and nothing else writes a report. Each write runs in one
transaction, locks the report row, checks the version the user saw (stale edits are
refused) and records a ReportVersion, so the history holds every step."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments import roles
from departments.roles import roles_of
from plan.models import Milestone, Plan

from .models import Contribution, ContributionFile, Evidence, ProgressReport, ReportVersion

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


def check_read(user, milestone: Milestone) -> None:
    if not may_read_report(user, milestone):
        raise PermissionDenied(_("您无权查看该报告。"))


# --- Writing reports --------------------------------------------------------------------


def _record(report: ProgressReport, event: str, user, at, comment: str = "") -> ReportVersion:
    return ReportVersion.objects.create(
        report=report,
        version=report.version,
        event=event,
        by=user,
        at=at,
        comment=comment,
        **report.snapshot(),
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
    event: str | None = None,
) -> ProgressReport:
    """Saves the office's report as a draft, or submits it. `base_version` is the version
    the user's form was built from (0 for a report not yet written)."""
    check_write(user, milestone)
    check_in_force(milestone)
    now = timezone.now()
    report = _locked_report(milestone, quarter)
    if report is None:
        if base_version != 0:
            raise ValidationError(_("报告已不存在,请刷新页面。"))
        report = ProgressReport(milestone=milestone, quarter=quarter, version=0)
    elif report.version != base_version:
        raise StaleEdit(report)
    elif not report.editable:
        raise ValidationError(
            _("该报告当前状态为“%(state)s”,不能修改。") % {"state": report.get_state_display()}
        )
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
    # The milestone and the user are rows this request has just read: no need to ask the
    # database whether they exist (a query each); the foreign keys guard them anyway.
    report.full_clean(
        exclude=["milestone", "updated_by"], validate_unique=False, validate_constraints=False
    )
    if report.pk is not None:
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
            name=upload.name[:200],
            size=upload.size,
            uploaded_by=user,
            uploaded_at=now,
            version=report.version,
        )
    if event is None:
        event = ReportVersion.Event.SUBMITTED if submit else ReportVersion.Event.SAVED
    _record(report, event, user, now)
    return report


@transaction.atomic
def review_report(
    *, reviewer, report_id: int, base_version: int, approve: bool, comment: str
) -> ProgressReport:
    """A reviewer approves a submitted report, or returns it with a comment."""
    if not may_review(reviewer):
        raise PermissionDenied(_("您无权审核报告。"))
    report = ProgressReport.objects.select_for_update().get(pk=report_id)
    if report.version != base_version:
        raise StaleEdit(report)
    if report.state != State.SUBMITTED:
        raise ValidationError(_("只能审核已提交的报告。"))
    if report.updated_by_id == reviewer.pk:
        raise ValidationError(_("不能审核自己提交的报告。"))
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("退回时请填写审核意见。")})
    now = timezone.now()
    report.state = State.APPROVED if approve else State.RETURNED
    report.review_comment = comment
    report.version += 1
    report.save(update_fields=["state", "review_comment", "version"])
    event = ReportVersion.Event.APPROVED if approve else ReportVersion.Event.RETURNED
    _record(report, event, reviewer, now, comment)
    return report


# --- Reading: the office's workspace ----------------------------------------------------


@dataclass
class WorkRow:
    milestone: Milestone
    report: ProgressReport | None
    overdue: bool

    @property
    def state(self) -> str:
        """due (not reported yet), draft, submitted, returned or approved."""
        return self.report.state if self.report else "due"

    @property
    def pending(self) -> bool:
        """Still owed by the office: not written, a draft, or returned."""
        return self.state in ("due", State.DRAFT, State.RETURNED)


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
    reports = {
        report.milestone_id: report
        for report in ProgressReport.objects.filter(
            milestone__in=milestones, quarter=quarter
        ).order_by()
    }
    late = today > plan.report_due(quarter)
    groups: dict[int, MeasureGroup] = {}
    for milestone in milestones:
        report = reports.get(milestone.pk)
        row = WorkRow(milestone, report, overdue=False)
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


def contributing_unit(user, milestone: Milestone):
    """The cooperating unit through which `user` may contribute to `milestone`, or None.
    Generic units (有关行业协会 …) stand for many bodies and hold no accounts."""
    if not user.is_authenticated or roles.UNIT not in roles_of(user):
        return None
    mine = office_ids(user)
    units = milestone.measure.cooperating_units.all()
    return next((u for u in units if u.pk in mine and not u.generic), None)


def check_contribute(user, milestone: Milestone):
    unit = contributing_unit(user, milestone)
    if unit is None:
        raise PermissionDenied(_("您所在的单位不是该工作措施的配合单位。"))
    return unit


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
    Closed once the responsible office's report for that quarter is approved."""
    unit = check_contribute(user, milestone)
    check_in_force(milestone)
    if quarter not in milestone.quarters:
        raise ValidationError(_("该进度节点在这个季度没有安排。"))
    if ProgressReport.objects.filter(
        milestone=milestone, quarter=quarter, state=State.APPROVED
    ).exists():
        raise ValidationError(_("责任处室本季度的报告已审核通过,不能再修改配合情况。"))
    if not text.strip():
        raise ValidationError({"text": _("请填写工作情况。")})
    now = timezone.now()
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
    for upload in files:
        ContributionFile.objects.create(
            contribution=contribution,
            file=upload,
            name=upload.name[:200],
            size=upload.size,
            uploaded_by=user,
            uploaded_at=now,
        )
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
        ProgressReport.objects.filter(
            milestone__in=milestones, quarter=quarter, state=State.APPROVED
        )
        .order_by()
        .values_list("milestone_id", flat=True)
    )
    late = today > plan.report_due(quarter)
    return [
        UnitRow(m, mine.get(m.pk), m.pk in approved, late and m.pk not in mine) for m in milestones
    ]
