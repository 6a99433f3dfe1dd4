"""The report form's save is optimistic (tasks.services.save_report with `known`): the rules
are checked against the report as the request read it, and the write changes the row only
if its version is still the one read. A write in between is refused as stale with the newer
version, and nothing is written: no row change, no history entry, no signal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tasks import services, signals
from tasks.models import ProgressReport, ReportVersion

from .test_report_rules import milestone, write
from .test_workspace_views import report_form


def save_known(user, target, quarter, known, base_version, **fields):
    return services.save_report(
        user=user,
        milestone=target,
        quarter=quarter,
        base_version=base_version,
        status="in_progress",
        percent=fields.get("percent", 60),
        done_text=fields.get("done_text", "乐观保存。"),
        problems_text="",
        submit=fields.get("submit", False),
        known=known,
    )


def test_an_optimistic_save_writes_the_row_the_history_and_the_signal(staff, plan_2014):
    target = milestone(7, 4)
    first = write(staff, target, 4)
    sent = []
    receiver = lambda **kwargs: sent.append(kwargs["event"])  # noqa: E731
    signals.report_changed.connect(receiver, weak=False)
    try:
        saved = save_known(staff, target, 4, ProgressReport.objects.get(pk=first.pk), 1)
    finally:
        signals.report_changed.disconnect(receiver)
    row = ProgressReport.objects.get(pk=first.pk)
    assert (saved.version, row.version, row.percent, row.done_text) == (2, 2, 60, "乐观保存。")
    assert row.updated_by == staff
    assert list(ReportVersion.objects.filter(report=row).values_list("version", "percent")) == [
        (1, 50),
        (2, 60),
    ]
    assert sent == ["saved"]


def test_a_write_between_the_read_and_the_save_is_refused_as_stale(staff, plan_2014):
    target = milestone(7, 4)
    first = write(staff, target, 4)
    read = ProgressReport.objects.get(pk=first.pk)  # what the request read (version 1)
    write(staff, target, 4, base_version=1, done_text="另一个窗口的修改。")  # version 2
    sent = []
    receiver = lambda **kwargs: sent.append(kwargs["event"])  # noqa: E731
    signals.report_changed.connect(receiver, weak=False)
    try:
        with pytest.raises(services.StaleEdit) as stale:
            save_known(staff, target, 4, read, 1)
    finally:
        signals.report_changed.disconnect(receiver)
    assert stale.value.report.version == 2  # the newer version, to show
    row = ProgressReport.objects.get(pk=first.pk)
    assert (row.version, row.done_text) == (2, "另一个窗口的修改。")
    assert ReportVersion.objects.filter(report=row).count() == 2
    assert sent == []


def test_the_rules_hold_on_the_optimistic_path(staff, other_staff, reviewer, plan_2014):
    target = milestone(7, 4)
    submitted = write(staff, target, 4, submit=True)
    read = ProgressReport.objects.get(pk=submitted.pk)
    with pytest.raises(ValidationError):  # a submitted report cannot be changed
        save_known(staff, target, 4, read, read.version)
    with pytest.raises(PermissionDenied):  # not the user's office
        save_known(other_staff, target, 4, read, read.version)
    assert ProgressReport.objects.get(pk=submitted.pk).version == read.version


def test_the_form_shows_the_newer_version_after_a_stale_save(client, staff, plan_2014):
    target = milestone(7, 4)
    write(staff, target, 4)
    write(staff, target, 4, base_version=1, done_text="别处的修改。")
    client.force_login(staff)
    url = reverse("report-edit", args=[target.pk, 4])
    response = client.post(url, report_form(1, done_text="旧页面上的修改。"))
    assert response.status_code == 200
    assert response.context["newer"].version == 2
    assert ProgressReport.objects.get(milestone=target, quarter=4).done_text == "别处的修改。"
