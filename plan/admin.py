from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.admin_a11y import LabelledListEditableMixin

from . import services
from .models import Plan, WorkArea


class WorkAreaInline(admin.TabularInline):
    model = WorkArea
    extra = 0


class CopyPlanForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("新年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=gettext_lazy("新计划标题"), max_length=200)

    def clean(self):
        data = super().clean()
        if Plan.objects.filter(year=data.get("year"), title=data.get("title")).exists():
            raise forms.ValidationError(_("该年度已有同名计划。"))
        return data


@admin.register(Plan)
class PlanAdmin(LabelledListEditableMixin, admin.ModelAdmin):
    list_display = ["title", "year", "issuer", "issued_on", "published"]
    list_editable = ["published"]
    list_filter = ["year", "published"]
    search_fields = ["title"]
    inlines = [WorkAreaInline]
    actions = ["copy_to_new_year"]

    @admin.action(description=gettext_lazy("复制到新年度(结构,不含进展)"))
    def copy_to_new_year(self, request, queryset):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个计划进行复制。"), messages.ERROR)
            return None
        plan = queryset.get()
        if "year" in request.POST:
            form = CopyPlanForm(request.POST)
            if form.is_valid():
                new = services.copy_plan(plan, **form.cleaned_data)
                self.message_user(
                    request, _("已复制为“%(title)s”。") % {"title": new.title}, messages.SUCCESS
                )
                return redirect("admin:plan_plan_change", new.pk)
        else:
            year = plan.year + 1
            form = CopyPlanForm(
                initial={"year": year, "title": plan.title.replace(str(plan.year), str(year))}
            )
        return TemplateResponse(
            request,
            "admin/plan/copy_plan.html",
            {
                **self.admin_site.each_context(request),
                "plan": plan,
                "form": form,
                "opts": self.model._meta,
                "title": _("复制计划"),
            },
        )


@admin.register(WorkArea)
class WorkAreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "order"]
    list_filter = ["plan"]
    search_fields = ["title"]
