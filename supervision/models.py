"""The supervision loop (督查督办): leaders' instructions and the offices' answers, urging,
escalation, and in-app notices with per-kind mail preferences.

Instructions, acknowledgements, answers and urgings are append-only: once saved they are
never changed or deleted (save() refuses an update; the admin only shows them). An urging
changes twice, by the system only: when the office replies, and when it is escalated."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from plan.models import QUARTER_CHOICES
from tasks.models import StoredFile


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_system_update", False):
            raise ValidationError(_("该记录一经保存不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("该记录一经保存不能删除。"))


class InstructionQuerySet(models.QuerySet):
    def of_plan(self, plan):
        return self.filter(measure__work_area__plan=plan)


class Instruction(AppendOnly):
    """领导批示: a leader's instruction on a measure, or on one of its milestones."""

    measure = models.ForeignKey(
        "plan.Measure",
        verbose_name=_("工作措施"),
        on_delete=models.PROTECT,
        related_name="instructions",
    )
    milestone = models.ForeignKey(
        "plan.Milestone",
        verbose_name=_("进度节点"),
        on_delete=models.PROTECT,
        related_name="instructions",
        null=True,
        blank=True,
    )
    text = models.TextField(_("批示内容"))
    due_on = models.DateField(_("办理时限"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批示领导"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("批示时间"))
    # When the offices that had not answered by the due date, and the leader, were told (once).
    overdue_notified_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    objects = InstructionQuerySet.as_manager()

    class Meta:
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.measure.number}. {self.text[:30]}"


class Acknowledgement(AppendOnly):
    """An office has read an instruction (签收)."""

    instruction = models.ForeignKey(
        Instruction,
        verbose_name=_("领导批示"),
        on_delete=models.CASCADE,
        related_name="acknowledgements",
    )
    office = models.ForeignKey(
        "departments.Department", verbose_name=_("处室"), on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("签收时间"))

    class Meta:
        verbose_name = _("批示签收")
        verbose_name_plural = _("批示签收")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["instruction", "office"], name="ack_once_per_office")
        ]

    def __str__(self) -> str:
        return f"{self.office} · {self.at:%Y-%m-%d}"


class InstructionAnswer(AppendOnly):
    """办理情况: what an office did about an instruction. An office may add more answers
    later (a follow-up); none is ever changed."""

    instruction = models.ForeignKey(
        Instruction, verbose_name=_("领导批示"), on_delete=models.CASCADE, related_name="answers"
    )
    office = models.ForeignKey(
        "departments.Department", verbose_name=_("处室"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("办理情况"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("填报时间"))

    class Meta:
        verbose_name = _("批示办理情况")
        verbose_name_plural = _("批示办理情况")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.office} · {self.text[:30]}"


def answer_file_path(instance: "AnswerFile", filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return f"instructions/{instance.answer.instruction_id}/{uuid.uuid4().hex}{suffix}"


class AnswerFile(StoredFile):
    file = models.FileField(_("文件"), upload_to=answer_file_path, max_length=200)
    answer = models.ForeignKey(
        InstructionAnswer,
        verbose_name=_("办理情况"),
        on_delete=models.CASCADE,
        related_name="files",
    )

    class Meta:
        verbose_name = _("办理情况附件")
        verbose_name_plural = _("办理情况附件")
        ordering = ["answer", "uploaded_at", "pk"]


class Urging(AppendOnly):
    """催办: a reviewer or leader urges an office about some of its milestones of a quarter,
    asking for a reply by a date. Settled when the office replies or has submitted every
    urged milestone's report; unsettled after its date, it is escalated to the leaders."""

    office = models.ForeignKey(
        "departments.Department",
        verbose_name=_("被催办处室"),
        on_delete=models.PROTECT,
        related_name="urgings",
    )
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=QUARTER_CHOICES)
    message = models.TextField(_("催办事项"))
    reply_by = models.DateField(_("办理时限"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("催办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("催办时间"))
    reply_text = models.TextField(_("反馈情况"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反馈人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    replied_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("提级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催办")
        verbose_name_plural = _("催办")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.office} · {self.message[:30]}"

    @property
    def replied(self) -> bool:
        return self.replied_at is not None


class UrgedMilestone(models.Model):
    """One milestone of an urging. The unique date makes urging a milestone twice in one
    day impossible, even for two reviewers at the same moment."""

    urging = models.ForeignKey(
        Urging, verbose_name=_("催办"), on_delete=models.CASCADE, related_name="items"
    )
    milestone = models.ForeignKey(
        "plan.Milestone", verbose_name=_("进度节点"), on_delete=models.PROTECT, related_name="+"
    )
    urged_on = models.DateField(_("催办日期"))

    class Meta:
        verbose_name = _("催办节点")
        verbose_name_plural = _("催办节点")
        ordering = ["urging", "milestone"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "urged_on"], name="urge_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.milestone} · {self.urged_on}"


class Notice(models.Model):
    """An in-app notice to one person, linking to the page it is about."""

    class Kind(models.TextChoices):
        RETURNED = "returned", _("报告被退回")
        APPROVED = "approved", _("报告审核通过")
        INSTRUCTION = "instruction", _("领导批示")
        ANSWER = "answer", _("批示已办理")
        URGING = "urging", _("催办")
        ESCALATION = "escalation", _("催办提级")
        INSTRUCTION_OVERDUE = "overdue", _("批示逾期未办理")
        CONTRIBUTION = "contribution", _("配合单位报送")
        DEADLINE = "deadline", _("报告3天后截止")
        REMINDER = "reminder", _("催报提醒")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    kind = models.CharField(_("类别"), max_length=15, choices=Kind.choices)
    text = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300)
    created_at = models.DateTimeField(_("时间"))
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


class MailPreference(models.Model):
    """A person's choice to be mailed (or not) for one kind of notice. No row: mailed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="mail_preferences",
    )
    kind = models.CharField(_("类别"), max_length=15, choices=Notice.Kind.choices)
    mail = models.BooleanField(_("发送邮件"), default=True)

    class Meta:
        verbose_name = _("邮件设置")
        verbose_name_plural = _("邮件设置")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="mail_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind} · {self.mail}"
