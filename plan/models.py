import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

QUARTERS = (1, 2, 3, 4)
QUARTER_CHOICES = [
    (1, _("第一季度")),
    (2, _("第二季度")),
    (3, _("第三季度")),
    (4, _("第四季度")),
]


class PlanQuerySet(models.QuerySet):
    def picked(self, value: str | None) -> "Plan | None":
        """The plan a query string names (?plan=<id>), else the newest; None when there is
        no plan. A value that is not a plausible id is ignored, not an error."""
        value = (value or "").strip()
        chosen = None
        if value.isdecimal() and len(value) <= 18:
            chosen = self.filter(pk=int(value)).first()
        return chosen or self.first()

    def menu(self):
        """(id, year, title) of each plan, newest first: what a plan selector shows
        ({% plan_options %}), without loading whole plans."""
        return self.values_list("pk", "year", "title")


class Plan(models.Model):
    """One year's work plan, e.g. 《重庆市2014年专利事业发展战略推进计划》."""

    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=200)
    issuer = models.ForeignKey(
        "departments.Department",
        verbose_name=_("印发单位"),
        on_delete=models.PROTECT,
        related_name="issued_plans",
    )
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    published = models.BooleanField(_("公开"), default=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("推进计划")
        verbose_name_plural = _("推进计划")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["year", "title"], name="plan_unique_year_title")
        ]

    def __str__(self) -> str:
        return self.title

    def quarter_end(self, quarter: int) -> datetime.date:
        """The last day of `quarter` in the plan's year."""
        return quarter_end(self.year, quarter)

    def report_due(self, quarter: int) -> datetime.date:
        """Reports for `quarter` are due REPORT_DUE_DAYS after the quarter ends."""
        return self.quarter_end(quarter) + datetime.timedelta(days=settings.REPORT_DUE_DAYS)

    def work_areas_for_document(self):
        """Work areas with everything the document layout shows, in six queries whatever
        the plan's size."""
        from tasks.models import Measure

        measures = Measure.objects.select_related("executing_department").prefetch_related(
            "responsible_offices", "actions", "milestones"
        )
        return self.work_areas.prefetch_related(models.Prefetch("measures", queryset=measures))

    def default_quarter(self, today: datetime.date) -> int:
        """The quarter a user reports on when they do not choose: the reporting quarter
        (see reporting_period) in the plan's year, the last one for a past plan, the
        first one for a future plan."""
        year, quarter = reporting_period(today)
        if year < self.year:
            return 1
        if year > self.year:
            return 4
        return quarter


def quarter_end(year: int, quarter: int) -> datetime.date:
    if quarter == 4:
        return datetime.date(year, 12, 31)
    return datetime.date(year, quarter * 3 + 1, 1) - datetime.timedelta(days=1)


def reporting_period(today: datetime.date) -> tuple[int, int]:
    """(year, quarter) offices are reporting on today: the quarter that just ended while its
    reports are not yet due (REPORT_DUE_DAYS after its end), otherwise the current one. On
    5 July that is the second quarter (due 10 July); on 11 July, the third."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    due = quarter_end(*previous) + datetime.timedelta(days=settings.REPORT_DUE_DAYS)
    return previous if today <= due else (year, quarter)


class WorkArea(models.Model):
    """A heading of the plan's table, e.g. (一)完善专利法规政策. Numerals as written: the
    2014 plan skips some, (十一) and (十二) are absent."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("推进计划"), on_delete=models.CASCADE, related_name="work_areas"
    )
    numeral = models.CharField(_("序号"), max_length=10, help_text=_("如“一”“十三”"))
    title = models.CharField(_("名称"), max_length=200)
    order = models.PositiveSmallIntegerField(_("排序"))

    class Meta:
        verbose_name = _("工作领域")
        verbose_name_plural = _("工作领域")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "numeral"], name="workarea_unique_numeral"),
            models.UniqueConstraint(fields=["plan", "order"], name="workarea_unique_order"),
        ]

    def __str__(self) -> str:
        return f"({self.numeral}){self.title}"
