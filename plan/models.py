import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

QUARTERS = (1, 2, 3, 4)
QUARTER_CHOICES = [
    (1, _("第一季度")),
    (2, _("第二季度")),
    (3, _("第三季度")),
    (4, _("第四季度")),
]

# The longest text of a plan's goal, action or schedule entry (the 2014 plan's longest: 188).
PLAN_TEXT_MAX = 2000


def text_limit(size: int) -> dict:
    """A TextField's bound: max_length for forms, a validator for full_clean (Django's
    TextField checks neither by itself)."""
    return {"max_length": size, "validators": [MaxLengthValidator(size)]}


class PlanQuerySet(models.QuerySet):
    def picked(self, value: str | None, today: datetime.date | None = None) -> "Plan | None":
        """The plan a query string names (?plan=<id>), else the plan of the year offices are
        reporting on `today` (on 5 January that is last year's: its fourth quarter's reports
        are due on the 10th, even when next year's plan is loaded), else the newest; None
        when there is no plan. A value that is not a plausible id is ignored, not an error."""
        value = (value or "").strip()
        chosen = None
        if value.isdecimal() and len(value) <= 18:
            chosen = self.filter(pk=int(value)).first()
        if chosen is not None:
            return chosen
        if today is None:
            return self.first()
        # The reporting year's plan, else the newest: in one query.
        from django.db.models import Case, Value, When

        first = Case(When(year=reporting_period(today)[0], then=Value(0)), default=Value(1))
        return self.order_by(first, *Plan._meta.ordering).first()

    def readable_by(self, user) -> "PlanQuerySet":
        """The plans whose whole structure `user` may read: every plan for the bureau's own
        roles (office staff, reviewers, leaders, admins); only published ones for anyone
        else (a cooperating unit sees the measures it cooperates on in its own workspace)."""
        from departments import roles

        if roles.roles_of(user) & {roles.STAFF, roles.REVIEWER, roles.LEADER, roles.ADMIN}:
            return self
        return self.filter(published=True)

    def menu(self, current=None, user=None) -> "PlanMenu":
        """What a plan selector shows ({% plan_options %}), in one query and without loading
        whole plans: the plans of the current plan's year (of the newest year when there is
        none), those issued by the user's own units first; and for every other year one
        plan to go to (one of the user's units' when there is one), so that a nation of
        3,300 plans is picked year first, then plan, server-rendered and without script."""
        from django.db.models import Min, Q, Subquery

        from departments.models import Department

        plans = self.order_by()
        year = getattr(current, "year", None)
        year_filter = (
            Q(year=year)
            if year is not None
            else Q(year=Subquery(plans.order_by("-year").values("year")[:1]))
        )
        own_units = (
            Department.objects.filter(members=user).values("pk")
            if user is not None and user.is_authenticated
            else Department.objects.none().values("pk")
        )
        first_of_year = plans.values("year").annotate(first=Min("pk")).values("first")
        own_first_of_year = (
            plans.filter(issuer_id__in=own_units)
            .values("year")
            .annotate(first=Min("pk"))
            .values("first")
        )
        rows = (
            plans.filter(year_filter | Q(pk__in=first_of_year) | Q(pk__in=own_first_of_year))
            .annotate(own=Q(issuer_id__in=own_units))
            .values_list("pk", "year", "title", "own")
        )
        return PlanMenu(rows, getattr(current, "pk", current), year)


