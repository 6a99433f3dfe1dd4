from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from departments.admin import ReadOnlyAdmin

from .models import Instruction, InstructionAnswer, Notice, Urging


@admin.register(Instruction)
class InstructionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "author", "measure", "milestone", "due_on"]
    list_select_related = ["author", "measure", "milestone"]


@admin.register(InstructionAnswer)
class InstructionAnswerAdmin(ReadOnlyAdmin):
    list_display = ["at", "office", "by", "instruction"]
    list_select_related = ["office", "by", "instruction__measure"]


@admin.register(Urging)
class UrgingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "office", "author", "reply_by", "replied_at", "escalated_at"]
    list_select_related = ["office", "author"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]


class HasEmailFilter(admin.SimpleListFilter):
    """Who cannot be mailed (reminders, notices): also `send_reminders --check`."""

    title = _("邮箱")
    parameter_name = "has_email"

    def lookups(self, request, model_admin):
        return [("no", _("未登记邮箱")), ("yes", _("已登记邮箱"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(email="")
        if self.value() == "yes":
            return queryset.exclude(email="")
        return queryset


User = get_user_model()
if admin.site.is_registered(User):
    registered = type(admin.site._registry[User])
    admin.site.unregister(User)
else:
    registered = UserAdmin


@admin.register(User)
class UserWithEmailAdmin(registered):
    list_filter = [HasEmailFilter, *registered.list_filter]
