"""Admin import and export of progress reports (see spreadsheets.importing for what every
import shares, plan.resources for the plan's lookups).

Progress reports keep their history: every report an import creates or changes gets a new
version and a ReportVersion (Excel导入) by the importing admin, as tasks.services does for
the web form, and is checked by the same rules (0–100%, 已完成 needs 100%, a quarter the
milestone spans, 完成情况 once submitted)."""

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from import_export import fields

from plan.models import QUARTER_CHOICES, Milestone
from plan.resources import (
    MEASURE_NUMBER,
    MILESTONE_ORDER,
    YEAR,
    MeasureWidget,
    MilestoneWidget,
    PlanWidget,
)
from spreadsheets.importing import (
    ChoiceWidget,
    IntWidget,
    KeyField,
    PlanTrackerResource,
    TextWidget,
    verbose,
)

from .models import ProgressReport, ReportVersion

State = ProgressReport.State


# --- Progress reports -------------------------------------------------------------------


class ProgressReportResource(PlanTrackerResource):
    year = KeyField("milestone__measure__work_area__plan", YEAR, PlanWidget())
    measure = KeyField("milestone__measure", MEASURE_NUMBER, MeasureWidget(YEAR))
    milestone = fields.Field(
        "milestone",
        verbose(Milestone, "label"),
        MilestoneWidget(YEAR, MEASURE_NUMBER, MILESTONE_ORDER),
    )
    milestone_order = KeyField(
        "milestone__order", MILESTONE_ORDER, IntWidget(minimum=1, maximum=32767, required=False)
    )
    quarter = fields.Field(
        "quarter", verbose(ProgressReport, "quarter"), ChoiceWidget(QUARTER_CHOICES)
    )
    status = fields.Field(
        "status", verbose(ProgressReport, "status"), ChoiceWidget(ProgressReport.Status.choices)
    )
    percent = fields.Field(
        "percent",
        verbose(ProgressReport, "percent"),
        IntWidget(minimum=0, maximum=100, percent=True),
    )
    done_text = fields.Field("done_text", verbose(ProgressReport, "done_text"), TextWidget())
    problems_text = fields.Field(
        "problems_text", verbose(ProgressReport, "problems_text"), TextWidget()
    )
    state = fields.Field("state", verbose(ProgressReport, "state"), ChoiceWidget(State.choices))
    review_comment = fields.Field(
        "review_comment", verbose(ProgressReport, "review_comment"), TextWidget()
    )

    key_columns = (
        YEAR,
        MEASURE_NUMBER,
        verbose(Milestone, "label"),
        MILESTONE_ORDER,
        verbose(ProgressReport, "quarter"),
    )
    extra_update_fields = ("version", "updated_by", "updated_at", "first_submitted_at")

    class Meta:
        model = ProgressReport
        fields = import_order = export_order = (
            "year",
            "measure",
            "milestone",
            "milestone_order",
            "quarter",
            "status",
            "percent",
            "done_text",
            "problems_text",
            "state",
            "review_comment",
        )
        import_id_fields = ("milestone", "quarter")

    def existing_queryset(self, dataset):
        reports = ProgressReport.objects.filter(
            milestone__measure__work_area__plan__year__in=self.years_in(dataset, YEAR)
        )
        if connections[self.get_db_connection_name()].in_atomic_block:
            # Hold the rows against the web form's save_report until the import ends.
            reports = reports.select_for_update()
        return reports

    def instance_key(self, instance):
        return (instance.milestone_id, instance.quarter)

    def row_key(self, row):
        return (self.fields["milestone"].clean(row).pk, self.fields["quarter"].clean(row))

    def check_instance(self, instance):
        """What tasks.services.save_report asks before submitting."""
        if instance.state != State.DRAFT and not instance.done_text:
            raise ValidationError(
                {
                    "done_text": _("审核状态为“%(state)s”的报告须填写完成情况。")
                    % {"state": instance.get_state_display()}
                }
            )

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user")
        if user is None or not user.is_authenticated:
            raise ValueError(_("导入进展报告须有操作人。"))
        super().before_save_instance(instance, row, **kwargs)
        existing = instance._import_before is not None
        instance.version = (instance.version if existing else 0) + 1
        instance.updated_by = user
        instance.updated_at = self.now
        if instance.state != State.DRAFT and instance.first_submitted_at is None:
            instance.first_submitted_at = self.now

    def after_save_all(self, instances, **kwargs):
        """One ReportVersion (Excel导入) per report written, as tasks.services records one
        per step; the review comment is recorded when the file changed it.

        Copied from the report rows just written by INSERT … SELECT, 500 reports a statement:
        building 10,000 ReportVersion objects for bulk_create took a quarter of a 10,000-row
        import (README, Performance)."""
        user = kwargs["user"]
        connection = connections[self.get_db_connection_name()]
        quote = connection.ops.quote_name
        version_meta, report_meta = ReportVersion._meta, ProgressReport._meta

        def column(meta, name):
            return quote(meta.get_field(name).column)

        copied = ("version", *ReportVersion.SNAPSHOT_FIELDS)
        target = [
            column(version_meta, name) for name in ("report", "event", "by", "at", "comment")
        ] + [column(version_meta, name) for name in copied]
        at = version_meta.get_field("at").get_db_prep_save(self.now, connection)
        with_comment, without_comment = [], []
        for report in instances:
            before = report._import_before
            changed = before is None or before["review_comment"] != report.review_comment
            (with_comment if changed else without_comment).append(report.pk)
        pk = quote(report_meta.pk.column)
        source = ", ".join(f"r.{column(report_meta, name)}" for name in copied)
        with connection.cursor() as cursor:
            for ids, comment in (
                (with_comment, f"r.{column(report_meta, 'review_comment')}"),
                (without_comment, "''"),
            ):
                for start in range(0, len(ids), 500):
                    batch = ids[start : start + 500]
                    placeholders = ", ".join(["%s"] * len(batch))
                    cursor.execute(
                        f"INSERT INTO {quote(version_meta.db_table)} ({', '.join(target)}) "  # noqa: S608 - names quoted
                        f"SELECT r.{pk}, %s, %s, %s, {comment}, {source} "
                        f"FROM {quote(report_meta.db_table)} r "
                        f"WHERE r.{pk} IN ({placeholders}) ORDER BY r.{pk}",
                        [ReportVersion.Event.IMPORTED, user.pk, at, *batch],
                    )

    def export_queryset(self, queryset):
        return queryset  # the milestones come in iter_queryset

    def iter_queryset(self, queryset):
        """The reports, each with its milestone, measure, work area and plan taken from one
        query for the milestones of them all: select_related built those four objects again
        for every report (30,000 more objects for 10,000 reports)."""
        if not isinstance(queryset, QuerySet):
            yield from super().iter_queryset(queryset)
            return
        milestones = Milestone.objects.filter(
            pk__in=queryset.order_by().values("milestone_id")
        ).select_related("measure__work_area__plan")
        milestones = {milestone.pk: milestone for milestone in milestones}
        measures = {}
        for milestone in milestones.values():  # one measure object per measure
            milestone.measure = measures.setdefault(milestone.measure_id, milestone.measure)
        for report in super().iter_queryset(queryset):
            report.milestone = milestones[report.milestone_id]
            yield report
