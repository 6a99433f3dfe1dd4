"""Builders for progress data, going through the same services the views use."""

from departments import roles
from departments.models import Department
from plan.models import Milestone
from tasks import services

from .conftest import make_user


def office_user(office: Department):
    """A staff account for `office`, made once."""
    username = f"staff-{office.pk}"
    user = office.members.filter(username=username).first()
    return user or make_user(username, roles.STAFF, office)


def report(
    milestone: Milestone,
    quarter: int,
    *,
    percent=50,
    status="in_progress",
    state="approved",
    reviewer=None,
    text="按计划推进。",
):
    """A report for `milestone` in `quarter`, taken to `state` (draft, submitted, returned,
    approved) by the responsible office's staff and `reviewer`."""
    office = milestone.measure.responsible_offices.filter(generic=False).first()
    author = office_user(office)
    result = services.save_report(
        user=author,
        milestone=milestone,
        quarter=quarter,
        base_version=0,
        status=status,
        percent=percent,
        done_text=text,
        problems_text="",
        submit=state != "draft",
    )
    if state in ("approved", "returned"):
        result = services.review_report(
            reviewer=reviewer,
            report_id=result.pk,
            base_version=result.version,
            approve=state == "approved",
            comment="" if state == "approved" else "请补充。",
        )
    return result


def import_plan(data: bytes, *, dry_run: bool = False):
    """A plan file loaded as the intake loads it when nothing needs an answer (the export
    layout, departments that exist): plan.intake.apply.Refused lists every problem."""
    from plan.intake.apply import Refused, load
    from plan.intake.readers import read_plan

    parsed = read_plan(data)
    if parsed.errors:
        raise Refused(parsed.errors)
    return load(parsed, dry_run=dry_run)
