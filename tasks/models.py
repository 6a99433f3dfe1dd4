import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from plan.models import QUARTER_CHOICES, Milestone, text_limit

# The longest texts a report, a review or a contribution may hold (each save is also kept in
# the history, so without a bound one person could fill the disk).
DONE_TEXT_MAX = 5000
COMMENT_MAX = 2000


class ProgressReportQuerySet(models.QuerySet):
    def approved(self):
        """Reports a reviewer approved: the only ones the figures and the public page count."""
        return self.filter(state=ProgressReport.State.APPROVED)

    def awaiting_review(self):
        return self.filter(state=ProgressReport.State.SUBMITTED)

    def of_plan(self, plan):
        return self.filter(milestone__measure__work_area__plan=plan)

    def approved_by_cell(self, plan) -> dict:
        """{(milestone id, quarter): approved report} of a plan: the progress columns of the
        plan's table layout (plan.layout.export_plan)."""
        return {(r.milestone_id, r.quarter): r for r in self.of_plan(plan).approved()}


class ProgressReport(models.Model):
    """An office's report on one milestone for one quarter. Its edits are kept as versions."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        IN_PROGRESS = "in_progress", _("进行中")
        DONE = "done", _("已完成")
        BEHIND = "behind", _("滞后")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已通过")

    EDITABLE_STATES = (State.DRAFT, State.RETURNED)

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("进度节点"), on_delete=models.PROTECT, related_name="reports"
    )
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=QUARTER_CHOICES)
    state = models.CharField(
        _("审核状态"), max_length=10, choices=State.choices, default=State.DRAFT
    )
    status = models.CharField(
        _("进展状态"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED
    )
    percent = models.PositiveSmallIntegerField(
        _("完成百分比"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("0–100"),
    )
    done_text = models.TextField(_("完成情况"), blank=True, **text_limit(DONE_TEXT_MAX))
    problems_text = models.TextField(_("存在问题及下一步"), blank=True, **text_limit(DONE_TEXT_MAX))
    review_comment = models.TextField(_("审核意见"), blank=True, **text_limit(COMMENT_MAX))
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("最后修改时间"))
    first_submitted_at = models.DateTimeField(_("首次提交时间"), null=True, blank=True)
    opened_at = models.DateTimeField(
        _("审核人打开时间"),
        null=True,
        blank=True,
        help_text=_("审核人第一次打开已提交的报告的时间;打开后处室不能再撤回。"),
    )

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("季度进展报告")
        verbose_name_plural = _("季度进展报告")
        ordering = ["milestone", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "quarter"], name="report_unique_quarter"),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0, percent__lte=100), name="report_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} · {self.get_quarter_display()}"

    @property
    def editable(self) -> bool:
        return self.state in self.EDITABLE_STATES

    def clean(self):
        if self.status == self.Status.DONE and self.percent != 100:
            raise ValidationError({"percent": _("状态为“已完成”时,完成百分比须为100%。")})
        if self.milestone_id and self.quarter not in self.milestone.quarters:
            raise ValidationError({"quarter": _("该进度节点在这个季度没有安排。")})

    def snapshot(self) -> dict:
        return {field: getattr(self, field) for field in ReportVersion.SNAPSHOT_FIELDS}


class ReportVersion(models.Model):
    """One step in a report's life, with the report as it stood after it. Never changed."""

    class Event(models.TextChoices):
        SAVED = "saved", _("保存草稿")
        SUBMITTED = "submitted", _("提交")
        RETURNED = "returned", _("退回")
        APPROVED = "approved", _("审核通过")
        IMPORTED = "imported", _("Excel导入")  # before channels were recorded
        WITHDRAWN = "withdrawn", _("撤回")
        FILE_REMOVED = "file_off", _("删除附件")

    class Channel(models.TextChoices):
        WEB = "web", _("网页")
        OFFLINE = "offline", _("离线表格")
        ADMIN = "admin", _("管理员导入")

    SNAPSHOT_FIELDS = ("state", "status", "percent", "done_text", "problems_text")

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本"))
    event = models.CharField(_("操作"), max_length=10, choices=Event.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    state = models.CharField(_("审核状态"), max_length=10, choices=ProgressReport.State.choices)
    status = models.CharField(_("进展状态"), max_length=12, choices=ProgressReport.Status.choices)
    percent = models.PositiveSmallIntegerField(_("完成百分比"))
    done_text = models.TextField(_("完成情况"), blank=True, **text_limit(DONE_TEXT_MAX))
    problems_text = models.TextField(_("存在问题及下一步"), blank=True, **text_limit(DONE_TEXT_MAX))
    comment = models.TextField(_("审核意见"), blank=True, **text_limit(COMMENT_MAX))
    channel = models.CharField(
        _("渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )

    class Meta:
        verbose_name = _("报告版本")
        verbose_name_plural = _("报告版本")
        ordering = ["report", "version"]
        constraints = [
            models.UniqueConstraint(fields=["report", "version"], name="version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.report} v{self.version}"

    def changes_since(self, previous: "ReportVersion | None") -> list[tuple[str, str]]:
        """(field label, new value as shown) for each report field this step changed."""
        shown = {
            "status": self.get_status_display(),
            "percent": f"{self.percent}%",
            "done_text": self.done_text,
            "problems_text": self.problems_text,
        }
        return [
            (str(self._meta.get_field(name).verbose_name), value)
            for name, value in shown.items()
            if (getattr(previous, name) != getattr(self, name) if previous else value)
        ]


# Allowed evidence types: extension → (content type served, first bytes such a file starts
# with). tasks.forms checks uploads against it; StoredFile re-checks the name it serves.
EVIDENCE_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
STORED_NAME_LENGTH = 200

UNSAFE_NAME_CHARACTERS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def evidence_path(instance: "StoredFile", filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return f"evidence/{instance.milestone_id}/{uuid.uuid4().hex}{suffix}"


class StoredFile(models.Model):
    """An uploaded file: stored under MEDIA_ROOT with a random name, served only through a
    view that checks permission, kept for good once uploaded."""

    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小(字节)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def stored_name(name: str) -> str:
        """The name to keep for an upload: the name checked, shortened by its stem, never by
        its extension (the extension is what the upload's type was checked by)."""
        name = UNSAFE_NAME_CHARACTERS.sub("_", name).strip() or "file"
        suffix = Path(name).suffix
        if len(suffix) >= STORED_NAME_LENGTH // 2:
            suffix = ""
        stem = name[: len(name) - len(suffix)] if suffix else name
        return stem[: STORED_NAME_LENGTH - len(suffix)] + suffix

    def download_name(self) -> str:
        """The name served, checked again: an allowed extension, or the name plus ".bin"
        (a row written before the check, or by hand, is never served as .html)."""
        name = self.stored_name(self.name)
        if Path(name).suffix.lower() in EVIDENCE_TYPES:
            return name
        return self.stored_name(name[: STORED_NAME_LENGTH - 4] + ".bin")

    def content_type(self) -> str:
        entry = EVIDENCE_TYPES.get(Path(self.download_name()).suffix.lower())
        return entry[0] if entry else "application/octet-stream"


class Evidence(StoredFile):
    """A 佐证材料 file of an office's report."""

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="evidence"
    )
    version = models.PositiveIntegerField(_("上传时的报告版本"))
    removed_in = models.PositiveIntegerField(
        _("删除时的报告版本"),
        null=True,
        blank=True,
        help_text=_("从报告中删除的文件仍保存在修改记录里,不再算作报告的佐证材料。"),
    )

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["report", "uploaded_at", "pk"]

    @property
    def milestone_id(self) -> int:
        return self.report.milestone_id


class ContributionQuerySet(models.QuerySet):
    def with_history(self):
        """With their files and their versions (authors and the authors' offices) fetched in
        four queries, whatever their number: what Contribution.history() reads."""
        return self.prefetch_related(*history_lookups())


def history_lookups() -> tuple:
    """The prefetches Contribution.history() reads (for a list, or prefetch_related_objects)."""
    return (
        "files",
        models.Prefetch(
            "versions",
            queryset=ContributionVersion.objects.select_related("by")
            .prefetch_related("by__departments")
            .order_by("-version"),
        ),
    )


class Contribution(models.Model):
    """What a cooperating unit (配合单位) did for a milestone in a quarter. The responsible
    office sees it beside its own report and may quote it; other units never see it."""

    milestone = models.ForeignKey(
        Milestone,
        verbose_name=_("进度节点"),
        on_delete=models.PROTECT,
        related_name="contributions",
    )
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=QUARTER_CHOICES)
    unit = models.ForeignKey(
        "departments.Department",
        verbose_name=_("配合单位"),
        on_delete=models.PROTECT,
        related_name="contributions",
    )
    text = models.TextField(_("工作情况"), **text_limit(DONE_TEXT_MAX))
    figures = models.TextField(_("相关数据"), blank=True, **text_limit(COMMENT_MAX))
    version = models.PositiveIntegerField(_("版本"), default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_submitted_at = models.DateTimeField(_("首次提交时间"))
    updated_at = models.DateTimeField(_("最后修改时间"))

    objects = ContributionQuerySet.as_manager()

    class Meta:
        verbose_name = _("配合单位工作情况")
        verbose_name_plural = _("配合单位工作情况")
        ordering = ["milestone", "quarter", "unit"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "quarter", "unit"], name="contribution_unique_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.milestone} · {self.get_quarter_display()}"

    def history(self) -> list["ContributionVersion"]:
        """The versions, newest first, each with `added`: the files uploaded with it. Reads
        versions.all() and files.all() (prefetch them on lists)."""
        versions = sorted(self.versions.all(), key=lambda v: v.version, reverse=True)
        files = list(self.files.all())
        for version in versions:
            version.added = [f for f in files if f.version == version.version]
        return versions

    def current_files(self) -> list["ContributionFile"]:
        """The files it holds now (not removed). Reads files.all() (prefetch it on lists)."""
        return [stored for stored in self.files.all() if stored.removed_in is None]


class ContributionVersion(models.Model):
    """A contribution as one save left it (text, figures, who, when, through which channel).
    Never changed: an earlier text of a unit stays readable after a correction."""

    contribution = models.ForeignKey(
        Contribution,
        verbose_name=_("工作情况"),
        on_delete=models.CASCADE,
        related_name="versions",
    )
    version = models.PositiveIntegerField(_("版本"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    text = models.TextField(_("工作情况"), **text_limit(DONE_TEXT_MAX))
    figures = models.TextField(_("相关数据"), blank=True, **text_limit(COMMENT_MAX))
    channel = models.CharField(
        _("渠道"),
        max_length=10,
        choices=ReportVersion.Channel.choices,
        default=ReportVersion.Channel.WEB,
    )
    # The version that took a file off (its text and figures unchanged): the file's name.
    removed_file = models.CharField(_("删除的附件"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("配合情况版本")
        verbose_name_plural = _("配合情况版本")
        ordering = ["contribution", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "version"], name="contribution_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contribution} v{self.version}"


class ContributionFile(StoredFile):
    contribution = models.ForeignKey(
        Contribution, verbose_name=_("工作情况"), on_delete=models.CASCADE, related_name="files"
    )
    version = models.PositiveIntegerField(_("上传时的版本"))
    removed_in = models.PositiveIntegerField(_("删除时的版本"), null=True, blank=True)

    class Meta:
        verbose_name = _("配合单位佐证材料")
        verbose_name_plural = _("配合单位佐证材料")
        ordering = ["contribution", "uploaded_at", "pk"]

    @property
    def milestone_id(self) -> int:
        return self.contribution.milestone_id


class Reminder(models.Model):
    """A reminder email sent to a person, at most one a day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sent_on = models.DateField(_("发送日期"))
    body = models.TextField(_("内容"))

    class Meta:
        verbose_name = _("催报记录")
        verbose_name_plural = _("催报记录")
        ordering = ["-sent_on"]
        constraints = [
            models.UniqueConstraint(fields=["user", "sent_on"], name="reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.sent_on}"
