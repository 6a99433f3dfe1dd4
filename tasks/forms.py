from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import COMMENT_MAX, DONE_TEXT_MAX, EVIDENCE_TYPES, ProgressReport

# Allowed evidence types: extension → the first bytes such a file starts with.
EVIDENCE_SIGNATURES = {suffix: signatures for suffix, (_type, signatures) in EVIDENCE_TYPES.items()}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Zero or more evidence files, each checked for size, extension and content."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [self.check(super(EvidenceField, self).clean(item, initial)) for item in files]

    def check(self, upload):
        limit = settings.EVIDENCE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件“%(name)s”大小为%(size)s,超过%(limit)s的上限。"),
                params={
                    "name": upload.name,
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(limit),
                },
            )
        suffix = Path(upload.name).suffix.lower()
        signatures = EVIDENCE_SIGNATURES.get(suffix)
        if signatures is None:
            raise forms.ValidationError(
                _("文件“%(name)s”的类型不允许。可上传:pdf、doc、docx、xls、xlsx、jpg、png。"),
                params={"name": upload.name},
            )
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(signatures):
            raise forms.ValidationError(
                _("文件“%(name)s”的内容与扩展名不符,可能已损坏。"), params={"name": upload.name}
            )
        return upload


STALE_FORM = _("表单数据不完整或已失效,请刷新页面后重新填写。")


def version_field() -> forms.IntegerField:
    """The version a form was built from, for refusing stale saves."""
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={key: STALE_FORM for key in ("required", "invalid", "min_value")},
    )


class ReportForm(forms.Form):
    """The office's quarterly report. Rules that need the report itself (已完成 needs 100%,
    完成情况 before submitting, stale edits) are checked by tasks.services."""

    version = version_field()
    status = forms.ChoiceField(label=_("进展状态"), choices=ProgressReport.Status.choices)
    percent = forms.IntegerField(
        label=_("完成百分比"),
        min_value=0,
        max_value=100,
        error_messages={
            "min_value": _("完成百分比须在0到100之间。"),
            "max_value": _("完成百分比须在0到100之间。"),
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}),
    )
    done_text = forms.CharField(
        label=_("完成情况"),
        required=False,
        max_length=DONE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    problems_text = forms.CharField(
        label=_("存在问题及下一步"),
        required=False,
        max_length=DONE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    evidence = EvidenceField(
        label=_("佐证材料"),
        required=False,
        help_text=_("可上传多个文件:pdf、doc、docx、xls、xlsx、jpg、png。"),
    )


class VersionForm(forms.Form):
    """A button that acts on one version of a report (撤回, 删除附件)."""

    version = version_field()


class ReviewForm(forms.Form):
    version = version_field()
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuarterForm(forms.Form):
    """The reporting quarter picked on a page; invalid values fall back to the default."""

    quarter = forms.TypedChoiceField(
        label=_("季度"), coerce=int, choices=[(q, q) for q in (1, 2, 3, 4)], required=False
    )


class ContributionForm(forms.Form):
    version = version_field()
    text = forms.CharField(
        label=_("工作情况"),
        max_length=DONE_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("请填写工作情况。")},
    )
    figures = forms.CharField(
        max_length=COMMENT_MAX,
        label=_("相关数据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如培训人次、资金金额、企业数量等。"),
    )
    files = EvidenceField(
        label=_("佐证材料"),
        required=False,
        help_text=_("可上传多个文件:pdf、doc、docx、xls、xlsx、jpg、png。"),
    )
