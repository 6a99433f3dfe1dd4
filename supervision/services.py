"""Rules of the supervision loop: who may instruct, urge and answer, and every write.
Views call these functions; each write runs in one transaction and sends its notices
(mails go out after the commit)."""

import datetime
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments import roles
from departments.models import Department
from departments.roles import roles_of
from plan.models import Measure, Milestone
from plantracker import clock
from tasks.models import ProgressReport

from .models import (
    Acknowledgement,
    AnswerFile,
    Instruction,
    InstructionAnswer,
    MailPreference,
    Notice,
    UrgedMilestone,
    Urging,
)

Kind = Notice.Kind
logger = logging.getLogger(__name__)
DONE_STATES = (ProgressReport.State.SUBMITTED, ProgressReport.State.APPROVED)


def today() -> datetime.date:
    return clock.today()


def absolute(link: str) -> str:
    return settings.SITE_URL + link


# --- Notices and mail -------------------------------------------------------------------


def notify(users: Iterable, kind: str, text: str, link: str) -> list[Notice]:
    """An in-app notice for each (active, distinct) user, and a mail to those who have an
    address and have not turned mail off for `kind`. Mails leave after the commit."""
    people = {user.pk: user for user in users if user.is_active}
    if not people:
        return []
    now = clock.now()
    notices = Notice.objects.bulk_create(
        Notice(user=user, kind=kind, text=text, link=link, created_at=now)
        for user in people.values()
    )
    muted = set(
        MailPreference.objects.filter(user__in=people, kind=kind, mail=False).values_list(
            "user_id", flat=True
        )
    )
    subject = _("【推进计划跟踪】%(kind)s") % {"kind": Kind(kind).label}
    body = f"{text}\n\n{_('查看')}:{absolute(link)}\n"
    mails = [
        EmailMessage(subject, body, None, [user.email])
        for user in people.values()
        if user.email and user.pk not in muted
    ]
    if mails:
        after_commit(lambda: send_quietly(mails))
    return notices


def send_quietly(mails: list[EmailMessage]) -> None:
    """Sends after the change is committed: a mail server that is down must not turn a saved
    answer or review into an error page. The notice is in the app either way; the failure
    is logged."""
    try:
        get_connection().send_messages(mails)
    except Exception:  # noqa: BLE001 - any transport error (SMTP, socket, DNS)
        logger.exception("could not send %s notice mail(s)", len(mails))


def in_site_language(function):
    """Notices and mails are written in the site's language (settings.LANGUAGE_CODE), not in
    that of whoever caused them: a reviewer working in English returns a report to an office
    that reads Chinese."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)

    return wrapper


def after_commit(action) -> None:
    """Mail only what was committed (tests run inside a transaction that never commits, and
    run the action at once instead: tests/test_supervision.py)."""
    transaction.on_commit(action)


def mail_wanted(user, kind: str) -> bool:
    return not MailPreference.objects.filter(user=user, kind=kind, mail=False).exists()


def staff_of(office_ids: Iterable[int]):
    """Active office staff (处室人员) of these departments."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.STAFF, departments__in=list(office_ids))
        .distinct()
        .order_by("username")
    )


def leaders():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.LEADER)
        .distinct()
        .order_by("username")
    )


def unread_count(user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def open_notice(*, user, notice_id: int) -> Notice:
    notice = Notice.objects.filter(user=user, pk=notice_id).first()
    if notice is None:
        raise PermissionDenied(_("该通知不存在或不属于您。"))
    if notice.read_at is None:
        notice.read_at = clock.now()
        notice.save(update_fields=["read_at"])
    return notice


def read_all(*, user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=clock.now())


@transaction.atomic
def set_mail_preferences(*, user, wanted: Iterable[str]) -> None:
    wanted = set(wanted)
    for kind in Kind.values:
        MailPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"mail": kind in wanted}
        )


def mail_preferences(user) -> dict[str, bool]:
    muted = set(MailPreference.objects.filter(user=user, mail=False).values_list("kind", flat=True))
    return {kind: kind not in muted for kind in Kind.values}


# --- Who may do what --------------------------------------------------------------------


def may_instruct(user) -> bool:
    return roles.LEADER in roles_of(user)


