"""Accessibility for the Django admin's change lists."""

from django.utils.text import Truncator


class LabelledListEditableMixin:
    """Names each field of a change list's editable rows for assistive technology: a select or
    checkbox in a table row has no <label> of its own (WCAG 1.3.1, 4.1.2; axe `select-name`,
    `label`). The name is the column's label and the row's object, e.g. "起始季度 · 第四季度,…"."""

    def get_changelist_form(self, request, **kwargs):
        base = super().get_changelist_form(request, **kwargs)

        class LabelledForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                row = Truncator(str(self.instance)).chars(40) if self.instance.pk else ""
                for field in self.fields.values():
                    if not field.widget.is_hidden:
                        name = f"{field.label} · {row}" if row else str(field.label)
                        field.widget.attrs["aria-label"] = name

        return LabelledForm
