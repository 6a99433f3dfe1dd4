from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from .models import Plan


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.first()
    if plan is None:
        return render(request, "plan/no_plan.html")
    return redirect("plan-document", pk=plan.pk)


@require_GET
def plan_document(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("issuer"), pk=pk)
    return render(
        request,
        "plan/document.html",
        {"plan": plan, "work_areas": plan.work_areas_for_document(), "plans": Plan.objects.all()},
    )
