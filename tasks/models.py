from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from plan.models import QUARTER_CHOICES


class Measure(models.Model):
    """A 工作措施 item of the plan, under its own number (the 2014 plan's run 2, 3, 4, 7 …)."""

    work_area = models.ForeignKey(
        "plan.WorkArea",
        verbose_name=_("工作领域"),
        on_delete=models.CASCADE,
        related_name="measures",
    )
    number = models.PositiveSmallIntegerField(_("编号"))
    title = models.CharField(_("工作措施"), max_length=300)
    goal = models.TextField(_("工作目标"))
    executing_department = models.ForeignKey(
        "departments.Department",
        verbose_name=_("执行部门"),
        on_delete=models.PROTECT,
        related_name="executed_measures",
    )
    cooperating_units = models.ManyToManyField(
        "departments.Department",
        verbose_name=_("配合单位"),
        related_name="cooperating_measures",
        blank=True,
    )
    cooperating_text = models.CharField(
        _("配合单位(原文)"),
        max_length=300,
        blank=True,
        help_text=_("配合单位一栏的原文写法,用于按文件格式显示和导出。"),
    )
    responsible_offices = models.ManyToManyField(
        "departments.Department",
        verbose_name=_("责任处室"),
        related_name="responsible_measures",
    )

    class Meta:
        verbose_name = _("工作措施")
        verbose_name_plural = _("工作措施")
        ordering = ["work_area__order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["work_area", "number"], name="measure_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}.{self.title}"


class Action(models.Model):
    """A numbered 具体措施 of a measure."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("工作措施"), on_delete=models.CASCADE, related_name="actions"
    )
    number = models.PositiveSmallIntegerField(_("编号"))
    text = models.TextField(_("具体措施"))

    class Meta:
        verbose_name = _("具体措施")
        verbose_name_plural = _("具体措施")
        ordering = ["measure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "number"], name="action_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}.{self.text[:40]}"


class MilestoneQuerySet(models.QuerySet):
    def scheduled_in(self, quarter: int):
        """Milestones due in `quarter`: a span (第二--四季度) is due in each quarter it covers."""
        return self.filter(first_quarter__lte=quarter, last_quarter__gte=quarter)

    def unscheduled(self):
        return self.filter(first_quarter__isnull=True)


class Milestone(models.Model):
    """An entry of 进度安排: a label as written (第一季度, 第二--四季度, 第一阶段 …), the
    quarters it spans, and its text. A phase with no quarter is unscheduled until an admin
    sets its quarters."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("工作措施"), on_delete=models.CASCADE, related_name="milestones"
    )
    order = models.PositiveSmallIntegerField(_("排序"))
    label = models.CharField(_("时间"), max_length=30)
    first_quarter = models.PositiveSmallIntegerField(
        _("起始季度"), choices=QUARTER_CHOICES, null=True, blank=True
    )
    last_quarter = models.PositiveSmallIntegerField(
        _("截止季度"), choices=QUARTER_CHOICES, null=True, blank=True
    )
    text = models.TextField(_("进度安排"))

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("进度节点")
        verbose_name_plural = _("进度节点")
        ordering = ["measure", "order"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "order"], name="milestone_unique_order"),
            models.CheckConstraint(
                condition=(
                    models.Q(first_quarter__isnull=True, last_quarter__isnull=True)
                    | models.Q(
                        first_quarter__gte=1,
                        last_quarter__lte=4,
                        first_quarter__lte=models.F("last_quarter"),
                    )
                ),
                name="milestone_quarters_span",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label},{self.text[:40]}"

    def clean(self):
        if (self.first_quarter is None) != (self.last_quarter is None):
            raise ValidationError(_("起始季度和截止季度须同时填写,或同时留空(未排期)。"))
        if self.first_quarter and self.first_quarter > self.last_quarter:
            raise ValidationError(_("起始季度不能晚于截止季度。"))

    @property
    def scheduled(self) -> bool:
        return self.first_quarter is not None

    @property
    def quarters(self) -> range:
        if not self.scheduled:
            return range(0)
        return range(self.first_quarter, self.last_quarter + 1)