class PlanMenu:
    """A plan selector's options (PlanQuerySet.menu): `shown` are the plans of the year
    shown (own units' first, then by title), `years` one (year, plan id) per other year,
    newest first. Evaluated once, when a template first asks."""

    def __init__(self, rows, current, year):
        self._rows, self.current, self._year = rows, current, year
        self._done = None

    def _evaluate(self):
        if self._done is None:
            rows = list(self._rows)
            year = self._year
            if year is None:
                chosen = [r for r in rows if r[0] == self.current]
                year = chosen[0][1] if chosen else max((r[1] for r in rows), default=None)
            shown = sorted((r for r in rows if r[1] == year), key=lambda r: (not r[3], r[2]))
            others: dict[int, tuple] = {}
            for row in sorted(rows, key=lambda r: (not r[3], r[0])):
                if row[1] != year:
                    others.setdefault(row[1], row)
            years = [(y, others[y][0]) for y in sorted(others, reverse=True)]
            self._done = ([(r[0], r[1], r[2]) for r in shown], years, year)
        return self._done

    @property
    def shown(self) -> list[tuple]:
        return self._evaluate()[0]

    @property
    def years(self) -> list[tuple]:
        return self._evaluate()[1]

    @property
    def year(self):
        return self._evaluate()[2]

    def __len__(self) -> int:
        return len(self.shown) + len(self.years)

    def __iter__(self):
        return iter(self.shown)


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
    goal = models.TextField(_("工作目标"), **text_limit(PLAN_TEXT_MAX))
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
        db_table = "tasks_measure"  # created by the tasks app before the model moved here
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
    text = models.TextField(_("具体措施"), **text_limit(PLAN_TEXT_MAX))

    class Meta:
        db_table = "tasks_action"  # created by the tasks app before the model moved here
        verbose_name = _("具体措施")
        verbose_name_plural = _("具体措施")
        ordering = ["measure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "number"], name="action_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}.{self.text[:40]}"

    def copy_for(self, measure: "Measure") -> "Action":
        """An unsaved copy under `measure` (a plan copied to a new year)."""
        return Action(measure=measure, number=self.number, text=self.text)


class MilestoneQuerySet(models.QuerySet):
    def scheduled_in(self, quarter: int):
        """Milestones due in `quarter`: a span (第二--四季度) is due in each quarter it covers."""
        return self.filter(first_quarter__lte=quarter, last_quarter__gte=quarter)

    def unscheduled(self):
        return self.filter(first_quarter__isnull=True)

    def in_force(self, on: datetime.date | None = None):
        """Milestones the plan holds (on date `on`, else now): not retired by a revision
        (计划调整) by then. A retired milestone keeps its reports but is out of the figures
        from its retirement on: figures for a quarter that ended before it still count it."""
        if on is None:
            return self.filter(retired_on__isnull=True)
        return self.filter(models.Q(retired_on__isnull=True) | models.Q(retired_on__gt=on))


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
    text = models.TextField(_("进度安排"), **text_limit(PLAN_TEXT_MAX))
    retired_on = models.DateField(
        _("调整取消日期"),
        null=True,
        blank=True,
        help_text=_("计划调整时取消、但已有进展报告的节点:保留报告,自此日起不计入统计。"),
    )

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        db_table = "tasks_milestone"  # created by the tasks app before the model moved here
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

    def copy_for(self, measure: Measure) -> "Milestone":
        """An unsaved copy under `measure`, with its label, text and quarters."""
        return Milestone(
            measure=measure,
            order=self.order,
            label=self.label,
            text=self.text,
            first_quarter=self.first_quarter,
            last_quarter=self.last_quarter,
        )

    @property
    def scheduled(self) -> bool:
        return self.first_quarter is not None

    @property
    def quarters(self) -> range:
        if not self.scheduled:
            return range(0)
        return range(self.first_quarter, self.last_quarter + 1)


def revision_path(instance, filename: str) -> str:
    return f"plan_revisions/{instance.plan_id}/{filename}"


class PlanRevision(models.Model):
    """A plan loaded from a file or revised from one (计划调整): who, when, what changed, the
    file. Shown on the plan page as its revision history."""

    class Kind(models.TextChoices):
        CREATED = "created", _("导入")
        REVISED = "revised", _("计划调整")

    plan = models.ForeignKey(
        Plan, verbose_name=_("推进计划"), on_delete=models.CASCADE, related_name="revisions"
    )
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    file = models.FileField(_("文件"), upload_to=revision_path, max_length=200, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    counts = models.JSONField(_("数量"), default=dict)
    changes = models.JSONField(_("变化"), default=list, help_text=_("每项变化一行。"))

    class Meta:
        verbose_name = _("计划调整记录")
        verbose_name_plural = _("计划调整记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.plan} {self.get_kind_display()} {self.at:%Y-%m-%d}"

    @property
    def summary(self) -> str:
        """这次调整的数量: 新增2项、修改3项、取消1项."""
        counts = self.counts or {}
        parts = [
            _("新增%(n)s项") % {"n": counts.get("added", 0)},
            _("修改%(n)s项") % {"n": counts.get("changed", 0)},
            _("删除%(n)s项") % {"n": counts.get("removed", 0)},
            _("调整取消%(n)s项") % {"n": counts.get("retired", 0)},
        ]
        return "、".join(parts)
