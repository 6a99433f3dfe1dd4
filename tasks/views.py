from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from plan.models import QUARTER_CHOICES, Milestone, Plan

from . import offline, services
from .forms import QuarterForm, ReportForm, ReviewForm
from .models import Contribution, Evidence, ProgressReport


def _plan_and_quarter(request: HttpRequest) -> tuple[Plan, int]:
    """The plan (?plan=, else the newest) and reporting quarter (?quarter=, else the
    plan's default) a page shows."""
    plan = Plan.objects.picked(request.GET.get("plan"))
    if plan is None:
        raise PermissionDenied(_("系统中还没有推进计划。"))
    form = QuarterForm(request.GET)
    quarter = form.cleaned_data.get("quarter") if form.is_valid() else None
    return plan, quarter or plan.default_quarter(timezone.localdate())


def _milestone(pk: int, *, cooperating: bool = False) -> Milestone:
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


@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    plan, quarter = _plan_and_quarter(request)
    groups = services.workspace(request.user, plan, quarter, timezone.localdate())
    return render(
        request,
        "tasks/my_work.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "groups": groups,
            "pending": services.pending_rows(groups),
            "due_date": plan.report_due(quarter),
            "has_offices": bool(services.office_ids(request.user)),
        },
    )


@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, milestone_id: int, quarter: int) -> HttpResponse:
    milestone = _milestone(milestone_id)
    services.check_write(request.user, milestone)
    if quarter not in milestone.quarters:
        raise PermissionDenied(_("该进度节点在这个季度没有安排。"))
    report = None  # read below unless a save succeeds (it reads and locks the report itself)
    newer = None
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.save_report(
                    user=request.user,
                    milestone=milestone,
                    quarter=quarter,
                    base_version=data["version"],
                    status=data["status"],
                    percent=data["percent"],
                    done_text=data["done_text"],
                    problems_text=data["problems_text"],
                    submit="submit" in request.POST,
                    files=data["evidence"],
                )
            except services.StaleEdit as stale:
                newer = stale.report
                messages.error(request, stale_message(newer))
                form = ReportForm({**request.POST.dict(), "version": newer.version})
                form.is_valid()
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if report.state == ProgressReport.State.SUBMITTED:
                    messages.success(request, _("报告已提交,等待审核。"))
                else:
                    messages.success(request, _("草稿已保存。"))
                return redirect(_work_url(milestone, quarter))
        report = ProgressReport.objects.filter(milestone=milestone, quarter=quarter).first()
    else:
        report = ProgressReport.objects.filter(milestone=milestone, quarter=quarter).first()
        initial = {"version": 0, "status": ProgressReport.Status.IN_PROGRESS, "percent": 0}
        if report:
            initial = {
                "version": report.version,
                "status": report.status,
                "percent": report.percent,
                "done_text": report.done_text,
                "problems_text": report.problems_text,
            }
        form = ReportForm(initial=initial)
    return render(
        request,
        "tasks/report_form.html",
        {
            "milestone": milestone,
            "quarter": quarter,
            "quarter_label": dict(QUARTER_CHOICES)[quarter],
            "report": report,
            "newer": newer,
            "form": form,
            "evidence": report.evidence.all() if report else [],
            "contributions": _contributions(milestone, quarter),
            "max_bytes": settings.EVIDENCE_MAX_BYTES,
        },
    )


def _contributions(milestone: Milestone, quarter: int):
    """The cooperating units' contributions, shown beside the office's report."""
    return (
        Contribution.objects.filter(milestone=milestone, quarter=quarter)
        .select_related("unit", "submitted_by")
        .prefetch_related("files")
    )


def stale_message(newer: ProgressReport) -> str:
    """Why a save was refused: who changed the report since the form was loaded, and what
    becomes of the user's text."""
    last = newer.versions.select_related("by").order_by("-version").first()
    who = {
        "user": last.by if last else newer.updated_by,
        "time": timezone.localtime(last.at if last else newer.updated_at).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "version": newer.version,
    }
    if newer.editable:
        return (
            _(
                "保存未成功:%(user)s 已于 %(time)s 修改了这份报告(第%(version)s版)。下方是最新内容,"
                "您填写的内容仍保留在表单中(附件需重新选择),请核对后重新保存。"
            )
            % who
        )
    return _(
        "保存未成功:%(user)s 已于 %(time)s 将这份报告改为“%(state)s”(第%(version)s版),"
        "不能再修改。您填写的内容没有保存,显示在下方,请复制保留。"
    ) % {**who, "state": newer.get_state_display()}


