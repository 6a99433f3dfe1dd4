from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentQuerySet(models.QuerySet):
    def by_spelling(self) -> dict[str, "Department"]:
        """Every department under its name and each of its other spellings (one query)."""
        index = {}
        for department in self:
            index[department.name] = department
            for alias in department.aliases:
                index[alias] = department
        return index


class Department(models.Model):
    """A unit the plan names: the executing bureau, a responsible office or a cooperating unit."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("执行部门")
        OFFICE = "office", _("责任处室")
        UNIT = "unit", _("配合单位")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    aliases = models.JSONField(
        _("其他写法"),
        default=list,
        blank=True,
        help_text=_("文件中对同一单位的其他写法,例如“有关区县(自治区)知识产权局”。"),
    )
    generic = models.BooleanField(
        _("泛指"),
        default=False,
        help_text=_("泛指多个单位(如“相关处室”“市级相关部门”),不单独开设账号。"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        related_name="departments",
        blank=True,
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["kind", "order", "name"]

    def __str__(self) -> str:
        return self.name
