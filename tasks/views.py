from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.people import display_name
from plan.models import QUARTER_CHOICES, Milestone, Plan
from plantracker import clock

from . import editing, offline, permissions, services
from .forms import QuarterForm, ReportForm, ReviewForm
from .models import Contribution, ProgressReport


def _plan_and_quarter(request: HttpRequest) -> tuple[Plan, int]:
    """The plan (?plan=, else the newest) and reporting quarter (?quarter=, else the
    plan's default) a page shows."""
    plan = Plan.objects.picked(request.GET.get("plan"), clock.today())
    if plan is None:
        raise PermissionDenied(_("系统中还没有推进计划。"))
    form = QuarterForm(request.GET)
    quarter = form.cleaned_data.get("quarter") if form.is_valid() else None
    return plan, quarter or plan.default_quarter(clock.today())


@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    plan, quarter = _plan_and_quarter(request)
    groups = services.workspace(request.user, plan, quarter, clock.today())
    return render(
        request,
        "tasks/my_work.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "groups": groups,
            "pending": services.pending_rows(groups),
            "due_date": plan.report_due(quarter),
            "has_offices": bool(services.office_ids(request.user)),
        },
    )


def _report_initial(report: ProgressReport | None) -> dict:
    if report is None:
        return {"version": 0, "status": ProgressReport.Status.IN_PROGRESS, "percent": 0}
    fields = ("version", "status", "percent", "done_text", "problems_text")
    return {name: getattr(report, name) for name in fields}


def _report_saved(request: HttpRequest, report: ProgressReport, plan_id: int) -> HttpResponse:
    submitted = report.state == ProgressReport.State.SUBMITTED
    done = _("报告已提交,等待审核。") if submitted else _("草稿已保存。")
    return editing.saved(request, done, _work_url(plan_id, report.quarter))


def _save_at_once(request: HttpRequest, milestone_id: int, quarter: int) -> HttpResponse | None:
    """The common save (a report that exists, no file, nothing held from a refused save) in
    one statement (services.save_report_at_once); None for save_report's way."""
    if request.FILES or request.POST.getlist("held"):
        return None
    form = ReportForm(request.POST)
    if not form.is_valid():
        return None
    report = services.save_report_at_once(
        user=request.user,
        milestone_id=milestone_id,
        quarter=quarter,
        base_version=form.cleaned_data["version"],
        **{name: form.cleaned_data[name] for name in services.CONTENT_FIELDS},
        submit="submit" in request.POST,
    )
    return report and _report_saved(request, report, report.plan_id)


@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, milestone_id: int, quarter: int) -> HttpResponse:
    if request.method == "POST":
        saved = _save_at_once(request, milestone_id, quarter)
        if saved is not None:
            return saved
    slot = permissions.report_for_write(request.user, milestone_id, quarter)
    milestone = slot.milestone

    def save(data):
        report = services.save_report(
            user=request.user,
            milestone=milestone,
            quarter=quarter,
            base_version=data["version"],
            **{name: data[name] for name in services.CONTENT_FIELDS},
            submit="submit" in request.POST,
            files=data["evidence"],
            known=slot.report,  # read by report_for_write: the write is optimistic
        )
        return _report_saved(request, report, milestone.measure.work_area.plan_id)

    return editing.Edit(
        ReportForm,
        "evidence",
        "tasks/report_form.html",
        _report_initial(slot.report),
        save,
        stale_message,
        lambda newer: _report_context(request, slot, newer),
    ).run(request, post=request.method == "POST")


def _report_context(request: HttpRequest, slot: permissions.ReportSlot, newer) -> dict:
    report = newer or slot.report
    return {
        "milestone": slot.milestone,
        "quarter": slot.quarter,
        "quarter_label": dict(QUARTER_CHOICES)[slot.quarter],
        "report": report,
        "evidence": report.evidence.filter(removed_in=None) if report else [],
        "may_withdraw": report is not None and services.may_withdraw(request.user, report),
        "contributions": _contributions(slot.milestone, slot.quarter),
        "max_bytes": settings.EVIDENCE_MAX_BYTES,
        "max_files": services.max_files(),
    }


def _contributions(milestone: Milestone, quarter: int):
    """The cooperating units' contributions, shown beside the office's report."""
    return (
        Contribution.objects.filter(milestone=milestone, quarter=quarter)
        .select_related("unit", "submitted_by")
        .with_history()
    )


def newer_summary(newer) -> dict:
    """Who changed a report (or contribution) last, and when: for stale messages."""
    versions = getattr(newer, "versions", None)
    last = (
        versions.select_related("by")
        .prefetch_related("by__departments")
        .order_by("-version")
        .first()
        if versions
        else None
    )
    by = last.by if last else getattr(newer, "updated_by", None) or newer.submitted_by
    at = last.at if last else newer.updated_at
    return {
        "by": by,
        "user": display_name(by),
        "time": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
        "version": newer.version,
    }


def stale_message(newer: ProgressReport) -> str:
    """Why a save was refused: who changed the report since the form was loaded, and what
    becomes of the user's text."""
    who = newer_summary(newer)
    newer.last_by = who["by"]  # a reviewer's version names the reviewer
    if newer.editable:
        return (
            _(
                "保存未成功:%(user)s 已于 %(time)s 修改了这份报告(第%(version)s版)。下方是最新内容,"
                "您填写的内容仍保留在表单中(选择的附件已暂存,保存时一并上传),请核对后重新保存。"
            )
            % who
        )
    return _(
        "保存未成功:%(user)s 已于 %(time)s 将这份报告改为“%(state)s”(第%(version)s版),"
        "不能再修改。您填写的内容没有保存,显示在下方,请复制保留。"
    ) % {**who, "state": newer.get_state_display()}


