"""The admin imports' fast reader (spreadsheets.reading.plain_rows, python-calamine): it
reads only files that one streamed pass over the XML shows plain and small, gives the values
the careful reader (openpyxl, xlsx_rows) gives, and leaves every other file to the careful
reader, whose messages name the problem."""

import io

import pytest
from openpyxl import Workbook

from spreadsheets import reading
from spreadsheets.importing import XLSX
from spreadsheets.reading import SheetError, plain_rows

from . import hostile

HEADERS = ["节点编号", "进展状态", "完成百分比", "完成情况"]
ROW = ["1", "进行中", 50, "已完成初稿。"]


def workbook_bytes(rows, *, formula=False, merged=False, sheets=1) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if formula:
        sheet["C3"] = "=1+1"
    if merged:
        sheet.merge_cells("A5:B5")
    for n in range(1, sheets):
        book.create_sheet(f"表{n}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def careful_rows(content: bytes) -> list[list]:
    book = reading.open_xlsx(content)
    return list(reading.xlsx_rows(book.worksheets[0], width=4))


def test_a_plain_sheet_is_read_as_the_careful_reader_reads_it():
    rows = [HEADERS, ROW, ["2", "已完成", 100.5, ""], [None, None, None, None], ["3", "", 7, "x"]]
    content = workbook_bytes(rows)
    fast = plain_rows(content)
    assert fast is not None
    assert [row + [None] * (4 - len(row)) for row in fast] == careful_rows(content)
    assert fast[1] == ["1", "进行中", 50, "已完成初稿。"]
    assert type(fast[1][2]) is int and fast[2][2] == 100.5


def test_a_sheet_starting_below_and_right_of_a1_keeps_its_row_and_column_numbers():
    book = Workbook()
    book.active["C4"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    fast = plain_rows(buffer.getvalue())
    assert len(fast) == 4 and fast[3][2] == "x" and fast[3][:2] == [None, None]


@pytest.mark.parametrize(
    "content",
    [
        workbook_bytes([HEADERS, ROW, ROW], formula=True),
        workbook_bytes([HEADERS, ROW, ROW, ROW, ROW], merged=True),
        workbook_bytes([HEADERS, ROW], sheets=2),
        workbook_bytes([HEADERS, ["=1+1", "进行中", 50, "x"]]),  # text that reads as a formula
        hostile.lying_dimension(HEADERS, [ROW] * 20),
        hostile.far_cell(HEADERS, [ROW]),
        hostile.far_row(HEADERS, [ROW]),
        hostile.stray_cell(HEADERS, [ROW], "A1048576"),
        hostile.stray_cell(HEADERS, [ROW], "XFD2"),
        hostile.spaced_tags(HEADERS, [ROW], "BL100000"),
        b"not a zip at all",
    ],
    ids=[
        "formula",
        "merged",
        "two sheets",
        "formula text",
        "dimension",
        "far cell",
        "far row",
        "far row of a cell in row 2",
        "far column of a cell in row 2",
        "a cell and a formula spelled with a line break",
        "not xlsx",
    ],
)
def test_anything_not_plain_is_left_to_the_careful_reader(content):
    assert plain_rows(content) is None


def test_more_cells_than_a_file_may_have_go_the_careful_way(settings):
    settings.IMPORT_MAX_CELLS = 100
    assert plain_rows(hostile.many_rows(HEADERS, 30, ROW)) is None


def test_a_zip_bomb_is_refused_before_anything_is_read():
    with pytest.raises(SheetError, match="远超文件本身大小"):
        plain_rows(hostile.zip_bomb(HEADERS))


def test_the_admin_format_names_the_formula_cell_as_before():
    with pytest.raises(SheetError, match="第3行C列:单元格是公式"):
        XLSX().create_dataset(workbook_bytes([HEADERS, ROW, ROW], formula=True))


def test_the_admin_format_reads_a_plain_file_with_calamine_into_the_same_dataset():
    content = workbook_bytes([HEADERS, ROW, ["2", "已完成", 100, "完成"]])
    dataset = XLSX().create_dataset(content)
    assert dataset.headers == HEADERS
    assert list(dataset[1]) == ["2", "已完成", 100, "完成"]
