"""{% plan_options plans plan %}: the <option>s of a plan selector (year first, then plan)."""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from plan.models import PlanMenu

register = template.Library()

_PLACEHOLDER = 987654321


@register.simple_tag
def plan_options(plans, current, url_name: str = ""):
    """The <option>s of a plan selector. `plans` is Plan.objects.menu(current, user): the
    plans of the year shown ("2014 · title", the user's units' first, the current plan
    selected), then, in a group of its own, one option per other year ("2015年的计划"),
    which goes to a plan of that year, whose page then lists that year's plans: year first,
    then plan, without script. The value is the plan's id, or the URL `url_name` gives for
    it. Plans themselves or (id, year, title) tuples are listed as they are.

    Built in Python rather than with a template loop: the loop cost some 25 µs an option
    (README, Performance); and a year's plans rather than all of them: a nation holds 3,300.
    """
    if url_name:
        before, _sep, after = reverse(url_name, args=[_PLACEHOLDER]).partition(str(_PLACEHOLDER))
    else:
        before = after = ""
    chosen = getattr(current, "pk", current)

    def option(pk, text: str) -> str:
        selected = " selected" if pk == chosen else ""
        return f'<option value="{escape(f"{before}{pk}{after}")}"{selected}>{escape(text)}</option>'

    if isinstance(plans, PlanMenu):
        shown, years = plans.shown, plans.years
    else:
        shown = [p if isinstance(p, tuple) else (p.pk, p.year, p.title) for p in plans]
        years = []
    # html.escape is what django.utils.html.escape applies (without its per-call overhead).
    html = "".join(option(pk, f"{year} · {title}") for pk, year, title in shown)
    if years:
        shown_label = escape(_("%(year)s年的计划") % {"year": plans.year})
        others_label = escape(_("其他年度"))
        others = "".join(option(pk, _("%(year)s年的计划") % {"year": year}) for year, pk in years)
        html = (
            f'<optgroup label="{shown_label}">{html}</optgroup>'
            f'<optgroup label="{others_label}">{others}</optgroup>'
        )
    return mark_safe(html)  # noqa: S308 - every value is escaped
