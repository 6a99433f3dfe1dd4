"""The public progress page: a published plan with its approved status and percent per
milestone and quarter. No login, no session, no form, no cookie; cached, so it is safe to
put on the bureau's website. Never shows drafts, comments, staff names or evidence."""

import functools
import hashlib

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.http import require_GET

from plan.models import QUARTERS, Measure, Plan

from .models import ProgressReport

PUBLIC_CACHE_SECONDS = 300


def cached_by_publication(view):
    """cache_page keyed by which plans are published (one small query a request): when a
    plan is unpublished (or published), every cached public page stops being served at
    once, in every worker, whatever cache each has. Approvals still show within five
    minutes (README)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        published = Plan.objects.filter(published=True).order_by("pk").values_list("pk")
        key = hashlib.sha256(repr(list(published)).encode()).hexdigest()[:16]
        cached = cache_page(PUBLIC_CACHE_SECONDS, key_prefix=f"public-{key}")(view)
        return cached(request, *args, **kwargs)

    return wrapper


@login_not_required
@require_GET
@cache_control(public=True, max_age=PUBLIC_CACHE_SECONDS)
@cached_by_publication
def public_index(request: HttpRequest) -> HttpResponse:
    return render(request, "public/index.html", {"plans": Plan.objects.filter(published=True)})


@login_not_required
@require_GET
@cache_control(public=True, max_age=PUBLIC_CACHE_SECONDS)
@cached_by_publication
def public_plan(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("issuer"), pk=pk, published=True)
    approved = ProgressReport.objects.approved().only(
        "milestone_id", "quarter", "status", "percent"
    )
    measures = Measure.objects.filter(work_area__plan=plan).prefetch_related(
        "responsible_offices",
        Prefetch("milestones__reports", queryset=approved, to_attr="approved_reports"),
    )
    areas = plan.work_areas.prefetch_related(Prefetch("measures", queryset=measures))
    for area in areas:
        for measure in area.measures.all():
            for milestone in measure.milestones.all():
                by_quarter = {r.quarter: r for r in milestone.approved_reports}
                milestone.public_cells = [
                    (q, q in milestone.quarters, by_quarter.get(q)) for q in QUARTERS
                ]
    return render(request, "public/plan.html", {"plan": plan, "work_areas": areas})
