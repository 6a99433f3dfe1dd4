"""Reading spreadsheets that people upload, the careful way.

Every check names the problem in Chinese (with row and column where there is one) by
raising SheetError; callers write nothing when it is raised. Used by the plan import, the
offline progress templates and the admin imports.

The work is bounded by what the file really holds and what its format needs, never by what
it declares: the zip directory is checked before anything is unpacked (size of the whole,
of the shared strings and styles, ratio to the file's size, number of parts and sheets);
sheets are read streaming (openpyxl read-only), row by row as the XML holds them, never
padded to the `<dimension>` a sheet claims (or, for the admin's imports, by python-calamine
when one streamed pass over the XML has shown the sheet plain and small: `plain_rows`);
only the columns a format needs are kept; and reading stops with a message after the most
rows and cells a file may have. `Work` counts the rows and cells parsed, so tests can
assert on the work done."""

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
# What an upload may unpack to. Real workbooks unpack to 5–20 times their size (50,000
# rows of reports: 1.5 MB → 24 MB); the bounds keep the peak memory of a read under 250 MB
# (tests/test_security.py measures it).
MAX_UNZIPPED_RATIO = 40
MAX_UNZIPPED_FLOOR = 1024 * 1024  # a tiny file may compress unusually well
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024  # kept in memory whole by every reader
MAX_STYLES_BYTES = 8 * 1024 * 1024
MAX_PARTS = 500
MAX_SHEETS = 50
MAX_MERGED_RANGES = 20_000
MAX_COLUMNS = 64  # the widest table a format here has is far narrower
BLANK_ROWS_PAST_LIMIT = 1_000  # empty rows a tool may leave past the last allowed row
MERGE_CELL = re.compile(
    rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]{1,3}\d{1,7}(?::[A-Z]{1,3}\d{1,7})?)\""
)
WORKSHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
FORMULAS = (ArrayFormula, DataTableFormula)  # the values openpyxl gives other formula cells
CHUNK = 1024 * 1024


class SheetError(Exception):
    """A problem with an uploaded file, described for the person who uploaded it."""

    def __init__(self, message: str, *, row: int | None = None, column: int | None = None):
        self.row, self.column = row, column
        self.problem = message  # without the row and column
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
class Work:
    """What a read really parsed: rows and cells present in the sheet's XML."""

    rows: int = 0
    cells: int = 0


@dataclass
class Table:
    """The rows of an uploaded table, each with its row number in the file."""

    headers: list[str]
    rows: list[tuple[int, list]]
    work: Work | None = None


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def max_cells() -> int:
    return settings.IMPORT_MAX_CELLS


def check_size(data: bytes, max_bytes: int | None = None) -> None:
    limit = max_bytes or settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise SheetError(
            _("文件大小为%(size)s,超过%(limit)s的上限。")
            % {"size": filesizeformat(len(data)), "limit": filesizeformat(limit)}
        )
    if not data:
        raise SheetError(_("文件是空的。"))


def refuse_bomb(size: int) -> SheetError:
    return SheetError(
        _("文件解压后达%(size)s,远超文件本身大小,可能是恶意文件,已拒绝。")
        % {"size": filesizeformat(size)}
    )


def check_archive(archive: zipfile.ZipFile, compressed: int) -> None:
    """Refuses, from the zip directory alone (nothing unpacked yet), a workbook that would
    unpack to more than a reader may hold. Python's zipfile stops a part at the size the
    directory declares (and fails its checksum), so a lying directory gains nothing."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise SheetError(
            _("文件包含%(count)s个内部部件,超过%(limit)s个的上限,可能是恶意文件,已拒绝。")
            % {"count": len(parts), "limit": MAX_PARTS}
        )
    unzipped = sum(info.file_size for info in parts)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise SheetError(
            _("文件解压后达%(size)s,超过%(limit)s的上限,请分成几个文件上传。")
            % {"size": filesizeformat(unzipped), "limit": filesizeformat(MAX_UNZIPPED_BYTES)}
        )
    if unzipped > max(compressed * MAX_UNZIPPED_RATIO, MAX_UNZIPPED_FLOOR):
        raise refuse_bomb(unzipped)
    for info in parts:
        name = info.filename.lower()
        if name.endswith("sharedstrings.xml") and info.file_size > MAX_SHARED_STRINGS_BYTES:
            raise SheetError(
                _("文件中的文字内容解压后达%(size)s,超过%(limit)s的上限。")
                % {
                    "size": filesizeformat(info.file_size),
                    "limit": filesizeformat(MAX_SHARED_STRINGS_BYTES),
                }
            )
        if name.endswith("styles.xml") and info.file_size > MAX_STYLES_BYTES:
            raise refuse_bomb(info.file_size)
    sheets = [info for info in parts if WORKSHEET_PART.match(info.filename)]
    if len(sheets) > MAX_SHEETS:
        raise SheetError(
            _("文件有%(count)s个工作表,超过%(limit)s个的上限。")
            % {"count": len(sheets), "limit": MAX_SHEETS}
        )


def merged_refs(archive: zipfile.ZipFile, name: str) -> list[str]:
    """The merged ranges a sheet's XML names, read in chunks (never the whole part)."""
    found: list[str] = []
    tail = b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            text = tail + chunk
            last_end = 0
            for match in MERGE_CELL.finditer(text):
                found.append(match[1].decode())
                last_end = match.end()
            # Keep what may be the start of a tag cut in two, never a tag already counted.
            tail = text[max(last_end, len(text) - 200) :]
            if len(found) > MAX_MERGED_RANGES:
                raise SheetError(_("表格中的合并单元格过多,请取消合并后再上传。"))
    return found


