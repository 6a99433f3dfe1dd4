"""Reading spreadsheets that people upload, the careful way.

Every check names the problem in Chinese (with row and column where there is one) by
raising SheetError; callers write nothing when it is raised. Used by the plan import, the
offline progress templates and the admin imports."""

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
MAX_UNZIPPED_RATIO = 100  # xlsx compresses text well, but not a hundredfold
MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell ")
FORMULAS = (ArrayFormula, DataTableFormula)  # the values openpyxl gives other formula cells


class SheetError(Exception):
    """A problem with an uploaded file, described for the person who uploaded it."""

    def __init__(self, message: str, *, row: int | None = None, column: int | None = None):
        self.row, self.column = row, column
        if row is not None and column is not None:
            message = _("第%(row)s行%(col)s列:%(message)s") % {
                "row": row,
                "col": get_column_letter(column),
                "message": message,
            }
        elif row is not None:
            message = _("第%(row)s行:%(message)s") % {"row": row, "message": message}
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """The rows of an uploaded table, each with its row number in the file."""

    headers: list[str]
    rows: list[tuple[int, list]]


def check_size(data: bytes, max_bytes: int | None = None) -> None:
    limit = max_bytes or settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise SheetError(
            _("文件大小为%(size)s,超过%(limit)s的上限。")
            % {"size": filesizeformat(len(data)), "limit": filesizeformat(limit)}
        )
    if not data:
        raise SheetError(_("文件是空的。"))


def open_xlsx(data: bytes, *, read_only: bool = True, max_bytes: int | None = None):
    """An openpyxl workbook from uploaded bytes, after the checks a careful clerk would make:
    size, old .xls, password protection, not a zip, a zip that unpacks to far more than its
    size."""
    check_size(data, max_bytes)
    if data.startswith(OLE_SIGNATURE):
        if ENCRYPTED_STREAM in data:
            raise SheetError(_("文件设置了密码保护,请取消密码后再上传。"))
        raise SheetError(_("这是旧版Excel(.xls)文件,请在Excel中另存为.xlsx格式后再上传。"))
    if not data.startswith(ZIP_SIGNATURE):
        raise SheetError(_("文件不是xlsx格式的Excel文件,请上传.xlsx文件。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
            if unzipped > max(len(data) * MAX_UNZIPPED_RATIO, 1024 * 1024):
                raise SheetError(
                    _("文件解压后达%(size)s,远超文件本身大小,可能是恶意文件,已拒绝。")
                    % {"size": filesizeformat(unzipped)}
                )
            merged = any(
                MERGE_CELL.search(archive.read(name))
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
        workbook = load_workbook(io.BytesIO(data), read_only=read_only, data_only=False)
    except SheetError:
        raise
    except Exception:  # noqa: BLE001 - any failure to read is the file's fault here
        raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。")) from None
    workbook.has_merged_cells = merged
    return workbook


def read_table(
    data: bytes,
    expected: Sequence[str],
    *,
    filename: str = "",
    max_bytes: int | None = None,
) -> Table:
    """The rows under a header row that must be exactly `expected`, from an xlsx file with
    one sheet (or a CSV file, in UTF-8 or GBK). Refuses formula cells, merged cells, and
    blank rows between data rows; trailing blank rows are ignored."""
    if filename.lower().endswith(".csv"):
        raw_rows = read_csv_rows(data, max_bytes)
    else:
        workbook = open_xlsx(data, max_bytes=max_bytes)
        if len(workbook.sheetnames) != 1:
            raise SheetError(
                _("文件应只有一个工作表,实际有%(count)s个:%(names)s。请删除多余的工作表。")
                % {"count": len(workbook.sheetnames), "names": "、".join(workbook.sheetnames)}
            )
        if workbook.has_merged_cells:
            raise SheetError(_("表格中有合并单元格,请取消合并后再上传。"))
        raw_rows = xlsx_rows(workbook.worksheets[0])
    rows = iter(raw_rows)
    header_row = next(rows, None)
    headers = [clean_header(value) for value in (header_row or [])]
    while headers and headers[-1] == "":
        headers.pop()
    check_headers(headers, expected)
    table = Table(headers=headers, rows=[])
    blank = None
    for number, values in enumerate(rows, start=2):
        values = list(values[: len(expected)]) + [None] * (len(expected) - len(values))
        if all(is_blank(value) for value in values):
            blank = blank or number
            continue
        if blank:
            raise SheetError(_("是空行,请删除表格中间的空行。"), row=blank)
        table.rows.append((number, values))
    if not table.rows:
        raise SheetError(_("表格中没有数据行。"))
    return table


def xlsx_rows(sheet):
    """The sheet's rows of values, read lazily: a worksheet whose XML breaks half way is a
    SheetError too, not a crash. A formula cell is refused, naming its row and column (rows
    come one per sheet row from row 1, each value at its column)."""
    rows = sheet.iter_rows(values_only=True)  # no cell objects: a tenth of a large read
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception:  # noqa: BLE001 - any failure to parse is the file's fault
            raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。")) from None
        number += 1
        for column, value in enumerate(row, start=1):
            if (isinstance(value, str) and value[:1] == "=") or isinstance(value, FORMULAS):
                raise SheetError(
                    _("单元格是公式,请复制后“选择性粘贴为数值”再上传。"),
                    row=number,
                    column=column,
                )
        yield list(row)


def read_csv_rows(data: bytes, max_bytes: int | None = None) -> list[list]:
    check_size(data, max_bytes)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any bytes
        raise SheetError(_("无法识别文件编码,请另存为UTF-8编码的CSV文件。"))
    if "\x00" in text:
        raise SheetError(_("文件不是文本格式的CSV文件。"))
    try:
        return [
            [value if value != "" else None for value in row]
            for row in csv.reader(io.StringIO(text, newline=""))
        ]
    except csv.Error as error:
        raise SheetError(
            _("CSV文件格式有误(%(error)s),请用Excel另存为CSV后再上传。") % {"error": error}
        ) from None


def clean_header(value) -> str:
    return "" if value is None else str(value).strip()


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_headers(found: Sequence[str], expected: Sequence[str]) -> None:
    if list(found) == list(expected):
        return
    missing = [h for h in expected if h not in found]
    unknown = [h for h in found if h not in expected]
    details = []
    if missing:
        details.append(_("缺少:%(names)s") % {"names": "、".join(missing)})
    if unknown:
        details.append(_("多出:%(names)s") % {"names": "、".join(h or _("(空)") for h in unknown)})
    if not missing and not unknown:
        details.append(_("列的顺序不对"))
    raise SheetError(
        _("表头与模板不符(%(details)s)。应为:%(expected)s;实际为:%(found)s。")
        % {
            "details": ";".join(details),
            "expected": "、".join(expected),
            "found": "、".join(found) or _("(空)"),
        }
    )
