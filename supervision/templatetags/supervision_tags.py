"""Pieces of the supervision loop shown on the tasks pages (which know nothing of this app:
their templates only load these tags). Each costs one or two queries."""

from django import template
from django.db.models import F, Func, IntegerField, Q, Subquery

from departments import roles
from departments.roles import roles_of
from plan.models import Plan
from plantracker import clock

from .. import services
from ..models import Instruction, UrgedMilestone, Urging

register = template.Library()


def _count(queryset) -> Subquery:
    """COUNT(*) of a queryset as a subquery, so that several counts make one query."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted[:1], output_field=IntegerField())


@register.inclusion_tag("supervision/includes/banner.html")
def supervision_banner(user, plan):
    """我的工作: urgings the user's offices have not replied to, and instructions they have
    not answered. Two queries."""
    if roles.STAFF not in roles_of(user):
        return {"urgings": [], "instructions": []}
    mine = roles.department_ids(user)
    urgings = Urging.objects.filter(office__in=mine, replied_at__isnull=True).select_related(
        "office"
    )
    instructions = (
        Instruction.objects.of_plan(plan)
        .filter(measure__responsible_offices__in=mine)
        .exclude(answers__office__in=mine)
        .select_related("measure", "author")
        .distinct()
    )
    return {"urgings": list(urgings), "instructions": list(instructions)}


@register.inclusion_tag("supervision/includes/panel.html")
def supervision_panel(plan, quarter):
    """The leaders' dashboard: instructions and escalations in figures, with links to the
    supervision page and the bulletin. One query."""
    today = clock.today()
    instructions = Instruction.objects.of_plan(plan)
    unanswered = instructions.filter(answers__isnull=True)
    escalated = Urging.objects.filter(
        escalated_at__isnull=False,
        replied_at__isnull=True,
        pk__in=UrgedMilestone.objects.filter(milestone__measure__work_area__plan=plan).values(
            "urging"
        ),
    )
    figures = (
        Plan.objects.filter(pk=plan.pk)
        .annotate(
            total=_count(instructions),
            unanswered=_count(unanswered),
            overdue=_count(unanswered.filter(due_on__lt=today)),
            escalated=_count(escalated),
        )
        .values("total", "unanswered", "overdue", "escalated")
        .get()
    )
    return {"plan": plan, "quarter": quarter, "figures": figures}


@register.inclusion_tag("supervision/includes/instructions.html", takes_context=True)
def instructions_on(context, measure, milestone=None):
    """Instructions on a measure (all of them), or on a milestone (its own and its measure's
    general ones), for those who may read them; the leader's button to write one. One query."""
    user = context["user"]
    held = roles_of(user)
    mine = roles.department_ids(user)
    reads = services.may_oversee(user) or (
        roles.STAFF in held and any(o.pk in mine for o in measure.responsible_offices.all())
    )
    if not reads:
        return {"instructions": [], "shown": False}
    items = Instruction.objects.filter(measure=measure).select_related("author", "milestone")
    if milestone is not None:
        items = items.filter(Q(milestone=milestone) | Q(milestone__isnull=True))
    return {
        "shown": True,
        "instructions": list(items),
        "measure": measure,
        "milestone": milestone,
        "may_instruct": services.may_instruct(user),
    }