def open_xlsx(data: bytes, *, max_bytes: int | None = None):
    """A read-only (streaming) openpyxl workbook from uploaded bytes, after the checks a
    careful clerk would make: size, old .xls, password protection, not a zip, a zip that
    unpacks to far more than its size. `workbook.merged` maps each sheet's XML part to the
    merged ranges it names (read from the XML: a read-only sheet does not keep them)."""
    check_size(data, max_bytes)
    if data.startswith(OLE_SIGNATURE):
        if ENCRYPTED_STREAM in data:
            raise SheetError(_("文件设置了密码保护,请取消密码后再上传。"))
        raise SheetError(_("这是旧版Excel(.xls)文件,请在Excel中另存为.xlsx格式后再上传。"))
    if not data.startswith(ZIP_SIGNATURE):
        raise SheetError(_("文件不是xlsx格式的Excel文件,请上传.xlsx文件。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive, len(data))
            merged = {
                name: merged_refs(archive, name)
                for name in archive.namelist()
                if WORKSHEET_PART.match(name)
            }
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except SheetError:
        raise
    except Exception:  # noqa: BLE001 - any failure to read is the file's fault here
        raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。")) from None
    workbook.merged = merged
    workbook.has_merged_cells = any(merged.values())
    return workbook


# --- The fast path: python-calamine for plain sheets ---------------------------------------

# Cells, rows and formulas are counted with bytes.count (C speed) in their plain spelling;
# a sheet spelling them otherwise (a namespace prefix, or a tab or line break after the
# name, which bytes.count of "<c " would miss) is left to the careful reader.
PREFIXED_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:(?:c|row|f)[\s>/]|(?:c|row|f)[\t\r\n])")
# Positions as Excel, LibreOffice and openpyxl write them (r first); a file writing them
# otherwise counts fewer positions than cells and is left to the careful reader.
CELL_ROW = re.compile(rb"<c r=\"[A-Z]{1,3}(\d{1,7})\"")
CELL_COLUMN = re.compile(rb"<c r=\"([A-Z]{1,3})\d")
ROW_REF = re.compile(rb"<row r=\"(\d{1,7})\"")
DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]{0,50}?\bref=\"(?:[A-Z]{1,3}\d{1,7}:)?([A-Z]{1,3})(\d{1,7})\""
)
PLAIN_VALUES = (str, float, int, bool)


