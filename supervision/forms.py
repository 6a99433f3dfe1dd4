from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.forms import EvidenceField

from .models import Notice

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InstructionForm(forms.Form):
    text = forms.CharField(
        label=_("批示内容"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写批示内容。")},
        max_length=5000,
    )
    due_on = forms.DateField(
        label=_("办理时限"),
        required=False,
        widget=DATE_INPUT,
        error_messages={"invalid": _("请输入有效日期,如2014-07-31。")},
        help_text=_("可不填。"),
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("办理情况"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写办理情况。")},
        max_length=10000,
    )
    files = EvidenceField(
        label=_("附件"),
        required=False,
        help_text=_("可上传多个文件:pdf、doc、docx、xls、xlsx、jpg、png。"),
    )


class UrgingForm(forms.Form):
    message = forms.CharField(
        label=_("催办事项"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写催办事项。")},
        max_length=5000,
    )
    reply_by = forms.DateField(
        label=_("办理时限"),
        widget=DATE_INPUT,
        error_messages={
            "required": _("请填写办理时限。"),
            "invalid": _("请输入有效日期,如2014-07-31。"),
        },
    )
    milestones = forms.TypedMultipleChoiceField(
        label=_("进度节点"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一个进度节点。"),
            "invalid_choice": _("所选进度节点不属于该处室。"),
        },
    )

    def __init__(self, *args, milestones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestones"].choices = [
            (m.pk, f"{m.measure.number}.{m.measure.title} · {m.label}:{m.text}") for m in milestones
        ]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("反馈情况"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写反馈情况。")},
        max_length=5000,
    )


class MailPreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("以下通知同时发送邮件"),
        # The deadline notice is in-app only: the reminders' cadence is its mail.
        choices=[(k, label) for k, label in Notice.Kind.choices if k != Notice.Kind.DEADLINE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
