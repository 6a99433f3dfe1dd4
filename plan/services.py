from django.db import transaction

from .models import Action, Measure, Milestone, Plan, WorkArea


@transaction.atomic
def copy_plan(plan: Plan, *, year: int, title: str) -> Plan:
    """A new plan for `year` with all of `plan`'s structure (work areas, measures, their
    departments, actions and milestones) and none of its progress."""
    new = Plan.objects.create(
        year=year, title=title, issuer=plan.issuer, issued_on=None, published=False
    )
    areas = {
        area.pk: WorkArea.objects.create(
            plan=new, numeral=area.numeral, title=area.title, order=area.order
        )
        for area in plan.work_areas.all()
    }
    measures = Measure.objects.filter(work_area__plan=plan).prefetch_related(
        "cooperating_units", "responsible_offices", "actions", "milestones"
    )
    actions, milestones = [], []
    for measure in measures:
        copy = Measure.objects.create(
            work_area=areas[measure.work_area_id],
            number=measure.number,
            title=measure.title,
            goal=measure.goal,
            executing_department=measure.executing_department,
            cooperating_text=measure.cooperating_text,
        )
        copy.cooperating_units.set(measure.cooperating_units.all())
        copy.responsible_offices.set(measure.responsible_offices.all())
        actions += [action.copy_for(copy) for action in measure.actions.all()]
        milestones += [milestone.copy_for(copy) for milestone in measure.milestones.all()]
    Action.objects.bulk_create(actions)
    Milestone.objects.bulk_create(milestones)
    return new