@dataclass
class SheetScan:
    """What a sheet's XML holds, counted in one streamed pass (never the whole part)."""

    cells: int = 0
    cell_refs: int = 0
    rows: int = 0
    row_refs: int = 0
    formulas: int = 0
    last_row: int = 0
    last_column: int = 0
    declared_cells: int = 0  # what the sheet's <dimension> claims: a reader may reserve it
    prefixed: bool = False  # cells, rows or formulas spelled otherwise (PREFIXED_TAG)
    merged: bool = False  # "mergeCell" anywhere (a merged range, or text that says so)


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def scan_sheet(archive: zipfile.ZipFile, name: str) -> SheetScan:
    """One pass over the part in chunks, each cut before its last "<": every tag looked for
    starts with "<" and holds none, so a chunk's tags are whole and none is counted twice."""
    scan = SheetScan()
    tail = b""
    with archive.open(name) as part:
        while True:
            chunk = part.read(CHUNK)
            text = tail + chunk
            cut = text.rfind(b"<") if chunk else len(text)
            if cut <= 0 and chunk:
                cut = len(text)  # no tag at all in a whole chunk
            head, tail = text[:cut], text[cut:]
            if PREFIXED_TAG.search(head):
                scan.prefixed = True
                return scan
            scan.cells += sum(head.count(tag) for tag in (b"<c ", b"<c>", b"<c/"))
            scan.rows += sum(head.count(tag) for tag in (b"<row ", b"<row>", b"<row/"))
            scan.formulas += sum(head.count(tag) for tag in (b"<f ", b"<f>", b"<f/"))
            numbers = CELL_ROW.findall(head)  # bytes, not (column, row) pairs: a third the time
            scan.cell_refs += len(numbers)
            if numbers:
                columns = set(CELL_COLUMN.findall(head))
                scan.last_column = max(scan.last_column, *map(column_number, columns))
                scan.last_row = max(scan.last_row, *map(int, set(numbers)))
            row_numbers = ROW_REF.findall(head)
            scan.row_refs += len(row_numbers)
            if row_numbers:
                scan.last_row = max(scan.last_row, *(int(n) for n in set(row_numbers)))
            if b"mergeCell" in head:
                scan.merged = True
            if b"dimension" in head:  # once, at the top: the regex need not search the rest
                for column, number in DIMENSION.findall(head):
                    declared = column_number(column) * int(number)
                    scan.declared_cells = max(scan.declared_cells, declared)
            if not chunk:
                return scan


def plain_rows(data: bytes, *, max_bytes: int | None = None) -> list[list] | None:
    """The rows of an xlsx upload read by python-calamine (Rust: some ten times faster than
    openpyxl), or None when the file is not plainly safe to read that way; the caller then
    reads it the careful way (open_xlsx, xlsx_rows), which names every problem.

    The checks come first and bound the work by what the file holds: the same size, format
    and zip checks as open_xlsx; one worksheet, no merged cells; then one streamed pass over
    the sheet's XML: no formula, every row and cell with its position, at most the rows,
    columns and cells a file may have, and a grid (last row × last column, what calamine
    allocates; and the <dimension> the sheet claims) no larger than the cells a file may
    have. Values are kept only when they are
    text, numbers or booleans; whole numbers come as int, empty cells as None, as openpyxl
    gives them."""
    check_size(data, max_bytes)
    if not data.startswith(ZIP_SIGNATURE):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_archive(archive, len(data))
            sheets = [name for name in archive.namelist() if WORKSHEET_PART.match(name)]
            if len(sheets) != 1:
                return None
            scan = scan_sheet(archive, sheets[0])
    except SheetError:
        raise
    except Exception:  # noqa: BLE001 - the careful reader says what is wrong with it
        return None
    if (
        scan.prefixed
        or scan.merged
        or scan.formulas
        or scan.cells != scan.cell_refs
        or scan.rows != scan.row_refs
        or scan.cells > max_cells()
        or scan.last_row > max_rows() + 1
        or scan.last_column > MAX_COLUMNS
        or scan.last_row * scan.last_column > max_cells()
        or scan.declared_cells > max_cells()
    ):
        return None
    try:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if len(workbook.sheet_names) != 1:
            return None
        grid = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - the careful reader says what is wrong with it
        return None
    rows = []
    for values in grid:
        row = []
        for value in values:
            if value == "":
                value = None
            elif type(value) is float and value.is_integer():
                value = int(value)
            elif not isinstance(value, PLAIN_VALUES):
                return None  # dates, times, errors: as the careful reader gives them
            elif isinstance(value, str) and value[:1] == "=":
                return None  # text that reads as a formula: refused by the careful reader
            row.append(value)
        rows.append(row)
    return rows


def merged_ranges(sheet) -> list[CellRange]:
    """The merged ranges of a sheet of a workbook from open_xlsx."""
    # The read-only sheet's XML part: openpyxl 3.1 keeps it in _worksheet_path.
    refs = sheet.parent.merged.get(sheet._worksheet_path.lstrip("/"), [])
    return [CellRange(ref) for ref in refs]


def only_sheet(workbook):
    """The one sheet of a workbook that must have exactly one."""
    if len(workbook.sheetnames) != 1:
        raise SheetError(
            _("文件应只有一个工作表,实际有%(count)s个:%(names)s。请删除多余的工作表。")
            % {"count": len(workbook.sheetnames), "names": "、".join(workbook.sheetnames)}
        )
    return workbook.worksheets[0]


