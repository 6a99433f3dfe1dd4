"""Cooperating units (配合单位) contribute to the milestones of measures that name them."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from departments import roles
from plan.models import QUARTER_CHOICES, Plan

from . import services
from .forms import ContributionForm
from .models import Contribution, ContributionFile, ProgressReport
from .views import _milestone, _plan_and_quarter, serve_file


def _check_unit_role(user) -> None:
    if roles.UNIT not in roles.roles_of(user):
        raise PermissionDenied(_("只有配合单位人员可以填报配合情况。"))


@require_GET
def unit_work(request: HttpRequest) -> HttpResponse:
    _check_unit_role(request.user)
    plan, quarter = _plan_and_quarter(request)
    return render(
        request,
        "tasks/unit_work.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "rows": services.unit_workspace(request.user, plan, quarter, timezone.localdate()),
            "due_date": plan.report_due(quarter),
        },
    )


@require_http_methods(["GET", "POST"])
def contribution_edit(request: HttpRequest, milestone_id: int, quarter: int) -> HttpResponse:
    milestone = _milestone(milestone_id, cooperating=True)
    unit = services.check_contribute(request.user, milestone)
    if quarter not in milestone.quarters:
        raise PermissionDenied(_("该进度节点在这个季度没有安排。"))
    contribution = Contribution.objects.filter(
        milestone=milestone, quarter=quarter, unit=unit
    ).first()
    closed = ProgressReport.objects.filter(
        milestone=milestone, quarter=quarter, state=ProgressReport.State.APPROVED
    ).exists()
    newer = None
    if request.method == "POST" and not closed:
        form = ContributionForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.save_contribution(
                    user=request.user,
                    milestone=milestone,
                    quarter=quarter,
                    base_version=data["version"],
                    text=data["text"],
                    figures=data["figures"],
                    files=data["files"],
                )
            except services.StaleEdit as stale:
                contribution = newer = stale.report
                messages.error(
                    request,
                    _("保存未成功:%(user)s 刚修改了本单位的配合情况,请核对最新内容后重新保存。")
                    % {"user": contribution.submitted_by},
                )
                form = ContributionForm({**request.POST.dict(), "version": contribution.version})
                form.is_valid()
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("配合情况已提交,责任处室可以看到。"))
                plan_id = milestone.measure.work_area.plan_id
                return redirect(f"{reverse('unit-work')}?plan={plan_id}&quarter={quarter}")
    else:
        initial = {"version": 0}
        if contribution:
            initial = {
                "version": contribution.version,
                "text": contribution.text,
                "figures": contribution.figures,
            }
        form = ContributionForm(initial=initial)
    return render(
        request,
        "tasks/contribution_form.html",
        {
            "milestone": milestone,
            "quarter": quarter,
            "quarter_label": dict(QUARTER_CHOICES)[quarter],
            "unit": unit,
            "contribution": contribution,
            "newer": newer,
            "closed": closed,
            "files": contribution.files.all() if contribution else [],
            "form": form,
            "max_bytes": settings.EVIDENCE_MAX_BYTES,
        },
    )


@require_GET
def contribution_file(request: HttpRequest, pk: int) -> FileResponse:
    stored = get_object_or_404(
        ContributionFile.objects.select_related("contribution__milestone__measure"), pk=pk
    )
    if not services.may_read_contribution(request.user, stored.contribution):
        raise Http404(_("没有找到该文件。"))  # 404, not 403: ids do not tell what exists
    return serve_file(stored)