def _work_url(milestone: Milestone, quarter: int) -> str:
    plan_id = milestone.measure.work_area.plan_id
    return f"{reverse('my-work')}?plan={plan_id}&quarter={quarter}"


@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(ProgressReport.objects.select_related("updated_by"), pk=pk)
    milestone = _milestone(report.milestone_id)
    _check_read_or_404(request.user, milestone)
    evidence = list(report.evidence.select_related("uploaded_by"))
    versions = list(report.versions.select_related("by"))
    for previous, version in zip([None, *versions], versions, strict=False):
        version.changes = version.changes_since(previous)
        version.files = [item for item in evidence if item.version == version.version]
    return render(
        request,
        "tasks/report_detail.html",
        {
            "report": report,
            "milestone": milestone,
            "versions": versions,
            "evidence": evidence,
            "contributions": _contributions(milestone, report.quarter),
            "may_write": services.may_write_report(request.user, milestone) and report.editable,
            "review_form": ReviewForm(initial={"version": report.version})
            if services.may_review(request.user) and report.state == report.State.SUBMITTED
            else None,
        },
    )


@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.may_review(request.user):
        raise PermissionDenied(_("您无权审核报告。"))
    report = get_object_or_404(ProgressReport, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("审核表单有误,请刷新页面后重试。"))
        return redirect("report-detail", pk=pk)
    try:
        services.review_report(
            reviewer=request.user,
            report_id=report.pk,
            base_version=form.cleaned_data["version"],
            approve="approve" in request.POST,
            comment=form.cleaned_data["comment"],
        )
    except services.StaleEdit as stale:
        messages.error(
            request,
            _("审核未成功:报告已被修改为第%(version)s版,请查看最新内容后再审核。")
            % {"version": stale.report.version},
        )
        return redirect("report-detail", pk=pk)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("report-detail", pk=pk)
    messages.success(request, _("审核结果已保存。"))
    return redirect("review-queue")


REVIEW_PAGE_SIZE = 50


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    if not services.may_review(request.user):
        raise PermissionDenied(_("您无权审核报告。"))
    plan, _quarter = _plan_and_quarter(request)
    reports = (
        ProgressReport.objects.filter(
            state=ProgressReport.State.SUBMITTED, milestone__measure__work_area__plan=plan
        )
        .select_related("milestone__measure", "updated_by")
        .order_by("updated_at", "pk")
    )
    page = Paginator(reports, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tasks/review_queue.html",
        {"plan": plan, "plans": Plan.objects.menu(), "page": page, "reports": page.object_list},
    )


@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(Evidence.objects.select_related("report"), pk=pk)
    _check_read_or_404(request.user, _milestone(evidence.report.milestone_id))
    return serve_file(evidence)


def _check_read_or_404(user, milestone: Milestone) -> None:
    """A report or file the user may not read is, for him, one that does not exist: 404,
    so that ids do not tell which reports exist (403 would)."""
    if not services.may_read_report(user, milestone):
        raise Http404(_("没有找到该报告。"))


def serve_file(stored) -> FileResponse:
    """A stored file as a download under the name checked again (StoredFile.download_name),
    its type from that name, never sniffed by the browser."""
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.download_name(),
        content_type=stored.content_type(),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Offline progress templates (tasks.offline) -----------------------------------------


@require_GET
def offline_download(request: HttpRequest) -> HttpResponse:
    offline.check_user(request.user)
    plan, quarter = _plan_and_quarter(request)
    return offline.download(request.user, plan, quarter)


@require_http_methods(["GET", "POST"])
def offline_upload(request: HttpRequest) -> HttpResponse:
    offline.check_user(request.user)
    plan, quarter = _plan_and_quarter(request)
    errors = []
    posted = request.method == "POST"
    form = offline.UploadForm(*((request.POST, request.FILES) if posted else ()))
    if posted and form.is_valid():
        try:
            result = offline.upload(request.user, plan, quarter, form.cleaned_data["file"])
        except offline.ImportFailed as failed:
            errors = failed.messages
        else:
            messages.success(request, result.summary())
            return redirect(f"{reverse('my-work')}?plan={plan.pk}&quarter={quarter}")
    return render(
        request,
        "tasks/offline_upload.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "form": form,
            "errors": errors,
            "max_bytes": settings.IMPORT_MAX_BYTES,
        },
    )
