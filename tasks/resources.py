"""Admin import and export of progress reports (see spreadsheets.importing for what every
import shares, plan.resources for the plan's lookups).

Progress reports keep their history and their rules: every row that changes a report is
checked by tasks.services.check_change, the rule the web form, the review and the offline
template obey (the state machine, who may review, a reviewer never reviews their own edit),
and by the version it was exported at (版本号: a report changed since is refused, naming who
changed it and when). Every report an import creates or changes gets a new version and a
ReportVersion by the importing admin with the channel 管理员导入, its event what the row did
(保存草稿, 提交, or 审核通过 / 退回 when the importer holds the reviewer role). Rows are
checked one by one but written in bulk."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone
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

from . import services, signals
from .models import ProgressReport, ReportVersion

State = ProgressReport.State
Event = ReportVersion.Event
REVIEW_EVENTS = (Event.APPROVED, Event.RETURNED)


class VersionField(KeyField):
    """版本号: the version a row was exported at. Not written (the import sets the version);
    kept on the object for the stale check."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        instance._row_version = self.clean(row, **kwargs)


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
    version = VersionField(
        "version", "版本号", IntWidget(minimum=0, maximum=2**31 - 1, required=False)
    )

    key_columns = (
        YEAR,
        MEASURE_NUMBER,
        verbose(Milestone, "label"),
        MILESTONE_ORDER,
        verbose(ProgressReport, "quarter"),
    )
    extra_update_fields = (
        "version",
        "updated_by",
        "updated_at",
        "first_submitted_at",
        "opened_at",
    )

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
            "version",
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

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Rows that change nothing are skipped, and so is a row left as it was exported
        when the report has changed since (the admin did not touch it: no stale refusal)."""
        if super().skip_row(instance, original, row, import_validation_errors):
            return True
        before, exported = instance._import_before, getattr(instance, "_row_version", None)
        if import_validation_errors or before is None or exported in (None, instance.version):
            return False
        if before["review_comment"] != instance.review_comment:
            return False
        then = ReportVersion.objects.filter(report=instance, version=exported).first()
        return then is not None and all(
            getattr(then, name) == getattr(instance, name) for name in ReportVersion.SNAPSHOT_FIELDS
        )

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.user = kwargs.get("user")

    def check_instance(self, instance):
        """The row against the report as it stands: the version it was exported at, then
        services.check_change (the one rule of every write); the event is kept for the
        history."""
        if instance.state != State.DRAFT and not instance.done_text:
            raise ValidationError(
                {
                    "done_text": _("审核状态为“%(state)s”的报告须填写完成情况。")
                    % {"state": instance.get_state_display()}
                }
            )
        if getattr(self, "user", None) is None:
            return  # before_save_instance refuses the import
        before = instance._import_before
        if before is not None and getattr(instance, "_row_version", None) != instance.version:
            raise ValidationError(self.stale(instance))
        content_changed = before is None or any(
            before[name] != getattr(instance, name) for name in services.CONTENT_FIELDS
        )
        try:
            event = services.check_change(
                user=self.user,
                milestone=instance.milestone,
                current=before["state"] if before else None,
                author_id=instance.updated_by_id if before else None,
                state=instance.state,
                content_changed=content_changed,
                comment=instance.review_comment,
                channel=services.Channel.ADMIN,
            )
        except PermissionDenied as refused:
            raise ValidationError(str(refused)) from None
        comment_changed = (before["review_comment"] if before else "") != instance.review_comment
        if comment_changed and event not in REVIEW_EVENTS:
            raise ValidationError(
                {"review_comment": _("审核意见只能在审核(通过或退回)时由审核人填写。")}
            )
        instance._import_event = event

    def stale(self, instance) -> str:
        """A row exported at another version than the report's: who changed it, and when."""
        exported = getattr(instance, "_row_version", None)
        if exported is None:
            return _(
                "该报告已存在(第%(version)s版),这一行缺少版本号。请先导出最新的进展报告,"
                "在导出的文件上修改后再导入。"
            ) % {"version": instance.version}
        last = instance.versions.select_related("by").order_by("-version").first()
        return _(
            "这一行是第%(file)s版,但%(user)s已于%(time)s把报告改为第%(version)s版"
            "(%(state)s,%(percent)s%%)。请先导出最新的进展报告,核对后再导入。"
        ) % {
            "file": exported,
            "user": last.by if last else instance.updated_by,
            "time": timezone.localtime(last.at if last else instance.updated_at).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "version": instance.version,
            "state": State(instance._import_before["state"]).label,
            "percent": instance._import_before["percent"],
        }

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user")
        if user is None or not user.is_authenticated:
            raise ValueError(_("导入进展报告须有操作人。"))
        super().before_save_instance(instance, row, **kwargs)
        existing = instance._import_before is not None
        instance.version = (instance.version if existing else 0) + 1
        event = getattr(instance, "_import_event", None)
        if event not in REVIEW_EVENTS:  # a review leaves the author as it was
            instance.updated_by = user
            instance.updated_at = self.now
        if instance.state != State.DRAFT and instance.first_submitted_at is None:
            instance.first_submitted_at = self.now
        if event == Event.SUBMITTED:
            instance.opened_at = None

    def after_save_all(self, instances, **kwargs):
        """One ReportVersion per report written (channel 管理员导入, event what the row did),
        as tasks.services records one per step; a review records its comment.

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
            column(version_meta, name)
            for name in ("report", "event", "channel", "by", "at", "comment")
        ] + [column(version_meta, name) for name in copied]
        at = version_meta.get_field("at").get_db_prep_save(self.now, connection)
        by_event = {}
        for report in instances:
            by_event.setdefault(report._import_event, []).append(report.pk)
        pk = quote(report_meta.pk.column)
        source = ", ".join(f"r.{column(report_meta, name)}" for name in copied)
        with connection.cursor() as cursor:
            for event, ids in by_event.items():
                comment = (
                    f"r.{column(report_meta, 'review_comment')}" if event in REVIEW_EVENTS else "''"
                )
                for start in range(0, len(ids), 500):
                    batch = ids[start : start + 500]
                    placeholders = ", ".join(["%s"] * len(batch))
                    cursor.execute(
                        f"INSERT INTO {quote(version_meta.db_table)} ({', '.join(target)}) "  # noqa: S608 - names quoted
                        f"SELECT r.{pk}, %s, %s, %s, %s, {comment}, {source} "
                        f"FROM {quote(report_meta.db_table)} r "
                        f"WHERE r.{pk} IN ({placeholders}) ORDER BY r.{pk}",
                        [event, services.Channel.ADMIN, user.pk, at, *batch],
                    )
        self.announce(instances, user)

    def announce(self, instances, user) -> None:
        """What tasks.services announces for each step, inside the import's transaction (a
        preview is rolled back, and with it whatever the receivers wrote)."""
        for report in instances:
            event = report._import_event
            signals.report_changed.send(
                ProgressReport, report=report, user=user, event=event, channel="admin"
            )
            if event in REVIEW_EVENTS:
                signals.report_reviewed.send(
                    ProgressReport,
                    report=report,
                    reviewer=user,
                    approved=event == Event.APPROVED,
                    channel="admin",
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
