"""The import engine: django-import-export in the admin, closed up (knows no app of ours).

django-import-export draws the admin pages (upload, dry-run preview, confirm, export) and runs
the row loop. This module closes what it leaves open:

- Uploaded files are read by spreadsheets.reading (size, old .xls, password, not a zip, zip bomb,
  formula cells, merged cells, GBK CSV); a problem is a SheetError message on the form.
- The header row must be exactly the resource's columns (check_headers names both lists).
- Every cell goes through a strict widget ("1.5" is not an integer, unknown labels and names
  are refused); each message names the row, the column letter and the column's header.
- Foreign keys are found by what a clerk types (department names and other spellings, plan
  years, numerals, numbers, labels) from indexes built with one query per plan year.
- Two rows with the same key are refused, naming both rows.
- Any problem anywhere rolls the whole file back; nothing is written.
- Rows are written with bulk_create/bulk_update (no query per row); many-to-many columns are
  written in bulk too.
- Exports escape text a spreadsheet would run as a formula (writing.safe) in every cell.

Column headers are the models' verbose names in Chinese, fixed whatever the interface
language, so that a file exported by one admin can be imported by another."""

import csv
import io
import operator
import os
from collections import defaultdict
from decimal import Decimal, InvalidOperation

import tablib
import xlsxwriter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import connections, models
from django.db.models import Manager
from django.db.models.fields import NOT_PROVIDED
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult
from openpyxl.utils import get_column_letter

from . import reading as spreadsheets
from .reading import SheetError, clean_header, is_blank
from .writing import HEADER_FILL, safe, unsafe

FILE_LANGUAGE = "zh-hans"  # headers and labels in files, whatever the interface language
LIST_SEPARATORS = ("、", ",", ",", ";", ";", "\n")


def verbose(model, name: str) -> str:
    """A model field's verbose name in the file language: the default column header."""
    with translation.override(FILE_LANGUAGE):
        return str(model._meta.get_field(name).verbose_name)


# --- Reading files ----------------------------------------------------------------------


def dataset_from_rows(raw_rows) -> tablib.Dataset:
    """A dataset from the rows of a sheet: the first row is the header; trailing blank rows
    are dropped; a blank row between data rows, or a value in a column without a header,
    is refused. Row n of the dataset is row n + 1 of the file."""
    rows = iter(raw_rows)
    headers = [clean_header(value) for value in next(rows, None) or []]
    while headers and headers[-1] == "":
        headers.pop()
    if not headers:
        raise SheetError(_("第一行应为表头,但它是空的。"))
    width = len(headers)
    dataset = tablib.Dataset(headers=headers)
    blank = None
    for number, values in enumerate(rows, start=2):
        values = list(values)
        if all(is_blank(value) for value in values):
            blank = blank or number
            continue
        if blank:
            raise SheetError(_("是空行,请删除表格中间的空行。"), row=blank)
        for column, value in enumerate(values[width:], start=width + 1):
            if not is_blank(value):
                raise SheetError(
                    _("这一列没有表头,请删除其中的内容或补上表头。"), row=number, column=column
                )
        dataset.append(values[:width] + [None] * (width - len(values)))
    if not dataset.height:
        raise SheetError(_("表格中没有数据行。"))
    return dataset


def column_widths(dataset: tablib.Dataset) -> list[int]:
    """Widths that fit the header and the first rows, Chinese characters counting double."""
    widths = []
    for index, header in enumerate(dataset.headers):
        sample = [header, *(row[index] for row in dataset[:200])]
        longest = max(len(str(value).encode("gbk", "replace")) for value in sample if value)
        widths.append(min(60, max(8, longest + 2)))
    return widths


