"""Pages of the supervision loop. Thin: the rules are in supervision.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.models import Department
from plan.models import QUARTER_CHOICES, Measure, Milestone, Plan
from plantracker import clock
from tasks import dashboard
from tasks.forms import QuarterForm
from tasks.models import ProgressReport
from tasks.views import serve_file

from . import bulletin, services
from .forms import AnswerForm, InstructionForm, MailPreferencesForm, ReplyForm, UrgingForm
from .models import AnswerFile, Instruction, Notice, Urging

NOTICE_PAGE_SIZE = 30


def _plan_and_quarter(request: HttpRequest) -> tuple[Plan, int]:
    plan = Plan.objects.picked(request.GET.get("plan"))
    if plan is None:
        raise PermissionDenied(_("系统中还没有推进计划。"))
    form = QuarterForm(request.GET)
    quarter = form.cleaned_data.get("quarter") if form.is_valid() else None
    return plan, quarter or plan.default_quarter(clock.today())


# --- Notices ----------------------------------------------------------------------------


@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    notices = Notice.objects.filter(user=request.user)
    page = Paginator(notices, NOTICE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/notice_list.html",
        {"page": page, "notices": page.object_list, "unread": services.unread_count(request.user)},
    )


@require_GET
def notice_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks the notice read and goes to the page it is about."""
    notice = services.open_notice(user=request.user, notice_id=pk)
    if not url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return redirect("notice-list")
    return redirect(notice.link)


@require_POST
def notice_read_all(request: HttpRequest) -> HttpResponse:
    services.read_all(user=request.user)
    messages.success(request, _("所有通知已标为已读。"))
    return redirect("notice-list")


@require_GET
def notice_count(request: HttpRequest) -> JsonResponse:
    """The header's unread count (static/js/app.js fills it in: no query on every page)."""
    return JsonResponse({"unread": services.unread_count(request.user)})


@require_http_methods(["GET", "POST"])
def notice_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MailPreferencesForm(request.POST)
        if form.is_valid():
            services.set_mail_preferences(user=request.user, wanted=form.cleaned_data["kinds"])
            messages.success(request, _("邮件设置已保存。"))
            return redirect("notice-settings")
    else:
        wanted = services.mail_preferences(request.user)
        form = MailPreferencesForm(initial={"kinds": [k for k, on in wanted.items() if on]})
    return render(
        request,
        "supervision/notice_settings.html",
        {"form": form, "has_email": bool(request.user.email)},
    )


# --- Instructions -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def instruction_new(request: HttpRequest, measure_id: int) -> HttpResponse:
    if not services.may_instruct(request.user):
        raise PermissionDenied(_("只有领导可以作出批示。"))
    measure = get_object_or_404(
        Measure.objects.select_related("work_area__plan").prefetch_related(
            "responsible_offices", "milestones"
        ),
        pk=measure_id,
    )
    milestone = None
    picked = request.GET.get("milestone") or request.POST.get("milestone")
    if picked:
        milestone = next((m for m in measure.milestones.all() if str(m.pk) == picked), None)
        if milestone is None:
            raise PermissionDenied(_("该进度节点不属于这项工作措施。"))
    form = InstructionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            instruction = services.instruct(
                user=request.user,
                measure=measure,
                milestone=milestone,
                text=form.cleaned_data["text"],
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("批示已送达承办处室。"))
            return redirect("instruction-detail", pk=instruction.pk)
    return render(
        request,
        "supervision/instruction_form.html",
        {
            "measure": measure,
            "milestone": milestone,
            "form": form,
            "offices": services.responsible_offices(measure),
        },
    )


def _instruction(request, pk) -> Instruction:
    instruction = get_object_or_404(
        Instruction.objects.select_related("measure__work_area__plan", "milestone", "author"),
        pk=pk,
    )
    services.check_read_instruction(request.user, instruction)
    return instruction


@require_GET
def instruction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    instruction = _instruction(request, pk)
    [row] = services.instruction_rows(Instruction.objects.filter(pk=pk))
    answers = instruction.answers.select_related("office", "by").prefetch_related("files")
    acks = instruction.acknowledgements.select_related("office", "by")
    mine = services.answering_offices(request.user, instruction)
    return render(
        request,
        "supervision/instruction_detail.html",
        {
            "instruction": instruction,
            "row": row,
            "answers": answers,
            "acknowledgements": acks,
            "may_answer": bool(mine),
            "needs_ack": bool(mine) and any(o.pk not in row.acknowledged for o in mine),
            "form": AnswerForm(),
        },
    )


@require_POST
def instruction_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    instruction = _instruction(request, pk)
    services.acknowledge(user=request.user, instruction=instruction)
    messages.success(request, _("已签收。"))
    return redirect("instruction-detail", pk=pk)