def read_table(
    data: bytes,
    expected: Sequence[str],
    *,
    filename: str = "",
    max_bytes: int | None = None,
) -> Table:
    """The rows under a header row that must be exactly `expected`, from an xlsx file with
    one sheet (or a CSV file, in UTF-8 or GBK). Refuses formula cells, merged cells, and
    blank rows between data rows; trailing blank rows are ignored, and so are columns past
    the expected ones."""
    work = Work()
    if filename.lower().endswith(".csv"):
        raw_rows = iter(read_csv_rows(data, max_bytes))
    else:
        workbook = open_xlsx(data, max_bytes=max_bytes)
        sheet = only_sheet(workbook)
        if workbook.has_merged_cells:
            raise SheetError(_("表格中有合并单元格,请取消合并后再上传。"))
        raw_rows = xlsx_rows(sheet, width=len(expected), beyond="ignore", work=work)
    rows = iter(raw_rows)
    header_row = next(rows, None)
    headers = [clean_header(value) for value in (header_row or [])]
    while headers and headers[-1] == "":
        headers.pop()
    check_headers(headers, expected)
    table = Table(headers=headers, rows=[], work=work)
    blank = None
    for number, values in enumerate(rows, start=2):
        if number > max_rows() + 1:
            raise too_many_rows()
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


def too_many_rows() -> SheetError:
    return SheetError(
        _("表格超过%(limit)s行的上限,请分成几个文件上传。") % {"limit": max_rows() + 1}
    )


def too_many_cells(limit: int | None = None) -> SheetError:
    return SheetError(
        _("表格中的单元格超过%(limit)s个的上限,请删除多余的内容或分成几个文件上传。")
        % {"limit": limit or max_cells()}
    )


def numbered_rows(sheet, *, width: int, beyond: str = "refuse", work: Work | None = None):
    """(row number, values of columns 1..width) for each row the sheet's XML holds, in
    the order it holds them; blank rows and the sheet's declared <dimension> are never
    made up. A formula cell is refused naming its row and column, anywhere in the sheet; a
    value past `width` is refused (beyond="refuse") or dropped ("ignore"); a value in a row
    past the most rows a file may have, or more cells than a file may have, is refused."""
    work = work if work is not None else Work()
    workbook = sheet.parent
    limit_rows, limit_cells = max_rows() + 1, max_cells()  # + 1: the header row
    source = sheet._get_source()  # openpyxl 3.1's read-only sheet: its XML part, streamed
    try:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=False,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        rows = parser.parse()
        while True:
            try:
                number, cells = next(rows)
            except StopIteration:
                return
            except SheetError:
                raise
            except Exception:  # noqa: BLE001 - any failure to parse is the file's fault
                raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。")) from None
            work.rows += 1
            work.cells += len(cells)
            if work.cells > limit_cells:
                raise too_many_cells()
            values = [None] * width
            for cell in cells:
                column, value = cell["column"], cell["value"]
                if (isinstance(value, str) and value[:1] == "=") or isinstance(value, FORMULAS):
                    raise SheetError(
                        _("单元格是公式,请复制后“选择性粘贴为数值”再上传。"),
                        row=number,
                        column=column,
                    )
                if column <= width:
                    values[column - 1] = value
                elif beyond == "refuse" and not is_blank(value):
                    raise SheetError(
                        _("这一列没有表头,请删除其中的内容或补上表头。"), row=number, column=column
                    )
            if number > limit_rows:
                if any(not is_blank(value) for value in values):
                    raise too_many_rows()
                if work.rows > limit_rows + BLANK_ROWS_PAST_LIMIT:
                    raise too_many_rows()
                continue
            yield number, values
    finally:
        source.close()


def xlsx_rows(
    sheet, *, width: int = MAX_COLUMNS, beyond: str = "refuse", work: Work | None = None
) -> Iterator[list]:
    """The sheet's rows of values from row 1, each `width` long: the rows numbered_rows
    finds, with the rows between them (which the XML leaves out) as blank rows, so row n of
    the file is the n-th row yielded. Never more rows than a file may have."""
    expected = 1
    for number, values in numbered_rows(sheet, width=width, beyond=beyond, work=work):
        if number < expected:  # rows out of order: the file was not written by a spreadsheet
            raise SheetError(_("文件已损坏或不是有效的xlsx文件,无法读取。"))
        for _gap in range(expected, number):
            yield [None] * width
        expected = number + 1
        yield values


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
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(rows) > max_rows() or len(row) > MAX_COLUMNS:
                raise too_many_rows() if len(rows) > max_rows() else too_wide()
            rows.append([value if value != "" else None for value in row])
    except csv.Error as error:
        raise SheetError(
            _("CSV文件格式有误(%(error)s),请用Excel另存为CSV后再上传。") % {"error": error}
        ) from None
    return rows


def too_wide() -> SheetError:
    return SheetError(_("表格超过%(limit)s列的上限。") % {"limit": MAX_COLUMNS})


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