class XLSX(base_formats.XLSX):
    """xlsx read by spreadsheets.reading.plain_rows (python-calamine) when the file is plain,
    else by open_xlsx and xlsx_rows (which name every problem); written with a bold frozen
    header and fitted widths, every cell through spreadsheets.writing.safe."""

    def create_dataset(self, in_stream):
        data = bytes(in_stream)
        rows = spreadsheets.plain_rows(data)  # python-calamine, when the file is plain
        if rows is not None:
            return dataset_from_rows(rows)
        workbook = spreadsheets.open_xlsx(data)
        try:
            sheet = spreadsheets.only_sheet(workbook)
            if workbook.has_merged_cells:
                raise SheetError(_("表格中有合并单元格,请取消合并后再上传。"))
            return dataset_from_rows(spreadsheets.xlsx_rows(sheet))
        except SheetError:
            raise
        except Exception:  # noqa: BLE001 - a sheet that breaks while reading is the file's fault
            raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。")) from None
        finally:
            workbook.close()

    def export_data(self, dataset, **kwargs):
        """The header styled as spreadsheets.writing.add_table styles it, frozen, the columns
        fitted; the rows written by XlsxWriter, which writes them in two thirds of openpyxl's
        time (README, Performance: export_vs_openpyxl). Text stays text: no formula, link or
        number is made of it (the cells went through writing.safe besides)."""
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        sheet = workbook.add_worksheet((dataset.title or "Sheet1")[:31])
        for index, width in enumerate(column_widths(dataset)):
            sheet.set_column(index, index, width)
        sheet.freeze_panes(1, 0)
        header = workbook.add_format(
            {
                "bold": True,
                "bg_color": "#" + HEADER_FILL.fgColor.rgb[-6:],
                "pattern": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        sheet.write_row(0, 0, [safe(title) for title in dataset.headers], header)
        cells_safe = getattr(dataset, "cells_safe", False)  # PlanTrackerResource.export did it
        write_row = sheet.write_row
        for number, row in enumerate(dataset, start=1):
            write_row(number, 0, row if cells_safe else [safe(value) for value in row])
        workbook.close()
        return buffer.getvalue()


class CSV(base_formats.CSV):
    """CSV passed on as bytes (never decoded by the library) and read by
    spreadsheets.reading.read_csv_rows, which takes UTF-8 or GBK. Written in UTF-8 with a BOM
    so that Excel shows the Chinese, every cell through spreadsheets.writing.safe."""

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else bytes(in_stream)
        return dataset_from_rows(spreadsheets.read_csv_rows(data))

    def export_data(self, dataset, **kwargs):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([safe(header) for header in dataset.headers])
        for row in dataset:
            writer.writerow(["" if value is None else safe(value) for value in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


FORMATS = [XLSX, CSV]


# --- Cells ------------------------------------------------------------------------------


def text_of(value) -> str:
    """A cell as text: whole numbers without ".0", surrounding spaces dropped, and the
    apostrophe spreadsheets.writing.safe puts before = + - @ taken off again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unsafe(value).strip()


def shown(value) -> str:
    """A cell value quoted in a message, cut short."""
    text = text_of(value) if not isinstance(value, str) else value.strip()
    return text if len(text) <= 30 else text[:30] + "…"


def parse_int(value) -> int:
    """A whole number from a cell, or ValueError: 60, 60.0 and "60" are 60; 1.5, "1.5", "六十"
    and True are refused (the library's IntegerWidget would truncate 1.5 to 1)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite() or number != number.to_integral_value() or "e" in str(value).lower():
        raise ValueError(value)
    return int(number)


class IntWidget(widgets.IntegerWidget):
    """A whole number within bounds; anything else is refused with the value quoted."""

    def __init__(self, *, minimum=None, maximum=None, required=True, percent=False):
        super().__init__(coerce_to_string=False)
        self.minimum, self.maximum = minimum, maximum
        self.required, self.percent = required, percent

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            if self.required:
                raise ValueError(_("不能为空。"))
            return None
        raw = value.strip() if isinstance(value, str) else value
        if self.percent and isinstance(raw, str) and raw.endswith(("%", "%")):
            raw = raw[:-1]
        try:
            number = parse_int(raw)
        except ValueError:
            raise ValueError(self.problem(value)) from None
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValueError(self.problem(value))
        return number

    def problem(self, value) -> str:
        params = {"min": self.minimum, "max": self.maximum, "value": shown(value)}
        if self.minimum is not None and self.maximum is not None:
            return _("应为%(min)s到%(max)s之间的整数,不能是“%(value)s”。") % params
        if self.minimum is not None:
            return _("应为不小于%(min)s的整数,不能是“%(value)s”。") % params
        return _("应为整数,不能是“%(value)s”。") % params

    def render(self, value, obj=None, **kwargs):
        return value


class TextWidget(widgets.CharWidget):
    """Text as typed, trimmed; blank is "" (the model says whether blank is allowed)."""

    def __init__(self):
        super().__init__(coerce_to_string=True, allow_blank=True)

    def clean(self, value, row=None, **kwargs):
        return text_of(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ChoiceWidget(widgets.Widget):
    """A choice by its Chinese label (进行中, 已通过, 第一季度 …); the stored value is taken too."""

    def __init__(self, choices, *, required=True):
        super().__init__(coerce_to_string=False)
        self.choices, self.required = list(choices), required
        self._labels = None

    def labels(self) -> dict:
        if self._labels is None:
            with translation.override(FILE_LANGUAGE):
                self._labels = {value: str(label) for value, label in self.choices}
        return self._labels

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            if self.required:
                raise ValueError(_("不能为空。"))
            return None
        text = text_of(value)
        for choice, label in self.labels().items():
            if text in (label, str(choice)):
                return choice
        raise ValueError(
            _("应为%(labels)s之一,不能是“%(value)s”。")
            % {"labels": "、".join(self.labels().values()), "value": shown(value)}
        )

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return None
        return self.labels().get(value, value)


class BoolWidget(widgets.BooleanWidget):
    """是 or 否 (also true/false, 1/0, and Excel's booleans); blank is 否."""

    TRUE, FALSE = ("是", "true", "1"), ("否", "false", "0")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = text_of(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE or not text:
            return False
        raise ValueError(_("应为“是”或“否”,不能是“%(value)s”。") % {"value": shown(value)})

    def render(self, value, obj=None, **kwargs):
        return self.TRUE[0] if value else self.FALSE[0]


def split_list(value) -> list[str]:
    text = text_of(value)
    for separator in LIST_SEPARATORS[1:]:
        text = text.replace(separator, LIST_SEPARATORS[0])
    return [item.strip() for item in text.split(LIST_SEPARATORS[0]) if item.strip()]


class ListWidget(widgets.Widget):
    """A list of texts separated by 、 (or commas, semicolons, line breaks)."""

    def clean(self, value, row=None, **kwargs):
        return split_list(value)

    def render(self, value, obj=None, **kwargs):
        return "、".join(value or [])


# --- Related objects by what a clerk types ----------------------------------------------


class LookupWidget(widgets.ForeignKeyWidget):
    """A related object found by what a clerk types. Subclasses build an index once per
    import (one query, or one per plan year), never a query per row. `depends_on` names the
    columns the lookup reads besides its own; they are checked first."""

    depends_on: tuple[str, ...] = ()

    def __init__(self, model, *, required=True):
        super().__init__(model)
        self.required = required
        self._index = {}
        self._last = (None, None, None, None)

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            if self.required:
                raise ValueError(_("不能为空。"))
            return None
        if row is not None and self._last[:2] == (id(row), value):
            return self._last[2]  # the loader looked this row up a moment ago
        found = self.find(text_of(value), row or {})
        self._last = (id(row), value, found, row)
        return found

    def find(self, text: str, row):
        raise NotImplementedError

    def label(self, obj):
        raise NotImplementedError

    def render(self, value, obj=None, **kwargs):
        return None if value is None else self.label(value)

    def cached(self, key, build):
        if key not in self._index:
            self._index[key] = build()
        return self._index[key]

    def year(self, row, column: str) -> int:
        try:
            return parse_int(row.get(column))
        except ValueError:
            raise ValueError(_("请先改正“%(column)s”列。") % {"column": column}) from None


# --- Resources --------------------------------------------------------------------------


def update_in_bulk(model, objects, field_names, *, using="default", batch_size=1000) -> None:
    """UPDATE … FROM (VALUES …): one statement per batch, on SQLite (3.33+) and PostgreSQL.
    Django's bulk_update builds a CASE WHEN per object and field, which took 25 s for
    10,000 reports; this takes under one."""
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk
    columns = [pk, *(model._meta.get_field(name) for name in field_names)]
    names = [connection.ops.quote_name(field.column) for field in columns]
    cast = connection.vendor == "postgresql"  # VALUES gives text and integer; SQLite needs none
    assignments = ", ".join(
        f"{name} = CAST(v.{name} AS {field.db_type(connection)})" if cast else f"{name} = v.{name}"
        for name, field in zip(names[1:], columns[1:], strict=True)
    )
    size = min(batch_size, connection.ops.bulk_batch_size(columns, objects) or batch_size)
    with connection.cursor() as cursor:
        for start in range(0, len(objects), size):
            batch = objects[start : start + size]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(batch))
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection)
                for obj in batch
                for field in columns
            ]
            cursor.execute(
                f"WITH v({', '.join(names)}) AS (VALUES {placeholders}) "  # noqa: S608 - names quoted
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{names[0]} = v.{names[0]}",
                params,
            )


# Model fields whose values, once cleaned, go to the database as they are (int, str, bool):
# insert_in_bulk passes them without Field.get_db_prep_save.
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # and its Small/Big/Positive kinds
    models.BooleanField,
)


def insert_in_bulk(model, objects, *, using="default", batch_size=1000) -> None:
    """INSERT … VALUES … RETURNING id, one statement per batch; the new ids are set on the
    objects as bulk_create sets them. bulk_create prepares every value through the SQL
    compiler, a few µs each: 0.5 s for 10,000 reports, this 0.1 s. Values of plain fields
    (PLAIN_FIELDS, and foreign keys to integer ids) are passed as they are, others through
    the field. Falls back to bulk_create where a multi-row insert cannot return ids."""
    connection = connections[using]
    if not objects:
        return
    if not connection.features.can_return_rows_from_bulk_insert:
        model.objects.using(using).bulk_create(objects, batch_size=batch_size)
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [field for field in model._meta.concrete_fields if field is not pk]

    def plain(field):
        if field.is_relation:
            field = field.target_field
        return isinstance(field, PLAIN_FIELDS)

    def prepared(field):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)

    getters = [
        operator.attrgetter(field.attname) if plain(field) else prepared(field) for field in columns
    ]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    size = min(batch_size, connection.ops.bulk_batch_size(columns, objects) or batch_size)
    with connection.cursor() as cursor:
        for start in range(0, len(objects), size):
            batch = objects[start : start + size]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names quoted
                f"({', '.join(quote(field.column) for field in columns)}) "
                f"VALUES {', '.join([row] * len(batch))} RETURNING {quote(pk.column)}",
                [get(obj) for obj in batch for get in getters],
            )
            for obj, (new_pk,) in zip(batch, cursor.fetchall(), strict=True):
                obj.pk = new_pk
                obj._state.adding = False
                obj._state.db = using


class KeyField(fields.Field):
    """A column that says where a row belongs (年度, 措施编号 …) rather than a value of the
    object: checked on import and read by the lookup columns; exported from the object."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        self.clean(row, **kwargs)


class NaturalKeyLoader(BaseInstanceLoader):
    """Finds each row's existing object by its natural key from one query for the whole file
    (CachedInstanceLoader only handles a single id column), and refuses a second row with a
    key already seen, naming both rows."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.existing = {
            resource.instance_key(obj): obj for obj in resource.existing_queryset(dataset)
        }
        self.rows = {}

    def get_instance(self, row):
        try:
            key = self.resource.row_key(row)
        except ValueError:
            return None  # the cell errors are reported when the row is imported
        number = self.resource.file_row
        first = self.rows.setdefault(key, number)
        if first != number:
            raise ValidationError(
                _("第%(row)s行:%(message)s")
                % {
                    "row": number,
                    "message": _("与第%(first)s行重复(%(columns)s相同),同一对象只能有一行。")
                    % {"first": first, "columns": "、".join(self.resource.key_columns)},
                }
            )
        return self.existing.get(key)