def may_urge(user) -> bool:
    return bool(roles_of(user) & {roles.LEADER, roles.REVIEWER})


def may_oversee(user) -> bool:
    """Leaders, reviewers and admins read every instruction and urging."""
    return roles.may_view_dashboard(user)


def responsible_offices(measure: Measure) -> list[Department]:
    """The offices that answer for a measure: its responsible offices that hold accounts
    (generic ones such as 相关处室 stand for many and answer nothing)."""
    return [office for office in measure.responsible_offices.all() if not office.generic]


def answering_offices(user, instruction: Instruction) -> list[Department]:
    """The user's offices that must answer `instruction` (staff only)."""
    if roles.STAFF not in roles_of(user):
        return []
    mine = roles.department_ids(user)
    return [office for office in responsible_offices(instruction.measure) if office.pk in mine]


def check_read_instruction(user, instruction: Instruction) -> None:
    """Those who may not read an instruction get 404, as for one that does not exist: ids
    do not tell what exists (as for reports, tasks.permissions)."""
    if not (may_oversee(user) or answering_offices(user, instruction)):
        raise Http404(_("没有找到该批示。"))


def check_read_urging(user, urging: Urging) -> None:
    if not (may_oversee(user) or may_reply(user, urging)):
        raise Http404(_("没有找到该催办。"))


def may_reply(user, urging: Urging) -> bool:
    return roles.STAFF in roles_of(user) and urging.office_id in roles.department_ids(user)


# --- Leaders' instructions --------------------------------------------------------------


@in_site_language
@transaction.atomic
def instruct(
    *,
    user,
    measure: Measure,
    milestone: Milestone | None,
    text: str,
    due_on: datetime.date | None,
    on: datetime.date | None = None,
) -> Instruction:
    """A leader's instruction on a measure or on one of its milestones; the responsible
    offices' staff are notified."""
    if not may_instruct(user):
        raise PermissionDenied(_("只有领导可以作出批示。"))
    on = on or today()
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("请填写批示内容。")})
    if milestone is not None and milestone.measure_id != measure.pk:
        raise ValidationError(_("该进度节点不属于这项工作措施。"))
    if due_on is not None and due_on < on:
        raise ValidationError({"due_on": _("办理时限不能早于今天。")})
    instruction = Instruction.objects.create(
        measure=measure,
        milestone=milestone,
        text=text,
        due_on=due_on,
        author=user,
        created_at=clock.now(),
    )
    link = reverse("instruction-detail", args=[instruction.pk])
    who = user.get_full_name() or user.get_username()
    notify(
        staff_of(o.pk for o in responsible_offices(measure)),
        Kind.INSTRUCTION,
        _("%(leader)s 对“%(measure)s”作出批示:%(text)s")
        % {"leader": who, "measure": f"{measure.number}.{measure.title}", "text": text},
        link,
    )
    return instruction


@transaction.atomic
def acknowledge(*, user, instruction: Instruction) -> list[Acknowledgement]:
    """The user's offices sign for the instruction (once each; again is harmless)."""
    offices = answering_offices(user, instruction)
    if not offices:
        raise PermissionDenied(_("只有承办处室的人员可以签收批示。"))
    done = []
    for office in offices:
        if Acknowledgement.objects.filter(instruction=instruction, office=office).exists():
            continue
        try:
            with transaction.atomic():
                done.append(
                    Acknowledgement.objects.create(
                        instruction=instruction, office=office, by=user, at=clock.now()
                    )
                )
        except IntegrityError:
            pass  # a colleague signed a moment ago
    return done


@in_site_language
@transaction.atomic
def answer(
    *, user, instruction: Instruction, text: str, files: Iterable[UploadedFile] = ()
) -> InstructionAnswer:
    """办理情况 from the user's office, with files; it signs for the instruction too. The
    leader who wrote the instruction is notified. Someone in two of the responsible offices
    answers for the first of them that has not answered yet."""
    offices = answering_offices(user, instruction)
    if not offices:
        raise PermissionDenied(_("只有承办处室的人员可以填报办理情况。"))
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("请填写办理情况。")})
    acknowledge(user=user, instruction=instruction)
    now = clock.now()
    answered = set(instruction.answers.values_list("office_id", flat=True))
    office = next((o for o in offices if o.pk not in answered), offices[0])
    reply = InstructionAnswer.objects.create(
        instruction=instruction, office=office, text=text, by=user, at=now
    )
    for upload in files:
        AnswerFile.objects.create(
            answer=reply,
            file=upload,
            name=upload.name[:200],
            size=upload.size,
            uploaded_by=user,
            uploaded_at=now,
        )
    notify(
        [instruction.author],
        Kind.ANSWER,
        _("%(office)s 已报送对批示“%(text)s”的办理情况。")
        % {"office": office.name, "text": instruction.text[:40]},
        reverse("instruction-detail", args=[instruction.pk]),
    )
    return reply


