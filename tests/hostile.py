"""Hostile workbooks, written part by part so that they can lie: a <dimension> that claims the
whole grid, a cell at XFD1048576, shared strings by the million, XML nested thousands deep,
many sheets, an entity bomb, a zip directory that understates what it holds. Used by
tests/test_security.py and tests/test_generated_input.py against every upload path."""

import io
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}{shared}</Types>"
)
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SHARED_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def cell_xml(row: int, column: int, value) -> str:
    ref = f"{get_column_letter(column)}{row}"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, SharedString):
        return f'<c r="{ref}" t="s"><v>{value.index}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


class SharedString:
    def __init__(self, index: int):
        self.index = index


def rows_xml(rows) -> str:
    """<row> elements for (row number, [values from column 1]) pairs."""
    parts = []
    for number, values in rows:
        cells = "".join(cell_xml(number, column, v) for column, v in enumerate(values, 1))
        parts.append(f'<row r="{number}">{cells}</row>')
    return "".join(parts)


def sheet_xml(rows_part: str, dimension: str | None = None, merged=()) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    merge = ""
    if merged:
        refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
        merge = f'<mergeCells count="{len(merged)}">{refs}</mergeCells>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}'
        f"<sheetData>{rows_part}</sheetData>{merge}</worksheet>"
    )


def shared_strings_xml(strings) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{items}</sst>'


