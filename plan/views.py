from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from departments import roles

from .models import Plan


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page: office staff on their work, reviewers on their
    queue, leaders on the dashboard, everybody else on the plan."""
    held = roles.roles_of(request.user)
    if roles.STAFF in held:
        return redirect("my-work")
    if roles.UNIT in held:
        return redirect("unit-work")
    if roles.REVIEWER in held:
        return redirect("review-queue")
    if roles.LEADER in held:
        return redirect("dashboard")
    return latest_plan(request)


@require_GET
def latest_plan(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.readable_by(request.user).first()
    if plan is None:
        return render(request, "plan/no_plan.html")
    return redirect("plan-document", pk=plan.pk)


@require_GET
def plan_document(request: HttpRequest, pk: int) -> HttpResponse:
    # A plan the user may not read is, for him, one that does not exist (404, not 403).
    plans = Plan.objects.readable_by(request.user)
    plan = get_object_or_404(plans.select_related("issuer"), pk=pk)
    return render(
        request,
        "plan/document.html",
        {
            "plan": plan,
            "work_areas": plan.work_areas_for_document(),
            "plans": plans.menu(plan, request.user),
            "may_export": roles.may_view_dashboard(request.user),
            "revisions": plan.revisions.select_related("by")[:50],
        },
    )


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """A logged-in session check: 200 "ok" (anonymous users are sent to log in). The load
    balancer's health check and the benchmark's baseline for a trivial logged-in view."""
    return HttpResponse("ok", content_type="text/plain")
