"""Writing Excel workbooks the same careful way everywhere."""

import datetime
import re
from collections.abc import Iterable, Sequence
from io import BytesIO

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

# Text a spreadsheet may run as a formula starts with one of these: the ASCII signs, their
# full-width forms (an IME types them; some spreadsheet programs take them as formulas), or
# a tab or carriage return before one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")
# Characters an xlsx file cannot hold: control characters (Word's line break \x0b becomes a
# newline first) and the non-characters U+FFFE, U+FFFF.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
HEADER_FILL = PatternFill("solid", fgColor="E9EDF2")
PLAIN_VALUES = (int, float, datetime.date)  # kept as they are (bool is an int)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value):
    """A cell value a spreadsheet will not run as a formula: text that starts with = + - @
    (ASCII or full-width, or a tab or carriage return) gets a leading apostrophe. Numbers
    and dates stay as they are; anything else (lazy translations, model objects) becomes
    text, without the characters a spreadsheet cannot hold."""
    if value is None or isinstance(value, PLAIN_VALUES):
        return value
    if type(value) is not str:
        value = str(value)
    if "\x0b" in value:
        value = value.replace("\x0b", "\n")
    if ILLEGAL_CHARACTERS.search(value):  # rare: search alone is the common, cheap case
        value = ILLEGAL_CHARACTERS.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unsafe(value) -> str:
    """The inverse of `safe`, for every importer: cell text as written, without the
    apostrophe an export put before formula-like text (None is "")."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] == "'" and text[1:2] and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def add_table(
    workbook: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    widths: Sequence[int] | None = None,
):
    """A sheet with a bold, frozen header row, wrapped text and the given column widths."""
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([safe(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append([safe(value) for value in row])
    for index, header in enumerate(headers, start=1):
        width = widths[index - 1] if widths else max(10, len(str(header)) * 2 + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.freeze_panes = "A2"
    return sheet


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def response(workbook: Workbook, filename: str) -> HttpResponse:
    buffer = BytesIO()
    workbook.save(buffer)
    result = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    result["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return result