def workbook(
    sheets: list[str], shared: str | None = None, extra: dict | None = None, level: int = 9
) -> bytes:
    """An xlsx from sheet XML texts (and shared strings, and any extra parts)."""
    names = "".join(
        f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, len(sheets) + 1)
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        f"<sheets>{names}</sheets></workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    if shared is not None:
        rels += f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{rels}</Relationships>"
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>'
        for n in range(1, len(sheets) + 1)
    )
    shared_type = (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_TYPE}"/>'
        if shared is not None
        else ""
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr(
            "[Content_Types].xml", CONTENT_TYPES.format(sheets=overrides, shared=shared_type)
        )
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for n, text in enumerate(sheets, 1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", text)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def table(headers, rows, **kwargs) -> bytes:
    """A one-sheet workbook: the header row, then the rows, as an honest writer would."""
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    return workbook([sheet_xml(rows_xml(numbered), **kwargs)])


# --- The attacks ---------------------------------------------------------------------------


def lying_dimension(headers, rows) -> bytes:
    """A small honest table whose sheet claims A1:XFD1048576 (17 billion cells)."""
    return table(headers, rows, dimension="A1:XFD1048576")


def far_cell(headers, rows, value="x") -> bytes:
    """An honest table plus one cell at XFD1048576, the last cell of the grid."""
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    far = f'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>{value}</t></is></c></row>'
    return workbook([sheet_xml(rows_xml(numbered) + far, dimension="A1:XFD1048576")])


def far_row(headers, rows, value="x") -> bytes:
    """An honest table plus a value in column A of the last row of the grid."""
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    far = f'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>{value}</t></is></c></row>'
    return workbook([sheet_xml(rows_xml(numbered) + far)])


def stray_cell(headers, rows, ref: str, value="x") -> bytes:
    """An honest table (no <dimension>) whose second row also holds a cell at `ref`, far
    from that row or column: a reader sizing its grid by cell positions allocates to it."""
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    stray = f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c></row>'
    body = rows_xml(numbered).replace("</row>", stray, 2).replace(stray, "</row>", 1)
    return workbook([sheet_xml(body)])


def spaced_tags(headers, rows, ref: str) -> bytes:
    """An honest table plus a cell at `ref` and a formula, their tag names followed by a line
    break or a tab (XML allows any white space there): counted as "<c " they would be
    missed."""
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    far = f'<row r="3"><c\nr="{ref}"><f\t>1+1</f><v>2</v></c></row>'
    return workbook([sheet_xml(rows_xml(numbered) + far)])


def many_rows(headers, count: int, values) -> bytes:
    """`count` data rows, each `values`."""
    return table(headers, [list(values)] * count)


def many_strings(headers, count: int, length: int = 6) -> bytes:
    """A shared-string table of `count` distinct short strings, only a few of them used."""
    strings = [str(n).zfill(length) for n in range(count)]
    numbered = [(1, list(headers)), (2, [SharedString(0)])]
    return workbook([sheet_xml(rows_xml(numbered))], shared=shared_strings_xml(strings))


def deep_xml(headers, depth: int) -> bytes:
    """A cell whose inline string is nested `depth` elements deep."""
    nested = "<x>" * depth + "y" + "</x>" * depth
    numbered = [(1, list(headers))]
    deep = f'<row r="2"><c r="A2" t="inlineStr"><is><t>a</t>{nested}</is></c></row>'
    return workbook([sheet_xml(rows_xml(numbered) + deep)])


def entity_bomb(headers) -> bytes:
    """The "billion laughs": an entity that expands to a billion characters."""
    lol = '<!ENTITY a0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    numbered = [(1, list(headers))]
    text = sheet_xml(
        rows_xml(numbered) + '<row r="2"><c r="A2" t="inlineStr"><is><t>&a9;</t></is></c></row>'
    )
    text = text.replace("<worksheet", f"<!DOCTYPE worksheet [{lol}]><worksheet", 1)
    return workbook([text])


def many_sheets(headers, rows, count: int) -> bytes:
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    return workbook([sheet_xml(rows_xml(numbered))] * count)


def many_parts(headers, rows, count: int) -> bytes:
    numbered = [(1, list(headers))] + [(n, list(r)) for n, r in enumerate(rows, 2)]
    extra = {f"customXml/item{n}.xml": "<a/>" for n in range(count)}
    return workbook([sheet_xml(rows_xml(numbered))], extra=extra)


def zip_bomb(headers) -> bytes:
    """A sheet of 60 MB of blank rows, compressed to a few dozen kilobytes."""
    numbered = [(1, list(headers))]
    padding = "<row/>" * 10_000_000
    return workbook([sheet_xml(rows_xml(numbered) + padding)])


def understated(content: bytes) -> bytes:
    """The same workbook with the zip directory declaring each part to be 100 bytes."""
    data = bytearray(content)
    offset = data.rfind(b"PK\x05\x06")
    count = int.from_bytes(data[offset + 10 : offset + 12], "little")
    position = int.from_bytes(data[offset + 16 : offset + 20], "little")
    for _ in range(count):
        assert data[position : position + 4] == b"PK\x01\x02"
        data[position + 24 : position + 28] = (100).to_bytes(4, "little")
        name = int.from_bytes(data[position + 28 : position + 30], "little")
        extra = int.from_bytes(data[position + 30 : position + 32], "little")
        comment = int.from_bytes(data[position + 32 : position + 34], "little")
        position += 46 + name + extra + comment
    return bytes(data)


def largest_accepted(unzipped: int, shared_bytes: int, rows: int, cells: int) -> tuple:
    """The largest workbook the reader accepts: shared strings just under `shared_bytes`,
    `rows` rows of `cells` cells in all, half of them shared, half inline text filling the
    sheet to just under `unzipped` bytes. Returns (headers, content)."""
    width = cells // rows
    headers = [f"列{n}" for n in range(1, width + 1)]
    count = (shared_bytes - 200) // len("<si><t>s0000000000000</t></si>")
    shared = shared_strings_xml(f"s{n:013d}" for n in range(count))
    shared_cells = width // 2
    per_row = (unzipped - len(shared) - 8192) // rows
    # A row: <row r="…"> </row> (21), shared cells (at most 26 each), inline cells (37 + text).
    text = (per_row - 21 - 26 * shared_cells) // (width - shared_cells) - 37
    parts = [
        "<row>" + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in headers) + "</row>"
    ]
    for r in range(2, rows + 1):
        refs = "".join(
            f'<c t="s"><v>{(r * width + c) % count}</v></c>' for c in range(shared_cells)
        )
        inline = "".join(
            f'<c t="inlineStr"><is><t>{f"{r:07d}{c:03d}".ljust(text, "x")}</t></is></c>'
            for c in range(width - shared_cells)
        )
        parts.append(f'<row r="{r}">{refs}{inline}</row>')
    return headers, workbook([sheet_xml("".join(parts))], shared=shared, level=1)