def _work_url(plan_id: int, quarter: int) -> str:
    return f"{reverse('my-work')}?plan={plan_id}&quarter={quarter}"


def _detail(request: HttpRequest, report: ProgressReport, review_form=None, status=200):
    """The report, its history and (for a reviewer of a submitted report) the review form,
    bound to what the reviewer typed when a review was refused."""
    milestone = report.milestone
    evidence = list(report.evidence.select_related("uploaded_by"))
    versions = list(report.versions.select_related("by").prefetch_related("by__departments"))
    for previous, version in zip([None, *versions], versions, strict=False):
        version.changes = version.changes_since(previous)
        version.files = [item for item in evidence if item.version == version.version]
    reviewing = services.may_review(request.user) and report.state == report.State.SUBMITTED
    if reviewing and review_form is None:
        review_form = ReviewForm(initial={"version": report.version})
    context = {
        "report": report,
        "milestone": milestone,
        "versions": versions,
        "evidence": [item for item in evidence if item.removed_in is None],
        "contributions": _contributions(milestone, report.quarter),
        "may_write": services.may_write_report(request.user, milestone) and report.editable,
        "may_withdraw": services.may_withdraw(request.user, report),
        "review_form": review_form if reviewing else None,
        "unsent_comment": review_form["comment"].value() if review_form and not reviewing else "",
        "draft_page": editing.draft_page(request, reverse("report-detail", args=[report.pk])),
        "session_seconds": editing.session_seconds(request),
    }
    return render(request, "tasks/report_detail.html", context, status=status)


@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = permissions.report_for_read(request.user, pk)
    services.mark_opened(request.user, report)
    return _detail(request, report)


@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    report = permissions.report_for_review(request.user, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("审核表单有误,请刷新页面后重试。"))
        return _detail(request, report, form)
    try:
        services.review_report(
            reviewer=request.user,
            report_id=report.pk,
            base_version=form.cleaned_data["version"],
            approve="approve" in request.POST,
            comment=form.cleaned_data["comment"],
        )
    except services.StaleEdit as stale:
        return _stale_review(request, stale.report, form)
    except ValidationError as error:
        if hasattr(error, "error_dict"):  # the comment: shown beside it
            editing.add_error(form, error)
        else:  # shown even where the page no longer offers the review form
            for message in error.messages:
                messages.error(request, message)
        return _detail(request, report, form)
    page = reverse("report-detail", args=[report.pk])
    return editing.saved(request, _("审核结果已保存。"), reverse("review-queue"), page)


def _stale_review(request: HttpRequest, newer: ProgressReport, form) -> HttpResponse:
    """A review of a version that is no longer current: the page shows the newer report and
    keeps the comment, in the form if the report can still be reviewed."""
    newer.milestone = permissions.milestone(newer.milestone_id)
    messages.error(
        request,
        _(
            "审核未成功:%(user)s 已于 %(time)s 把报告改为第%(version)s版(%(state)s)。"
            "请查看下方最新内容;您写的审核意见已保留。"
        )
        % {**newer_summary(newer), "state": newer.get_state_display()},
    )
    kept = ReviewForm({"version": newer.version, "comment": form.cleaned_data["comment"]})
    kept.is_valid()
    return _detail(request, newer, kept, status=409)


def _version_action(request: HttpRequest, report: ProgressReport, act, done: str):
    """撤回, 删除附件 on a report, then back to the report's form."""
    back = reverse("report-edit", args=[report.milestone_id, report.quarter])
    return editing.version_action(request, act, done, stale_message, back)


@require_POST
def report_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    report = permissions.report_for_withdraw(request.user, pk)
    return _version_action(
        request,
        report,
        lambda version: services.withdraw_report(
            user=request.user, report_id=report.pk, base_version=version
        ),
        _("报告已撤回,现在是草稿,可以修改后重新提交。"),
    )


@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = permissions.evidence_for_write(request.user, pk)
    return _version_action(
        request,
        evidence.report,
        lambda version: services.remove_evidence(
            user=request.user, evidence_id=evidence.pk, base_version=version
        ),
        _("附件“%(name)s”已从报告中删除(修改记录中仍可查看)。") % {"name": evidence},
    )


REVIEW_PAGE_SIZE = 50


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    if not services.may_review(request.user):
        raise PermissionDenied(_("您无权审核报告。"))
    # Every plan's waiting reports unless one plan is chosen: in January last year's fourth
    # quarter waits while next year's plan is already loaded.
    chosen = request.GET.get("plan", "").strip()
    plan = Plan.objects.picked(chosen) if chosen else None
    reports = ProgressReport.objects.awaiting_review()
    if plan is not None:
        reports = reports.of_plan(plan)
    reports = (
        reports.select_related("milestone__measure__work_area__plan", "updated_by")
        .prefetch_related("updated_by__departments")
        .order_by("updated_at", "pk")
    )
    page = Paginator(reports, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tasks/review_queue.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "page": page,
            "reports": page.object_list,
        },
    )


@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    return serve_file(permissions.evidence_for_read(request.user, pk))


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
            (messages.success if not result.refused else messages.warning)(
                request, result.summary()
            )
            for refusal in result.refused:
                messages.error(request, refusal)
            if result.rows:
                messages.info(request, result.per_row())
            return redirect(f"{reverse('my-work')}?plan={plan.pk}&quarter={quarter}")
    return render(
        request,
        "tasks/offline_upload.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "form": form,
            "errors": errors,
            "max_bytes": settings.IMPORT_MAX_BYTES,
        },
    )
