from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments import roles
from departments.admin_a11y import LabelledListEditableMixin
from departments.models import Department
from departments.resources import AdminImportExportMixin

from . import services
from .intake import uploads
from .intake.model import FIELDS
from .intake.service import intake
from .models import QUARTER_CHOICES, Action, Measure, Milestone, Plan, PlanRevision, WorkArea
from .resources import ActionResource, MeasureResource, MilestoneResource


class WorkAreaInline(admin.TabularInline):
    model = WorkArea
    extra = 0


class PlanFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("计划文件"),
        help_text=gettext_lazy(
            "Word(.docx)表格、Excel(.xlsx)或CSV表格,或计划网页的文本(.txt/.html)。"
            "上传后先预览,确认后才写入。"
        ),
    )


class PlanRevisionInline(admin.TabularInline):
    model = PlanRevision
    extra = 0
    can_delete = False
    fields = ["at", "kind", "by", "download", "summary"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("文件"))
    def download(self, obj: PlanRevision):
        if not obj.file:
            return obj.file_name or "—"
        url = reverse("admin:plan_plan_revision_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.file_name or _("下载"))

    def has_add_permission(self, request, obj=None):
        return False


QUARTER_VALUES = {"1": 1, "2": 2, "3": 3, "4": 4}


def intake_choices(form_data) -> tuple[dict, dict, dict, list[str]]:
    """The admin's answers on the preview page: column → field, written department name →
    decision, (label, first, last) → quarters; and what cannot be taken (a reversed span)."""
    mapping, decisions, quarters, complaints = {}, {}, {}, []
    fields = {key for key, _label in FIELDS}
    for key, header in form_data.items():
        if key.startswith("colh_"):
            chosen = form_data.get("col_" + key[5:], "")
            if chosen in fields:
                mapping[header] = chosen
        elif key.startswith("deptw_"):
            decision = form_data.get("dept_" + key[6:], "")
            if decision == "text" or decision.startswith(("new:", "map:", "same:")):
                decisions[header] = decision
        elif key.startswith("label_"):
            index = key[6:]
            was = (form_data.get(f"qwas_{index}") or "").split("-")
            if len(was) != 2:
                continue
            original = tuple(QUARTER_VALUES.get(v) for v in was)
            chosen = (
                QUARTER_VALUES.get(form_data.get(f"qf_{index}", "")),
                QUARTER_VALUES.get(form_data.get(f"ql_{index}", "")),
            )
            if None in chosen:
                chosen = (None, None)
            if chosen[0] is not None and chosen[0] > chosen[1]:
                complaints.append(
                    _("“%(label)s”:起始季度不能晚于截止季度,已恢复为原来的对应。")
                    % {"label": header}
                )
                continue
            if chosen != original:
                quarters[(header, *original)] = chosen
    return mapping, decisions, quarters, complaints


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
    inlines = [WorkAreaInline, PlanRevisionInline]
    actions = ["copy_to_new_year"]
    change_list_template = "admin/plan/plan/change_list.html"
    change_form_template = "admin/plan/plan/change_form.html"

    def get_urls(self):
        own = [
            path(
                "load/",
                self.admin_site.admin_view(self.load_view),
                name="plan_plan_load",
            ),
            path(
                "revisions/<int:revision_id>/file/",
                self.admin_site.admin_view(self.revision_file),
                name="plan_plan_revision_file",
            ),
            path(
                "<int:plan_id>/revise/",
                self.admin_site.admin_view(self.load_view),
                name="plan_plan_revise",
            ),
        ]
        return own + super().get_urls()

    def revision_file(self, request, revision_id):
        """The file a plan was loaded or revised from, for admins."""
        revision = get_object_or_404(PlanRevision.objects.select_related("plan"), pk=revision_id)
        if not (roles.is_admin(request.user) and self.has_view_permission(request, revision.plan)):
            raise PermissionDenied
        if not revision.file:
            raise Http404
        return FileResponse(
            revision.file.open("rb"), as_attachment=True, filename=revision.file_name or "plan"
        )

    def may_load(self, request, plan=None) -> bool:
        if not roles.is_admin(request.user):
            return False
        if plan is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, plan)

    def load_view(self, request, plan_id=None):
        """Upload → preview (the tree, the columns, the labels' quarters, the department
        questions, every problem; for a revision, the differences) → confirm."""
        plan = get_object_or_404(Plan, pk=plan_id) if plan_id is not None else None
        if not self.may_load(request, plan):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "plan": plan,
            "title": _("计划调整:%(title)s") % {"title": plan.title} if plan else _("导入推进计划"),
        }
        form = PlanFileForm()
        if request.method == "POST" and "file" in request.FILES:
            form = PlanFileForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                data = upload.read(settings_max() + 1)
                token = uploads.keep(request, data, upload.name)
                return self.preview(request, context, token, data, upload.name, plan, {})
        elif request.method == "POST" and "token" in request.POST:
            kept = uploads.fetch(request, request.POST["token"])
            if kept is None:
                self.message_user(request, _("上传的文件已过期,请重新上传。"), messages.ERROR)
                return redirect(request.path)
            data, name = kept
            return self.preview(
                request, context, request.POST["token"], data, name, plan, request.POST
            )
        context["form"] = form
        return TemplateResponse(request, "admin/plan/plan_load.html", context)

    def preview(self, request, context, token, data, name, plan, answers):
        mapping, decisions, quarters, complaints = intake_choices(answers)
        generic = (
            {
                answers[k]
                for k in answers
                if k.startswith("deptw_") and answers.get("deptg_" + k[6:])
            }
            if any(k.startswith("deptw_") for k in answers)
            else None  # first preview: as the names suggest
        )
        confirm = "confirm" in answers
        overrides = {"title": (answers.get("plan_title") or "").strip()[:300]}
        year = (answers.get("plan_year") or "").strip()
        if year.isdecimal() and len(year) == 4:
            overrides["year"] = int(year)
        options = {
            "overrides": overrides,
            "mapping": mapping,
            "generic": generic,
            "decisions": decisions,
            "quarters": quarters,
            "revise": plan,
            "user": request.user,
            "file_name": name,
        }
        result = intake(data, dry_run=True, **options)
        result.problems = complaints + result.problems
        if confirm and result.ok:
            result = intake(data, dry_run=False, **options)
            if result.ok:
                uploads.forget(request, token)
                saved = result.outcome.plan
                if plan is None:
                    text = _("已导入“%(title)s”。") % {"title": saved.title}
                else:
                    text = _("已完成计划调整:%(summary)s。") % {
                        "summary": result.outcome.revision.summary
                    }
                self.message_user(request, text, messages.SUCCESS)
                return redirect(reverse("admin:plan_plan_change", args=[saved.pk]))
        questions = result.matching.questions if result.matching else []
        for question in questions:
            question.chosen = decisions.get(question.written, question.default)
            question.generic_chosen = (
                question.generic if generic is None else question.written in generic
            )
            if question.suggestion is not None:
                question.suggestion_value = f"map:{question.suggestion.pk}"
        departments = list(Department.objects.order_by("kind", "order", "name"))
        for department in departments:
            department.map_value = f"map:{department.pk}"
        context.update(
            {
                "result": result,
                "parsed": result.parsed,
                "token": token,
                "file_name": name,
                "fields": FIELDS,
                "quarter_choices": QUARTER_CHOICES,
                "labels": result.labels(),
                "questions": questions,
                "departments": departments,
                "kinds": Department.Kind.choices,
                "decisions": decisions,
                "mapping": mapping,
                "unrecognised_columns": any(c.field is None for c in result.parsed.columns),
            }
        )
        return TemplateResponse(request, "admin/plan/plan_preview.html", context)

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


