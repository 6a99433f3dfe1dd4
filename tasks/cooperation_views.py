"""Cooperating units (配合单位) contribute to the milestones of measures that name them."""

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from plan.models import QUARTER_CHOICES, Plan
from plantracker import clock

from . import editing, permissions, services
from .forms import ContributionForm
from .models import Contribution, history_lookups
from .views import _plan_and_quarter, newer_summary, serve_file


@require_GET
def unit_work(request: HttpRequest) -> HttpResponse:
    permissions.check_unit_role(request.user)
    plan, quarter = _plan_and_quarter(request)
    return render(
        request,
        "tasks/unit_work.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "rows": services.unit_workspace(request.user, plan, quarter, clock.today()),
            "due_date": plan.report_due(quarter),
        },
    )


@require_http_methods(["GET", "POST"])
def contribution_edit(request: HttpRequest, milestone_id: int, quarter: int) -> HttpResponse:
    slot = permissions.contribution_for_write(request.user, milestone_id, quarter)
    milestone, contribution = slot.milestone, slot.contribution

    def save(data):
        services.save_contribution(
            user=request.user,
            milestone=milestone,
            quarter=quarter,
            base_version=data["version"],
            text=data["text"],
            figures=data["figures"],
            files=data["files"],
        )
        plan_id = milestone.measure.work_area.plan_id
        url = f"{reverse('unit-work')}?plan={plan_id}&quarter={quarter}"
        return editing.saved(request, _("配合情况已提交,责任处室可以看到。"), url)

    initial = {"version": 0}
    if contribution:
        initial = {f: getattr(contribution, f) for f in ("version", "text", "figures")}
    return editing.Edit(
        ContributionForm,
        "files",
        "tasks/contribution_form.html",
        initial,
        save,
        _stale_message,
        lambda newer: _context(slot, newer),
    ).run(request, post=request.method == "POST" and not slot.closed)


def _context(slot: permissions.ContributionSlot, newer: Contribution | None) -> dict:
    shown = newer or slot.contribution
    if shown:
        prefetch_related_objects([shown], *history_lookups())
    return {
        "milestone": slot.milestone,
        "quarter": slot.quarter,
        "quarter_label": dict(QUARTER_CHOICES)[slot.quarter],
        "unit": slot.unit,
        "contribution": shown,
        "closed": slot.closed,
        "files": shown.current_files() if shown else [],
        "history": shown.history() if shown else [],
        "max_bytes": settings.EVIDENCE_MAX_BYTES,
        "max_files": services.max_files(),
    }


def _stale_message(newer: Contribution) -> str:
    return _(
        "保存未成功:%(user)s 刚修改了本单位的配合情况(%(time)s,第%(version)s版),"
        "请核对最新内容后重新保存。您填写的内容仍保留在表单中(选择的附件已暂存,保存时一并上传)。"
    ) % newer_summary(newer)


@require_GET
def contribution_file(request: HttpRequest, pk: int) -> FileResponse:
    return serve_file(permissions.contribution_file_for_read(request.user, pk))


@require_POST
def contribution_file_remove(request: HttpRequest, pk: int) -> HttpResponse:
    stored = permissions.contribution_file_for_write(request.user, pk)
    contribution = stored.contribution
    return editing.version_action(
        request,
        lambda version: services.remove_contribution_file(
            user=request.user, file_id=stored.pk, base_version=version
        ),
        _("附件“%(name)s”已从配合情况中删除(修改记录中仍可查看)。") % {"name": stored},
        _stale_message,
        reverse("contribution-edit", args=[contribution.milestone_id, contribution.quarter]),
    )
