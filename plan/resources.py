"""Admin import and export of the plan's measures, actions and milestones, and the lookups
every import of plan rows uses (see spreadsheets.importing for what every import shares).

Rows name what they belong to the way the plan does: the plan by its year, a work area by its
numeral (一, 十三), a measure by its number in that year's plan, a milestone by its measure and
its time label (第一季度, 第二--四季度, 第一阶段), with its order when labels repeat."""

from collections import defaultdict

from django.utils.translation import gettext as _
from import_export import fields

from departments.resources import DepartmentListWidget, DepartmentWidget
from spreadsheets.importing import (
    ChoiceWidget,
    IntWidget,
    KeyField,
    LookupWidget,
    PlanTrackerResource,
    TextWidget,
    parse_int,
    shown,
    verbose,
)

from .models import QUARTER_CHOICES, Action, Measure, Milestone, Plan, WorkArea

YEAR = verbose(Plan, "year")  # 年度
MEASURE_NUMBER = "措施编号"  # a measure's 编号, named apart from an action's
MILESTONE_ORDER = "节点排序"  # a milestone's 排序, named apart


# --- Lookups ----------------------------------------------------------------------------


class PlanWidget(LookupWidget):
    """A plan by its year (there is one plan a year)."""

    def __init__(self):
        super().__init__(Plan)

    def find(self, text, row):
        try:
            year = parse_int(text)
        except ValueError:
            raise ValueError(
                _("应为年份,如2014,不能是“%(value)s”。") % {"value": shown(text)}
            ) from None
        return self.plan(year)

    def plan(self, year: int) -> Plan:
        plans = self.cached(("plans", year), lambda: list(Plan.objects.filter(year=year)))
        if not plans:
            raise ValueError(_("找不到%(year)s年度的推进计划。") % {"year": year})
        if len(plans) > 1:
            raise ValueError(
                _("%(year)s年度有%(count)s个推进计划,无法确定是哪一个。")
                % {"year": year, "count": len(plans)}
            )
        return plans[0]

    def plan_in(self, row, column: str) -> Plan:
        return self.plan(self.year(row, column))

    def label(self, obj):
        return obj.year


class WorkAreaWidget(PlanWidget):
    """A work area by its numeral (一, 十三; "(一)" is taken too) in the plan of the row's year."""

    def __init__(self, year_column: str):
        super().__init__()
        self.model = WorkArea
        self.year_column = year_column
        self.depends_on = (year_column,)

    def find(self, text, row):
        plan = self.plan_in(row, self.year_column)
        areas = self.cached(
            ("areas", plan.pk),
            lambda: {area.numeral: area for area in WorkArea.objects.filter(plan=plan)},
        )
        numeral = text.removeprefix("(").removeprefix("(").removesuffix(")").removesuffix(")")
        if numeral not in areas:
            raise ValueError(
                _("%(year)s年度的推进计划中没有序号为“%(numeral)s”的工作领域。")
                % {"year": plan.year, "numeral": text}
            )
        return areas[numeral]

    def label(self, obj):
        return obj.numeral


