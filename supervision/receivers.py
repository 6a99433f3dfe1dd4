"""Notices on what happens in tasks, received through tasks.signals."""

from django.urls import reverse
from django.utils.translation import gettext as _

from . import services
from .models import Notice


def _offices(milestone):
    return [office.pk for office in services.responsible_offices(milestone.measure)]


@services.in_site_language
def report_reviewed(sender, *, report, reviewer, approved, **kwargs):
    """The responsible office's staff learn of an approval, or of a return with its comment."""
    milestone = report.milestone
    what = f"{milestone.measure.number}.{milestone.measure.title} · {milestone.label}"
    if approved:
        kind = Notice.Kind.APPROVED
        text = _("%(what)s(%(quarter)s)的报告已审核通过。") % {
            "what": what,
            "quarter": report.get_quarter_display(),
        }
    else:
        kind = Notice.Kind.RETURNED
        text = _("%(what)s(%(quarter)s)的报告被退回,审核意见:%(comment)s") % {
            "what": what,
            "quarter": report.get_quarter_display(),
            "comment": report.review_comment,
        }
    services.notify(
        services.staff_of(_offices(milestone)),
        kind,
        text,
        reverse("report-detail", args=[report.pk]),
    )


@services.in_site_language
def contribution_saved(sender, *, contribution, **kwargs):
    """The responsible office's staff learn that a cooperating unit has reported (the first
    time; corrections are seen on the report page)."""
    if contribution.version != 1:
        return
    milestone = contribution.milestone
    services.notify(
        services.staff_of(_offices(milestone)),
        Notice.Kind.CONTRIBUTION,
        _("配合单位%(unit)s报送了%(what)s(%(quarter)s)的工作情况。")
        % {
            "unit": contribution.unit.name,
            "what": f"{milestone.measure.number}.{milestone.measure.title} · {milestone.label}",
            "quarter": contribution.get_quarter_display(),
        },
        reverse("report-edit", args=[milestone.pk, contribution.quarter]),
    )
