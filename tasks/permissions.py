"""Fetch-and-check: each helper loads what a view or command is about to read or write and
refuses (PermissionDenied, or 404 for what does not exist) in the same step, so that no
caller loads an object and forgets the check. The rules themselves live in tasks.services."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from departments import roles
from plan.models import Milestone

from . import services
from .models import Contribution, ContributionFile, Evidence, ProgressReport


def milestone(pk: int, *, cooperating: bool = False) -> Milestone:
    """The milestone with its measure and work area (one query; the plan is known by
    work_area.plan_id) and the measure's responsible offices (one more); its cooperating
    units too when asked (one more)."""
    related = ["measure__responsible_offices"]
    if cooperating:
        related.append("measure__cooperating_units")
    return get_object_or_404(
        Milestone.objects.select_related("measure__work_area").prefetch_related(*related),
        pk=pk,
    )


def _scheduled(found: Milestone, quarter: int) -> None:
    if quarter not in found.quarters:
        raise PermissionDenied(_("该进度节点在这个季度没有安排。"))


@dataclass
class ReportSlot:
    """A milestone's quarter the user may write, and its report if there is one yet."""

    milestone: Milestone
    quarter: int
    report: ProgressReport | None


def report_for_write(user, milestone_id: int, quarter: int) -> ReportSlot:
    """The slot, its report read with the milestone, measure and work area in one query
    when there is a report (the milestone alone otherwise), then the responsible offices."""
    report = (
        ProgressReport.objects.select_related("milestone__measure__work_area")
        .filter(milestone_id=milestone_id, quarter=quarter)
        .order_by("pk")
        .first()
    )
    if report is not None:
        found = report.milestone
        prefetch_related_objects([found], "measure__responsible_offices")
    else:
        found = milestone(milestone_id)
    services.check_write(user, found)
    _scheduled(found, quarter)
    return ReportSlot(found, quarter, report)


def _readable_or_404(user, found: Milestone) -> None:
    """A report or file the user may not read is, for them, one that does not exist: 404,
    so that ids do not tell which reports exist (403 would)."""
    if not services.may_read_report(user, found):
        raise Http404(_("没有找到该报告。"))


def report_for_read(user, pk: int) -> ProgressReport:
    report = get_object_or_404(ProgressReport.objects.select_related("updated_by"), pk=pk)
    report.milestone = milestone(report.milestone_id)
    _readable_or_404(user, report.milestone)
    return report


def report_for_review(user, pk: int) -> ProgressReport:
    if not services.may_review(user):
        raise PermissionDenied(_("您无权审核报告。"))
    return report_for_read(user, pk)


def report_for_withdraw(user, pk: int) -> ProgressReport:
    report = get_object_or_404(ProgressReport, pk=pk)
    report.milestone = milestone(report.milestone_id)
    services.check_write(user, report.milestone)
    return report


def evidence_for_read(user, pk: int) -> Evidence:
    evidence = get_object_or_404(Evidence.objects.select_related("report"), pk=pk)
    _readable_or_404(user, milestone(evidence.report.milestone_id))
    return evidence


def evidence_for_write(user, pk: int) -> Evidence:
    evidence = get_object_or_404(Evidence.objects.select_related("report"), pk=pk)
    evidence.report.milestone = milestone(evidence.report.milestone_id)
    services.check_write(user, evidence.report.milestone)
    return evidence


@dataclass
class ContributionSlot:
    milestone: Milestone
    quarter: int
    unit: object
    contribution: Contribution | None
    closed: bool  # the office's report is approved: the contribution may not change


def check_unit_role(user) -> None:
    if roles.UNIT not in roles.roles_of(user):
        raise PermissionDenied(_("只有配合单位人员可以填报配合情况。"))


def contribution_for_write(user, milestone_id: int, quarter: int) -> ContributionSlot:
    found = milestone(milestone_id, cooperating=True)
    unit = services.check_contribute(user, found)
    _scheduled(found, quarter)
    contribution = Contribution.objects.filter(milestone=found, quarter=quarter, unit=unit).first()
    closed = ProgressReport.objects.approved().filter(milestone=found, quarter=quarter).exists()
    return ContributionSlot(found, quarter, unit, contribution, closed)


def contribution_file_for_read(user, pk: int) -> ContributionFile:
    stored = get_object_or_404(
        ContributionFile.objects.select_related("contribution__milestone__measure"), pk=pk
    )
    if not services.may_read_contribution(user, stored.contribution):
        raise Http404(_("没有找到该文件。"))  # 404, not 403: ids do not tell what exists
    return stored


def contribution_file_for_write(user, pk: int) -> ContributionFile:
    """A file of the user's own unit's contribution (404 for one they may not read, 403 for
    one they may read but not change: the office's staff, reviewers)."""
    stored = contribution_file_for_read(user, pk)
    if not services.may_change_contribution(user, stored.contribution):
        raise PermissionDenied(_("只有本单位人员可以修改本单位的配合情况。"))
    return stored