class LazyRowResult(RowResult):
    """The library's row result, naming the object only when asked: str() of every row costs
    a tenth of a large import, and only the admin log reads it. The id is read late too: a
    new object has one only once its batch is created."""

    _instance_for_info = None

    def add_instance_info(self, instance):
        self._instance_for_info = instance

    @property
    def object_id(self):
        return getattr(self._instance_for_info, "pk", None)

    @object_id.setter
    def object_id(self, value):
        pass

    @property
    def object_repr(self):
        instance = self._instance_for_info
        return None if instance is None else str(instance)

    @object_repr.setter
    def object_repr(self, value):
        pass


class PlanTrackerResource(resources.ModelResource):
    """What every admin import shares; subclasses declare their columns (in file order) and
    say how a row and an object are keyed."""

    #: Headers of the columns that identify a row, named in duplicate-row messages.
    key_columns: tuple[str, ...] = ()
    #: Model fields set when saving besides the imported ones (for bulk_update).
    extra_update_fields: tuple[str, ...] = ()

    class Meta:
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        store_row_values = True
        instance_loader_class = NaturalKeyLoader
        use_transactions = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.file_row = None
        self.saved = []
        self.now = timezone.now()
        self.import_fields = self.get_import_fields()
        self.column_of = {
            field.attribute: field.column_name
            for field in self.import_fields
            if field.attribute and "__" not in field.attribute
        }
        # Key columns first: the lookups read them.
        self.cleaning_order = sorted(self.import_fields, key=lambda f: not isinstance(f, KeyField))
        self._cleaning_steps = None
        self._unchecked_when_valid = None
        self._export_columns = {}
        self._value_fields = [
            field
            for field in self.import_fields
            if field.attribute and not field.readonly and not isinstance(field, KeyField)
        ]

    @classmethod
    def get_row_result_class(cls):
        return LazyRowResult

    # Natural keys: subclasses say which objects a file may touch and how they are keyed.

    def existing_queryset(self, dataset):
        raise NotImplementedError

    def instance_key(self, instance):
        raise NotImplementedError

    def row_key(self, row):
        raise NotImplementedError

    def years_in(self, dataset, column: str) -> set[int]:
        years = set()
        for value in dataset[column]:
            try:
                year = parse_int(value)
            except ValueError:
                continue
            if 1 <= year <= 32767:  # what a plan's year can be; others match no plan
                years.add(year)
        return years

    # The columns.

    def headers(self) -> list[str]:
        return [field.column_name for field in self.import_fields]

    def value_fields(self):
        """The columns written to the object (not KeyFields)."""
        return self._value_fields

    def model_field(self, field):
        return self._meta.model._meta.get_field(field.attribute)

    def cell_error(self, column: str, message: str) -> str:
        if column == NON_FIELD_ERRORS:
            return _("第%(row)s行:%(message)s") % {"row": self.file_row, "message": message}
        index = self.headers().index(column) + 1
        return _("第%(row)s行%(letter)s列(%(column)s):%(message)s") % {
            "row": self.file_row,
            "letter": get_column_letter(index),
            "column": column,
            "message": message,
        }

    # The import: the whole file is checked first, then imported in one transaction that is
    # rolled back if any row fails.

    def check_dataset(self, dataset):
        spreadsheets.check_headers([clean_header(h) for h in dataset.headers or []], self.headers())

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=True,
        **kwargs,
    ):
        try:
            self.check_dataset(dataset)
        except SheetError as error:
            if raise_errors:
                raise
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            result.append_base_error(self.get_error_result_class()(error))
            return result
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=use_transactions,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,  # whatever the caller says
            **kwargs,
        )

    def before_import_row(self, row, **kwargs):
        self.file_row = kwargs["row_number"] + 1  # the header is row 1

    def get_instance(self, instance_loader, row):
        return instance_loader.get_instance(row)

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._import_before = None if new else self.current_values(instance)
        instance._import_m2m = {}

    def cleaning_steps(self):
        """(field, columns its lookup reads, how) in cleaning order, worked out once: "m2m"
        (kept for write_m2m), "set" (a plain column: widget.clean, then setattr, what
        Field.save does for it, without its layers: a tenth of a 10,000-row import) or
        "field" (the library's import_field)."""
        if self._cleaning_steps is None:
            self._cleaning_steps = []
            for field in self.cleaning_order:
                if isinstance(field.widget, widgets.ManyToManyWidget):
                    how = "m2m"
                elif (
                    type(field) is fields.Field
                    and field.attribute
                    and "__" not in field.attribute
                    and not field.readonly
                    and field.default is NOT_PROVIDED
                    and field.saves_null_values
                ):
                    how = "set"
                else:
                    how = "field"
                depends = tuple(getattr(field.widget, "depends_on", ()))
                self._cleaning_steps.append((field, depends, how))
        return self._cleaning_steps

    def import_instance(self, instance, row, **kwargs):
        """Each cell through its widget; errors keyed by column header. Key columns first, and
        a lookup is skipped when a column it reads is already wrong."""
        errors = {}
        for field, depends, how in self.cleaning_steps():
            if errors and any(column in errors for column in depends):
                continue
            try:
                if how == "set":
                    if field.column_name in row:
                        value = field.widget.clean(row[field.column_name], row=row, **kwargs)
                        setattr(instance, field.attribute, value)
                elif how == "m2m":
                    instance._import_m2m[field.attribute] = field.clean(row)
                else:
                    self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                errors[field.column_name] = ValidationError(str(error))
        if errors:
            raise ValidationError(errors)

    def current_values(self, instance, pending=None) -> dict:
        values = {}
        for field in self.value_fields():
            model_field = self.model_field(field)
            if model_field.many_to_many:
                if pending is not None:
                    related = pending.get(field.attribute, [])
                else:
                    related = getattr(instance, field.attribute).all()
                values[field.attribute] = {obj.pk for obj in related}
            else:
                values[field.attribute] = getattr(instance, model_field.attname)
        return values

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An existing object the row leaves as it is is skipped (no write, no history)."""
        if import_validation_errors or instance._import_before is None:
            return False
        return self.current_values(instance, instance._import_m2m) == instance._import_before

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's own field checks and clean() (as the admin form would), without the
        per-row queries of unique and constraint checks: keys are checked by the loader,
        related objects by the widgets. Every message names its row and column."""
        errors = defaultdict(list)
        for column, problems in (import_validation_errors or {}).items():
            errors[column].extend(ValidationError(problems).messages)
        if errors or self._unchecked_when_valid is None:
            checked = {
                self.model_field(field).name
                for field in self.value_fields()
                if field.column_name not in errors and not self.model_field(field).is_relation
            }
            exclude = {f.name for f in self._meta.model._meta.fields if f.name not in checked}
            if not errors:
                self._unchecked_when_valid = exclude  # the same for every valid row
        else:
            exclude = self._unchecked_when_valid
        # Field checks first; the object's own rules only once every value could be read.
        stages = [
            [lambda: instance.clean_fields(exclude=exclude)],
            [instance.clean, lambda: self.check_instance(instance)],
        ]
        for stage in stages:
            if errors:
                break
            for check in stage:
                try:
                    check()
                except ValidationError as error:
                    for name, problems in error.update_error_dict({}).items():
                        column = self.column_of.get(name, NON_FIELD_ERRORS)
                        errors[column].extend(ValidationError(problems).messages)
        if errors:
            raise ValidationError(
                {
                    column: [self.cell_error(column, message) for message in problems]
                    for column, problems in errors.items()
                }
            )

    def check_instance(self, instance):
        """Rules beyond the model's clean(); raise ValidationError."""

    def before_save_instance(self, instance, row, **kwargs):
        self.saved.append(instance)

    def save_m2m(self, instance, row, **kwargs):
        """Many-to-many columns are written in bulk after the rows (after_import)."""

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.create_instances and (using_transactions or not dry_run):
            try:
                insert_in_bulk(
                    self._meta.model,
                    self.create_instances,
                    using=self.get_db_connection_name(),
                    batch_size=self._meta.batch_size,
                )
            except Exception as error:  # noqa: BLE001 - reported like the library's own
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.update_instances and (using_transactions or not dry_run):
            try:
                update_in_bulk(
                    self._meta.model,
                    self.update_instances,
                    self.get_bulk_update_fields(),
                    using=self.get_db_connection_name(),
                    batch_size=self._meta.batch_size,
                )
            except Exception as error:  # noqa: BLE001 - reported like the library's own
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def get_bulk_update_fields(self):
        names = [
            field.attribute
            for field in self.value_fields()
            if not self.model_field(field).many_to_many
        ]
        return [*names, *self.extra_update_fields]

    def after_import(self, dataset, result, **kwargs):
        """Writes the many-to-many columns and lets subclasses record history, all in bulk.
        The library's own after_import (which resets PostgreSQL sequences to max(id), racing
        with other writers) is not needed: no ids are ever given."""
        if result.has_errors() or result.has_validation_errors() or not self.saved:
            return
        self.write_m2m()
        self.after_save_all(self.saved, **kwargs)

    def after_save_all(self, instances, **kwargs):
        """Subclasses add what follows from the saved rows (e.g. report versions)."""

    def write_m2m(self):
        for field in self.value_fields():
            model_field = self.model_field(field)
            if not model_field.many_to_many:
                continue
            through = model_field.remote_field.through
            source = model_field.m2m_field_name()
            target = model_field.m2m_reverse_field_name()
            changed = [
                obj
                for obj in self.saved
                if field.attribute in obj._import_m2m
                and (
                    obj._import_before is None
                    or obj._import_before[field.attribute]
                    != {related.pk for related in obj._import_m2m[field.attribute]}
                )
            ]
            for start in range(0, len(changed), 500):
                chunk = [obj.pk for obj in changed[start : start + 500]]
                through.objects.filter(**{f"{source}_id__in": chunk}).delete()
            through.objects.bulk_create(
                [
                    through(**{f"{source}_id": obj.pk, f"{target}_id": related.pk})
                    for obj in changed
                    for related in obj._import_m2m[field.attribute]
                ],
                batch_size=self._meta.batch_size,
            )

    # The export: every cell through writing.safe, related objects fetched with the rows.

    def export_queryset(self, queryset):
        return queryset

    def filter_export(self, queryset, **kwargs):
        return self.export_queryset(queryset)

    def export_field(self, field, instance, **kwargs):
        return safe(super().export_field(field, instance, **kwargs))

    def export_resource(self, instance, selected_fields=None, **kwargs):
        """export_field for each column, with what the library looks up again for every
        cell (the columns, each one's dehydrate method) looked up once per export: a fifth
        of exporting 10,000 reports (README, Performance)."""
        key = tuple(selected_fields) if selected_fields else None
        columns = self._export_columns.get(key)
        if columns is None:
            columns = []
            for field in self.get_export_fields(selected_fields):
                method = field.get_dehydrate_method(self.get_field_name(field))
                if not callable(method):
                    method = getattr(self, method, None)
                if method is not None:
                    columns.append(lambda instance, _kwargs, method=method: method(instance))
                elif plain_export(field):
                    columns.append(attribute_export(field))
                else:
                    columns.append(
                        lambda instance, kwargs, field=field: field.export(instance, **kwargs)
                    )
            self._export_columns[key] = columns
        return [safe(column(instance, kwargs)) for column in columns]

    def export(self, queryset=None, **kwargs):
        dataset = super().export(queryset, **kwargs)
        with translation.override(FILE_LANGUAGE):
            dataset.title = str(self._meta.model._meta.verbose_name_plural)
        dataset.cells_safe = True  # every cell went through export_field: XLSX need not redo it
        return dataset


