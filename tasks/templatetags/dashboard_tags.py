"""Template helpers for the dashboards: links that list exactly the milestones a figure
counts, and people by name."""

from urllib.parse import urlencode

from django import template

from departments.people import display_name

register = template.Library()


@register.simple_tag(takes_context=True)
def figure_link(context, by=None, value=None, **overrides) -> str:
    """The dashboard's query string for a figure: the page's plan, quarter, area and office
    with `overrides` (e.g. status="done", area=3) replacing them, each key once. `by` and
    `value` name one more override whose key is itself a variable (a table's row key)."""
    if by:
        overrides[by] = value
    params = {
        key: value for key, value in context.get("filters", {}).items() if value not in (None, "")
    }
    for key, value in overrides.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params)


@register.filter
def person(user) -> str:
    return display_name(user)