@require_POST
def instruction_answer(request: HttpRequest, pk: int) -> HttpResponse:
    instruction = _instruction(request, pk)
    if not services.answering_offices(request.user, instruction):
        raise PermissionDenied(_("只有承办处室的人员可以填报办理情况。"))
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.answer(
                user=request.user,
                instruction=instruction,
                text=form.cleaned_data["text"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("办理情况已报送。"))
            return redirect("instruction-detail", pk=pk)
    for message in [m for errors in form.errors.values() for m in errors]:
        messages.error(request, message)
    return redirect("instruction-detail", pk=pk)


@require_GET
def answer_file(request: HttpRequest, pk: int) -> FileResponse:
    item = get_object_or_404(AnswerFile.objects.select_related("answer__instruction"), pk=pk)
    _instruction(request, item.answer.instruction_id)
    return serve_file(item)


# --- Urging -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def urging_new(request: HttpRequest, office_id: int) -> HttpResponse:
    if not services.may_urge(request.user):
        raise PermissionDenied(_("只有审核人或领导可以催办。"))
    office = get_object_or_404(Department, pk=office_id, generic=False, kind=Department.Kind.OFFICE)
    plan, quarter = _plan_and_quarter(request)
    milestones = list(
        Milestone.objects.scheduled_in(quarter)
        .filter(measure__work_area__plan=plan, measure__responsible_offices=office)
        .select_related("measure")
        .prefetch_related("measure__responsible_offices")
        .order_by("measure__work_area__order", "measure__number", "order")
    )
    done = set(
        ProgressReport.objects.filter(
            milestone__in=milestones, quarter=quarter, state__in=services.DONE_STATES
        ).values_list("milestone_id", flat=True)
    )
    form = UrgingForm(request.POST or None, milestones=milestones)
    if request.method == "POST" and form.is_valid():
        chosen = set(form.cleaned_data["milestones"])
        try:
            urging = services.urge(
                user=request.user,
                office=office,
                quarter=quarter,
                milestones=[m for m in milestones if m.pk in chosen],
                message=form.cleaned_data["message"],
                reply_by=form.cleaned_data["reply_by"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("催办已发出。"))
            return redirect("urging-detail", pk=urging.pk)
    if request.method == "GET":
        form.initial = {
            "milestones": [m.pk for m in milestones if m.pk not in done],
            "message": _("请抓紧报送%(year)s年第%(quarter)s季度进展情况。")
            % {"year": plan.year, "quarter": quarter},
        }
    return render(
        request,
        "supervision/urging_form.html",
        {"office": office, "plan": plan, "quarter": quarter, "form": form, "done": done},
    )


def _urging(request, pk) -> Urging:
    urging = get_object_or_404(Urging.objects.select_related("office", "author"), pk=pk)
    services.check_read_urging(request.user, urging)
    return urging


@require_GET
def urging_detail(request: HttpRequest, pk: int) -> HttpResponse:
    urging = _urging(request, pk)
    items = urging.items.select_related("milestone__measure")
    state = services.urging_state(urging, clock.today())
    return render(
        request,
        "supervision/urging_detail.html",
        {
            "urging": urging,
            "items": items,
            "state": state,
            "state_label": services.URGING_STATES[state],
            "may_reply": services.may_reply(request.user, urging) and not urging.replied,
            "form": ReplyForm(),
        },
    )


@require_POST
def urging_reply(request: HttpRequest, pk: int) -> HttpResponse:
    _urging(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        for message in form.errors.get("text", []):
            messages.error(request, message)
        return redirect("urging-detail", pk=pk)
    try:
        services.reply(user=request.user, urging_id=pk, text=form.cleaned_data["text"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("反馈已报送。"))
    return redirect("urging-detail", pk=pk)


# --- The leaders' supervision page and the bulletin ---------------------------------------


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    if not services.may_oversee(request.user):
        raise PermissionDenied(_("您无权查看督办情况。"))
    plan, quarter = _plan_and_quarter(request)
    today = clock.today()
    rows = services.instruction_rows(Instruction.objects.of_plan(plan), today)
    urgings = list(
        Urging.objects.filter(items__milestone__measure__work_area__plan=plan)
        .distinct()
        .select_related("office", "author")
        .prefetch_related(Prefetch("items"))
    )
    for urging in urgings:
        urging.state = services.urging_state(urging, today)
        urging.state_label = services.URGING_STATES[urging.state]
    figures = dashboard.load_figures(plan, quarter, today)
    offices = dashboard.timeliness(figures, plan, quarter, today, {})
    return render(
        request,
        "supervision/overview.html",
        {
            "plan": plan,
            "plans": Plan.objects.menu(plan, request.user),
            "quarter": quarter,
            "quarters": QUARTER_CHOICES,
            "rows": rows,
            "counts": {
                state: sum(1 for row in rows if row.state == state)
                for state in ("answered", "open", "overdue")
            },
            "urgings": urgings,
            "escalated": [u for u in urgings if u.state == "escalated"],
            "offices": [row for row in offices if row.missing],
            "may_urge": services.may_urge(request.user),
        },
    )


@require_GET
def bulletin_download(request: HttpRequest) -> HttpResponse:
    if not services.may_oversee(request.user):
        raise PermissionDenied(_("您无权下载督查通报。"))
    plan, quarter = _plan_and_quarter(request)
    content = bulletin.render(plan, quarter, clock.today())
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    name = f"bulletin-{plan.year}-q{quarter}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