@dataclass
class InstructionRow:
    """An instruction with where its offices stand."""

    instruction: Instruction
    offices: list[Department]
    acknowledged: set[int]
    answered: set[int]
    on: datetime.date

    @property
    def state(self) -> str:
        """answered (every office has answered), overdue (past its date) or open."""
        if self.offices and all(o.pk in self.answered for o in self.offices):
            return "answered"
        due = self.instruction.due_on
        return "overdue" if due is not None and due < self.on else "open"

    @property
    def state_label(self) -> str:
        return {"answered": _("已办理"), "overdue": _("已逾期"), "open": _("办理中")}[self.state]

    def office_state(self, office) -> str:
        if office.pk in self.answered:
            return _("已报送办理情况")
        if office.pk in self.acknowledged:
            return _("已签收")
        return _("未签收")

    @property
    def office_states(self) -> list[tuple[Department, str]]:
        return [(office, self.office_state(office)) for office in self.offices]


def instruction_rows(instructions, on: datetime.date | None = None) -> list[InstructionRow]:
    """Instructions with offices, acknowledgements and answers: four queries in all."""
    on = on or today()
    instructions = instructions.select_related(
        "measure__work_area", "milestone", "author"
    ).prefetch_related(
        Prefetch(
            "measure__responsible_offices",
            queryset=Department.objects.order_by("order", "name"),
        ),
        "acknowledgements",
        "answers",
    )
    return [
        InstructionRow(
            instruction=item,
            offices=responsible_offices(item.measure),
            acknowledged={a.office_id for a in item.acknowledgements.all()},
            answered={a.office_id for a in item.answers.all()},
            on=on,
        )
        for item in instructions
    ]


# --- Urging and escalation --------------------------------------------------------------


@in_site_language
@transaction.atomic
def urge(
    *,
    user,
    office: Department,
    quarter: int,
    milestones: list[Milestone],
    message: str,
    reply_by: datetime.date,
    on: datetime.date | None = None,
) -> Urging:
    """A reviewer or leader urges an office about some of its milestones of a quarter. A
    milestone urged already today is refused (one urging a day is enough)."""
    if not may_urge(user):
        raise PermissionDenied(_("只有审核人或领导可以催办。"))
    on = on or today()
    message = message.strip()
    if not message:
        raise ValidationError({"message": _("请填写催办事项。")})
    if not milestones:
        raise ValidationError(_("请至少选择一个进度节点。"))
    if reply_by < on:
        raise ValidationError({"reply_by": _("办理时限不能早于今天。")})
    for milestone in milestones:
        if office.pk not in {o.pk for o in milestone.measure.responsible_offices.all()}:
            raise ValidationError(_("所选进度节点不属于该处室。"))
        if quarter not in milestone.quarters:
            raise ValidationError(_("所选进度节点在这个季度没有安排。"))
    already = list(
        UrgedMilestone.objects.filter(milestone__in=milestones, urged_on=on).select_related(
            "milestone__measure"
        )
    )
    if already:
        raise ValidationError(
            _("以下进度节点今天已催办过,同一节点一天只能催办一次:%(items)s")
            % {"items": "、".join(_label(item.milestone) for item in already)}
        )
    urging = Urging.objects.create(
        office=office,
        quarter=quarter,
        message=message,
        reply_by=reply_by,
        author=user,
        created_at=clock.now(),
    )
    try:
        with transaction.atomic():
            UrgedMilestone.objects.bulk_create(
                UrgedMilestone(urging=urging, milestone=m, urged_on=on) for m in milestones
            )
    except IntegrityError:
        raise ValidationError(_("所选进度节点刚刚已被他人催办,请刷新页面。")) from None
    notify(
        staff_of([office.pk]),
        Kind.URGING,
        _("催办:%(message)s(涉及%(count)s个进度节点,请于%(date)s前办理并反馈)")
        % {"message": message, "count": len(milestones), "date": reply_by.isoformat()},
        reverse("urging-detail", args=[urging.pk]),
    )
    return urging


