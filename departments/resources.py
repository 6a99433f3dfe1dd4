"""Departments in the admin's import and export, and the department lookups every import of
the plan uses (by name or other spelling). The engine is spreadsheets.importing."""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, widgets

from spreadsheets.importing import (
    BoolWidget,
    ChoiceWidget,
    ImportExportAdminMixin,
    IntWidget,
    ListWidget,
    LookupWidget,
    PlanTrackerResource,
    TextWidget,
    split_list,
    verbose,
)

from . import roles
from .models import Department


class AdminImportExportMixin(ImportExportAdminMixin):
    """Import and export in the admin, for the 管理员 role only."""

    def may_import_export(self, user) -> bool:
        return roles.is_admin(user)


def department_index() -> dict[str, list[Department]]:
    index = defaultdict(list)
    for department in Department.objects.all():
        for spelling in {department.name, *department.aliases}:
            index[spelling].append(department)
    return index


class DepartmentWidget(LookupWidget):
    """A department by its name or one of its other spellings (其他写法)."""

    def __init__(self, *, required=True):
        super().__init__(Department, required=required)

    def find(self, text, row):
        found = self.cached("departments", department_index).get(text, [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(
                _("找不到名为“%(name)s”的部门(也不是哪个部门的其他写法)。") % {"name": text}
            )
        raise ValueError(
            _("“%(name)s”同时是%(names)s的名称或其他写法,无法确定是哪个部门。")
            % {"name": text, "names": "、".join(d.name for d in found)}
        )

    def label(self, obj):
        return obj.name


class DepartmentListWidget(widgets.ManyToManyWidget):
    """Departments by name or other spelling, separated by 、."""

    def __init__(self, *, required=False):
        super().__init__(Department, separator="、", field="name")
        self.required = required
        self.lookup = DepartmentWidget()

    def clean(self, value, row=None, **kwargs):
        names = split_list(value)
        if not names and self.required:
            raise ValueError(_("不能为空。"))
        found = []
        for name in names:
            department = self.lookup.find(name, row)
            if department not in found:
                found.append(department)
        return found

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else "、".join(d.name for d in value.all())


class DepartmentResource(PlanTrackerResource):
    name = fields.Field("name", verbose(Department, "name"), TextWidget())
    kind = fields.Field("kind", verbose(Department, "kind"), ChoiceWidget(Department.Kind.choices))
    aliases = fields.Field("aliases", verbose(Department, "aliases"), ListWidget())
    generic = fields.Field("generic", verbose(Department, "generic"), BoolWidget())
    order = fields.Field("order", verbose(Department, "order"), IntWidget(minimum=0, maximum=32767))

    key_columns = (verbose(Department, "name"),)

    class Meta:
        model = Department
        fields = import_order = export_order = ("name", "kind", "aliases", "generic", "order")
        import_id_fields = ("name",)
        name = gettext_lazy("部门")

    def existing_queryset(self, dataset):
        return Department.objects.all()

    def instance_key(self, instance):
        return instance.name

    def row_key(self, row):
        name = self.fields["name"].clean(row)
        if not name:
            raise ValueError(name)
        return name