class MeasureWidget(PlanWidget):
    """A measure by its number in the plan of the row's year."""

    def __init__(self, year_column: str):
        super().__init__()
        self.model = Measure
        self.year_column = year_column
        self.depends_on = (year_column,)

    def measures(self, plan: Plan) -> dict[int, list[Measure]]:
        def build():
            index = defaultdict(list)
            for measure in Measure.objects.filter(work_area__plan=plan).select_related(
                "work_area__plan"
            ):
                index[measure.number].append(measure)
            return index

        return self.cached(("measures", plan.pk), build)

    def measure(self, plan: Plan, number) -> Measure:
        found = self.measures(plan).get(number, [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(
                _("%(year)s年度的推进计划中没有编号为%(number)s的工作措施。")
                % {"year": plan.year, "number": number}
            )
        raise ValueError(
            _("%(year)s年度的推进计划中有%(count)s个编号为%(number)s的工作措施,无法确定是哪一个。")
            % {"year": plan.year, "number": number, "count": len(found)}
        )

    def find(self, text, row):
        plan = self.plan_in(row, self.year_column)
        try:
            number = parse_int(text)
        except ValueError:
            raise ValueError(_("应为整数,不能是“%(value)s”。") % {"value": shown(text)}) from None
        return self.measure(plan, number)

    def label(self, obj):
        return obj.number


class MilestoneWidget(MeasureWidget):
    """A milestone by its time label (第一季度, 第二--四季度, 第一阶段 …) in the measure of the
    row's year and measure number; by its order as well when the order column is filled,
    which is needed when a measure has two milestones with the same label."""

    def __init__(self, year_column: str, number_column: str, order_column: str):
        super().__init__(year_column)
        self.model = Milestone
        self.number_column, self.order_column = number_column, order_column
        self.depends_on = (year_column, number_column, order_column)

    def milestones(self, plan: Plan) -> dict[int, list[Milestone]]:
        def build():
            # Each milestone gets the measure (with its work area and plan) of the measure
            # index rather than copies of its own from select_related: four objects fewer a
            # milestone.
            measures = {m.pk: m for group in self.measures(plan).values() for m in group}
            index = defaultdict(list)
            for milestone in Milestone.objects.filter(measure__work_area__plan=plan):
                if milestone.measure_id in measures:
                    milestone.measure = measures[milestone.measure_id]
                index[milestone.measure_id].append(milestone)
            return index

        return self.cached(("milestones", plan.pk), build)

    def find(self, text, row):
        plan = self.plan_in(row, self.year_column)
        measure = self.measure(plan, parse_int(row[self.number_column]))
        candidates = self.milestones(plan).get(measure.pk, [])
        order = row.get(self.order_column)
        params = {"number": measure.number, "label": text, "column": self.order_column}
        if not (order is None or str(order).strip() == ""):
            params["order"] = order = parse_int(order)
            found = [m for m in candidates if m.order == order]
            if not found:
                raise ValueError(
                    _("编号为%(number)s的工作措施没有排序为%(order)s的进度节点。") % params
                )
            if found[0].label != text:
                params["actual"] = found[0].label
                raise ValueError(
                    _(
                        "编号为%(number)s的工作措施排序为%(order)s的进度节点时间是“%(actual)s”,"
                        "不是“%(label)s”。"
                    )
                    % params
                )
            return found[0]
        found = [m for m in candidates if m.label == text]
        if len(found) == 1:
            return found[0]
        if not found:
            params["labels"] = "、".join(m.label for m in candidates) or _("(无)")
            raise ValueError(
                _("编号为%(number)s的工作措施没有时间为“%(label)s”的进度节点(有:%(labels)s)。")
                % params
            )
        params["count"] = len(found)
        raise ValueError(
            _(
                "编号为%(number)s的工作措施有%(count)s个时间为“%(label)s”的进度节点,"
                "请在“%(column)s”列填写它的排序。"
            )
            % params
        )

    def label(self, obj):
        return obj.label


# --- The plan's structure ----------------------------------------------------------------


class MeasureResource(PlanTrackerResource):
    year = KeyField("work_area__plan", YEAR, PlanWidget())
    work_area = fields.Field("work_area", verbose(Measure, "work_area"), WorkAreaWidget(YEAR))
    number = fields.Field("number", verbose(Measure, "number"), IntWidget(minimum=1, maximum=32767))
    title = fields.Field("title", verbose(Measure, "title"), TextWidget())
    goal = fields.Field("goal", verbose(Measure, "goal"), TextWidget())
    executing_department = fields.Field(
        "executing_department", verbose(Measure, "executing_department"), DepartmentWidget()
    )
    responsible_offices = fields.Field(
        "responsible_offices",
        verbose(Measure, "responsible_offices"),
        DepartmentListWidget(required=True),
    )
    cooperating_units = fields.Field(
        "cooperating_units", verbose(Measure, "cooperating_units"), DepartmentListWidget()
    )
    cooperating_text = fields.Field(
        "cooperating_text", verbose(Measure, "cooperating_text"), TextWidget()
    )

    key_columns = (YEAR, verbose(Measure, "number"))

    class Meta:
        model = Measure
        fields = import_order = export_order = (
            "year",
            "work_area",
            "number",
            "title",
            "goal",
            "executing_department",
            "responsible_offices",
            "cooperating_units",
            "cooperating_text",
        )
        import_id_fields = ("year", "number")

    def existing_queryset(self, dataset):
        return (
            Measure.objects.filter(work_area__plan__year__in=self.years_in(dataset, YEAR))
            .select_related("work_area")
            .prefetch_related("responsible_offices", "cooperating_units")
        )

    def instance_key(self, instance):
        return (instance.work_area.plan_id, instance.number)

    def row_key(self, row):
        return (self.fields["year"].clean(row).pk, self.fields["number"].clean(row))

    def export_queryset(self, queryset):
        return queryset.select_related("work_area__plan", "executing_department").prefetch_related(
            "responsible_offices", "cooperating_units"
        )


class ActionResource(PlanTrackerResource):
    year = KeyField("measure__work_area__plan", YEAR, PlanWidget())
    measure = fields.Field("measure", MEASURE_NUMBER, MeasureWidget(YEAR))
    number = fields.Field("number", verbose(Action, "number"), IntWidget(minimum=1, maximum=32767))
    text = fields.Field("text", verbose(Action, "text"), TextWidget())

    key_columns = (YEAR, MEASURE_NUMBER, verbose(Action, "number"))

    class Meta:
        model = Action
        fields = import_order = export_order = ("year", "measure", "number", "text")
        import_id_fields = ("measure", "number")

    def existing_queryset(self, dataset):
        return Action.objects.filter(
            measure__work_area__plan__year__in=self.years_in(dataset, YEAR)
        )

    def instance_key(self, instance):
        return (instance.measure_id, instance.number)

    def row_key(self, row):
        return (self.fields["measure"].clean(row).pk, self.fields["number"].clean(row))

    def export_queryset(self, queryset):
        return queryset.select_related("measure__work_area__plan")


class MilestoneResource(PlanTrackerResource):
    year = KeyField("measure__work_area__plan", YEAR, PlanWidget())
    measure = fields.Field("measure", MEASURE_NUMBER, MeasureWidget(YEAR))
    order = fields.Field("order", verbose(Milestone, "order"), IntWidget(minimum=1, maximum=32767))
    label = fields.Field("label", verbose(Milestone, "label"), TextWidget())
    first_quarter = fields.Field(
        "first_quarter",
        verbose(Milestone, "first_quarter"),
        ChoiceWidget(QUARTER_CHOICES, required=False),
    )
    last_quarter = fields.Field(
        "last_quarter",
        verbose(Milestone, "last_quarter"),
        ChoiceWidget(QUARTER_CHOICES, required=False),
    )
    text = fields.Field("text", verbose(Milestone, "text"), TextWidget())

    key_columns = (YEAR, MEASURE_NUMBER, verbose(Milestone, "order"))

    class Meta:
        model = Milestone
        fields = import_order = export_order = (
            "year",
            "measure",
            "order",
            "label",
            "first_quarter",
            "last_quarter",
            "text",
        )
        import_id_fields = ("measure", "order")

    def existing_queryset(self, dataset):
        return Milestone.objects.filter(
            measure__work_area__plan__year__in=self.years_in(dataset, YEAR)
        )

    def instance_key(self, instance):
        return (instance.measure_id, instance.order)

    def row_key(self, row):
        return (self.fields["measure"].clean(row).pk, self.fields["order"].clean(row))

    def export_queryset(self, queryset):
        return queryset.select_related("measure__work_area__plan")