def settings_max() -> int:
    from django.conf import settings

    return settings.IMPORT_MAX_BYTES


@admin.register(WorkArea)
class WorkAreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "order"]
    list_filter = ["plan"]
    search_fields = ["title"]


class QuarterFilter(admin.SimpleListFilter):
    """Milestones due in a quarter, spans included; or those not yet scheduled."""

    title = _("季度")
    parameter_name = "quarter"

    def lookups(self, request, model_admin):
        return [*((str(q), label) for q, label in QUARTER_CHOICES), ("none", _("未排期"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.unscheduled()
        if self.value() in {"1", "2", "3", "4"}:
            return queryset.scheduled_in(int(self.value()))
        return queryset


class ActionInline(admin.TabularInline):
    model = Action
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Measure)
class MeasureAdmin(AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [MeasureResource]
    list_display = ["number", "title", "work_area", "executing_department", "offices"]
    list_display_links = ["number", "title"]
    list_filter = ["work_area__plan", "work_area", "responsible_offices", "cooperating_units"]
    search_fields = ["title", "goal", "actions__text"]
    filter_horizontal = ["cooperating_units", "responsible_offices"]
    inlines = [ActionInline, MilestoneInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("work_area", "executing_department")
            .prefetch_related("responsible_offices")
        )

    @admin.display(description=_("责任处室"))
    def offices(self, obj: Measure) -> str:
        return "、".join(office.name for office in obj.responsible_offices.all())


@admin.register(Action)
class ActionAdmin(AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [ActionResource]
    list_display = ["measure", "number", "text"]
    list_filter = ["measure__work_area__plan", "measure__work_area", "measure__responsible_offices"]
    search_fields = ["text", "measure__title"]
    list_select_related = ["measure"]


@admin.register(Milestone)
class MilestoneAdmin(LabelledListEditableMixin, AdminImportExportMixin, admin.ModelAdmin):
    resource_classes = [MilestoneResource]
    list_display = ["measure", "label", "first_quarter", "last_quarter", "text", "retired_on"]
    list_editable = ["first_quarter", "last_quarter"]
    list_filter = [
        QuarterFilter,
        ("retired_on", admin.EmptyFieldListFilter),
        "measure__work_area__plan",
        "measure__work_area",
        "measure__responsible_offices",
    ]
    search_fields = ["label", "text", "measure__title"]
    list_select_related = ["measure"]