# --- The admin --------------------------------------------------------------------------


def plain_export(field) -> bool:
    """A field exported as the library's Field does it (no override of export/get_value)."""
    kind = type(field)
    return kind.export is fields.Field.export and kind.get_value is fields.Field.get_value


def attribute_export(field):
    """Field.export for one field, with its attribute path split once per export rather than
    once per cell (10,000 reports: 120,000 cells). Same steps: a missing link gives None, a
    callable value is called, then the widget renders."""
    path = field.attribute.split("__") if field.attribute is not None else []
    render = field.widget.render

    def export(instance, kwargs):
        if not path:
            return render(None, **kwargs)
        value = instance
        for attr in path:
            try:
                value = value[attr] if isinstance(value, dict) else getattr(value, attr, None)
            except (ValueError, ObjectDoesNotExist, KeyError):
                return render(None, **kwargs)
            if value is None:
                return render(None, **kwargs)
        if callable(value) and not isinstance(value, Manager):
            value = value()
        return render(value, **kwargs)

    return export


class UploadForm(ImportForm):
    """The library's upload form, refusing a file over the size limit before it is read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_file"].error_messages["empty"] = _("文件是空的。")
        self.fields["import_file"].help_text = _(
            "xlsx文件,或CSV文件(UTF-8或GBK编码),不超过%(limit)s。"
        ) % {"limit": filesizeformat(settings.IMPORT_MAX_BYTES)}

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件大小为%(size)s,超过%(limit)s的上限。")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class SignedConfirmForm(ConfirmImportForm):
    """The confirm step's form: the temporary file's name comes back signed for the user
    who uploaded it (and for an hour), so no other file of the server's temp folder can be
    named, read or deleted through it."""

    user_pk = None
    resource_count = 1

    def clean_format(self):
        return self.clean_index("format", len(FORMATS))

    def clean_resource(self):
        return self.clean_index("resource", self.resource_count, blank=True)

    def clean_index(self, name: str, count: int, blank: bool = False) -> str:
        """A choice the preview made (a small index), or a message: never an IndexError."""
        value = self.cleaned_data.get(name) or ""
        if (blank and value == "") or (value.isascii() and value.isdigit() and int(value) < count):
            return value
        raise ValidationError(_("导入确认已失效或不属于您,请重新上传文件。"), code="choice")

    def clean_import_file_name(self):
        try:
            name = signing.TimestampSigner(salt=confirm_salt(self.user_pk)).unsign(
                self.cleaned_data["import_file_name"], max_age=CONFIRM_MAX_AGE
            )
        except signing.BadSignature:
            raise ValidationError(
                _("导入确认已失效或不属于您,请重新上传文件。"), code="signature"
            ) from None
        return os.path.basename(name)


CONFIRM_MAX_AGE = 3600  # seconds between the preview and the confirmation


def confirm_salt(user_pk) -> str:
    return f"plantracker.import-confirm.{user_pk}"


class ImportExportAdminMixin(ImportExportMixin):
    """Import (preview, then confirm) and export of xlsx and CSV, for admins only."""

    import_template_name = "admin/import_export/plantracker_import.html"
    import_form_class = UploadForm
    # No choosing columns on export: an export is also the template for an import.
    export_form_class = ExportForm

    def get_import_formats(self):
        return FORMATS

    def get_export_formats(self):
        return FORMATS

    def may_import_export(self, user) -> bool:
        """Who may import and export: the project binds its admin role here
        (departments.resources.AdminImportExportMixin); a superuser by default."""
        return user.is_active and user.is_superuser

    def has_import_permission(self, request):
        return self.may_import_export(request.user)

    def has_export_permission(self, request):
        return self.may_import_export(request.user)

    confirm_form_class = SignedConfirmForm

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if initial.get("import_file_name"):
            signer = signing.TimestampSigner(salt=confirm_salt(request.user.pk))
            initial["import_file_name"] = signer.sign(os.path.basename(initial["import_file_name"]))
        return initial

    def create_confirm_form(self, request, import_form=None):
        form = super().create_confirm_form(request, import_form)
        form.user_pk = request.user.pk
        form.resource_count = len(self.get_import_resource_classes(request))
        return form

    def write_to_tmp_storage(self, import_file, input_format):
        tmp_storage = self.get_tmp_storage_class()(
            encoding=None,
            read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs(),
        )
        tmp_storage.save(b"".join(import_file.chunks()))
        return tmp_storage

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, SheetError):
            form.add_error("import_file", e.message)
        else:
            form.add_error("import_file", _("无法读取该文件,请确认所选格式与文件一致(xlsx或CSV)。"))

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def process_result(self, result, request):
        """After "confirm": if the file no longer imports cleanly (the data changed since the
        preview), say so; nothing was written."""
        if result.has_errors() or result.has_validation_errors():
            problems = [str(error.error) for error in result.base_errors]
            problems += [str(e.error) for row in result.error_rows for e in row.errors]
            problems += [m for row in result.invalid_rows for m in row.error.messages]
            messages.error(
                request,
                _("导入未完成,数据未作任何修改:%(problems)s")
                % {"problems": ";".join(problems[:5])},
            )
            app_label, model_name = self.get_model_info()
            return HttpResponseRedirect(
                reverse(f"admin:{app_label}_{model_name}_import", current_app=self.admin_site.name)
            )
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        messages.success(
            request,
            _("导入完成:新增%(new)s条,更新%(update)s条,无变化%(skip)s条。")
            % {
                "new": result.totals[RowResult.IMPORT_TYPE_NEW],
                "update": result.totals[RowResult.IMPORT_TYPE_UPDATE],
                "skip": result.totals[RowResult.IMPORT_TYPE_SKIP],
            },
        )

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """Numbers stay numbers in both formats (the library turns them into text for CSV)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(request, queryset, force_native_type=True, **kwargs)
        return file_format.export_data(data)

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        resource = self.get_import_resource_classes(None)[0]()
        context["expected_headers"] = "、".join(resource.headers())
        return context