def _label(milestone: Milestone) -> str:
    return f"{milestone.measure.number}.{milestone.measure.title} · {milestone.label}"


@transaction.atomic
def reply(*, user, urging_id: int, text: str) -> Urging:
    urging = Urging.objects.select_for_update().get(pk=urging_id)
    if not may_reply(user, urging):
        raise PermissionDenied(_("只有被催办处室的人员可以反馈。"))
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("请填写反馈情况。")})
    if urging.replied:
        raise ValidationError(_("该催办已经反馈过。"))
    urging.reply_text, urging.replied_by, urging.replied_at = text, user, clock.now()
    urging.save(_system_update=True)
    return urging


def settled(urging: Urging) -> bool:
    """The office replied, or has submitted (or had approved) every urged milestone's report
    for the quarter."""
    if urging.replied:
        return True
    urged = {item.milestone_id for item in urging.items.all()}
    done = set(
        ProgressReport.objects.filter(
            milestone__in=urged, quarter=urging.quarter, state__in=DONE_STATES
        ).values_list("milestone_id", flat=True)
    )
    return bool(urged) and urged <= done


@in_site_language
@transaction.atomic
def escalate(on: datetime.date | None = None) -> list[Urging]:
    """Urgings unsettled after their date go to the leaders: a notice and a mail, once."""
    on = on or today()
    due = (
        Urging.objects.select_for_update()
        .filter(reply_by__lt=on, escalated_at__isnull=True, replied_at__isnull=True)
        .select_related("office")
        .order_by("pk")
    )
    escalated = []
    for urging in due:
        if settled(urging):
            continue
        urging.escalated_at = clock.now()
        urging.save(_system_update=True)
        notify(
            leaders(),
            Kind.ESCALATION,
            _("%(office)s 未在%(date)s前办理催办事项“%(message)s”,提请领导督办。")
            % {
                "office": urging.office.name,
                "date": urging.reply_by.isoformat(),
                "message": urging.message[:60],
            },
            reverse("urging-detail", args=[urging.pk]),
        )
        escalated.append(urging)
    return escalated


@in_site_language
@transaction.atomic
def remind_overdue_instructions(on: datetime.date | None = None) -> list[InstructionRow]:
    """Instructions past their date that some office has not answered: the staff of those
    offices and the leader who wrote it get a notice and a mail, once."""
    on = on or today()
    due = Instruction.objects.select_for_update(of=("self",)).filter(
        due_on__lt=on, overdue_notified_at__isnull=True
    )
    reminded = []
    for row in instruction_rows(due.order_by("pk"), on):
        if row.state != "overdue":
            continue
        instruction = row.instruction
        instruction.overdue_notified_at = clock.now()
        instruction.save(_system_update=True)
        late = [office for office in row.offices if office.pk not in row.answered]
        notify(
            [*staff_of(office.pk for office in late), instruction.author],
            Kind.INSTRUCTION_OVERDUE,
            _("批示“%(text)s”的办理时限%(date)s已过,%(offices)s尚未报送办理情况。")
            % {
                "text": instruction.text[:60],
                "date": instruction.due_on.isoformat(),
                "offices": "、".join(office.name for office in late) or _("承办处室"),
            },
            reverse("instruction-detail", args=[instruction.pk]),
        )
        reminded.append(row)
    return reminded


def urging_state(urging: Urging, on: datetime.date) -> str:
    if urging.replied:
        return "replied"
    if urging.escalated_at:
        return "escalated"
    return "overdue" if urging.reply_by < on else "open"


URGING_STATES = {
    "replied": gettext_lazy("已反馈"),
    "escalated": gettext_lazy("已提级"),
    "overdue": gettext_lazy("逾期未反馈"),
    "open": gettext_lazy("待反馈"),
}
