"""Readers for every form a plan arrives in, by content rather than extension: a workbook
(our export layout or any other with recognisable headers), CSV, a Word document's table,
and the text (or HTML) of the page the plan was published on. Each gives a ParsedPlan with
every problem it found, where it is; none writes anything."""

import contextlib
import datetime
import html.parser
import io
import re
import zipfile
from dataclasses import dataclass

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from spreadsheets.reading import (
    MAX_COLUMNS,
    MAX_UNZIPPED_RATIO,
    OLE_SIGNATURE,
    ZIP_SIGNATURE,
    SheetError,
    check_size,
    max_cells,
    merged_ranges,
    open_xlsx,
    read_csv_rows,
    too_many_cells,
    too_wide,
    xlsx_rows,
)
from spreadsheets.writing import FORMULA_PREFIXES

from .labels import read_label, split_entry
from .model import (
    Column,
    ParsedAction,
    ParsedArea,
    ParsedDepartment,
    ParsedMeasure,
    ParsedMilestone,
    ParsedPlan,
)

MAX_ROWS = 20000  # a plan ten times the largest we know is a few thousand rows
# The most cells a web page's tables may lay out to (rowspans continued, colspans filled):
# twenty thousand rows of ten columns, or the site's IMPORT_MAX_CELLS if that is lower.
MAX_HTML_CELLS = 200_000
NUMERALS = "一二三四五六七八九十"
NUMBERED = re.compile(r"^(\d{1,6})(?!\d)(?![年月日%%])[.、.．]? ?(.*)$", re.S)
ACTION_NUMBER = re.compile(r"^(\d{1,6})(?!\d)[.、.．)] ?(.*)$", re.S)
AREA = re.compile(r"^[((]\s*([一二三四五六七八九十百]+)\s*[))]\s*(.+?)。?$", re.S)
AREA_LOOSE = re.compile(r"^([一二三四五六七八九十百]+)\s*[、..]\s*(.+?)。?$", re.S)
META = re.compile(r"年度:(\d{4});印发单位:([^;]*);印发日期:([\d-]*)")
YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
ISSUED = re.compile(r"^((?:19|20)\d\d)年(\d{1,2})月(\d{1,2})日$")

# Header names and their usual synonyms, per field. Order matters for 工作措施: in a
# three-level plan (任务 → 具体任务 → 工作措施) it is the third level, the action.
SYNONYMS = {
    "area": [
        "工作领域",
        "主要任务",
        "重点任务",
        "重点领域",
        "任务类别",
        "一级任务",
        "工作任务类别",
    ],
    "measure": ["工作措施", "具体任务", "工作任务", "二级任务", "任务名称", "任务"],
    "goal": ["工作目标", "目标", "预期目标", "任务目标"],
    "action": ["具体措施", "工作措施", "措施", "三级任务", "工作举措", "主要措施"],
    "schedule": [
        "进度安排",
        "时间安排",
        "完成时限",
        "时间要求",
        "完成时间",
        "时限",
        "时间节点",
        "进度要求",
    ],
    "executing": ["执行部门", "执行单位", "实施单位"],
    "responsible": ["责任处室", "责任单位", "牵头单位", "牵头部门", "责任部门", "牵头处室"],
    "cooperating": ["配合单位", "参与单位", "协办单位", "配合部门", "参与部门", "协作单位"],
}
# Columns a plan table may have that carry nothing of the plan: left out without asking.
IGNORED = {
    "序号",
    "编号",
    "备注",
    "状态",
    "完成%",
    "完成情况",
    "第一季度",
    "第二季度",
    "第三季度",
    "第四季度",
}
PROGRESS_QUARTER = re.compile(r"^(?:Q[1-4]|(?:Quarter|quarter)[1-4]|第[一二三四]季度)$")
SCHEDULE_HEADERS = {"进度安排", "时间安排", "进度要求"}


def where_xlsx(row: int, column: int) -> str:
    return _("第%(row)s行%(col)s列") % {"row": row, "col": get_column_letter(column)}


def where_docx(row: int, column: int) -> str:
    return _("表格第%(row)s行第%(col)s列") % {"row": row, "col": column}


@dataclass
class Cell:
    text: str
    continued: bool = False  # covered by a cell merged down from the row above


@dataclass
class Grid:
    """A table as rows of cells, each row with its number in the file."""

    rows: list[tuple[int, list[Cell]]]
    where: object  # (row, column) → where, for messages
    merged: bool = False  # the file merges cells: a blank continuation must be a merge


def clean(value) -> str:
    """A cell's text, without the apostrophe our exports put before formula-like text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        value = value.strftime("%Y-%m-%d")
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if text.startswith("'") and text[1:2] in FORMULA_PREFIXES:
        return text[1:]
    return text


def header_key(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


# --- By content ---------------------------------------------------------------------------


def read_plan(
    data: bytes, *, mapping: dict | None = None, overrides: dict | None = None
) -> ParsedPlan:
    """The plan in `data`, whatever its format; `mapping` maps a column's header to the field
    an admin chose for it; `overrides` gives the title, year or issuer where the file has
    none (or the admin corrects it). A file that cannot be read at all gives a plan with one
    problem."""
    plan = ParsedPlan()
    try:
        read_any(data, plan, mapping)
    finally:
        for key, value in (overrides or {}).items():
            if value not in (None, ""):
                setattr(plan, key, value)
        if plan.measures or not plan.problems:
            if not plan.title:
                plan.error(_("找不到计划标题(表格上方应有一行写明“……计划”)。"))
            if plan.year is None:
                plan.error(_("找不到计划年度(标题中应有“20XX年”)。"))
            elif not 2000 <= plan.year <= 2100:
                plan.error(_("计划年度应在2000至2100年之间。"))
            if len(plan.title) > 200:
                plan.error(_("计划标题过长(最多200字)。"))
    return plan


def read_any(data: bytes, plan: ParsedPlan, mapping: dict | None) -> None:
    try:
        check_size(data)
        if data.startswith(ZIP_SIGNATURE):
            names = zip_names(data)
            if "word/document.xml" in names:
                plan.kind = "docx"
                read_docx(data, plan, mapping or {})
            else:
                plan.kind = "xlsx"
                read_xlsx(data, plan, mapping or {})
        elif data.startswith(OLE_SIGNATURE):
            if "WordDocument".encode("utf-16-le") in data[:65536] or b"WordDocument" in data:
                raise SheetError(_("这是旧版Word(.doc)文件,请在Word中另存为.docx格式后再上传。"))
            open_xlsx(data)  # raises the message for old .xls (or an encrypted file)
            raise SheetError(_("无法识别的文件格式。"))
        else:
            text = decode(data)
            if re.search(r"<(html|body|table|p|div)\b", text[:5000], re.I):
                plan.kind = "html"
                read_html(text, plan, mapping or {})
            elif looks_like_csv(text):
                plan.kind = "csv"
                rows = read_csv_rows(data)
                grid = Grid(
                    rows=[
                        (n, [Cell(clean(v)) for v in row]) for n, row in enumerate(rows, start=1)
                    ],
                    where=where_xlsx,
                )
                read_grid(grid, plan, mapping or {})
            else:
                plan.kind = "text"
                read_text(text, plan)
    except SheetError as error:
        plan.areas = []
        plan.error(error.message)


def zip_names(data: bytes) -> set[str]:
    """The names in a zip (docx, xlsx), after the check open_xlsx makes for workbooks: a zip
    that unpacks to far more than its size is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception:  # noqa: BLE001 - any failure to read is the file's fault
        raise SheetError(_("文件已损坏,无法读取。")) from None
    unzipped = sum(info.file_size for info in infos)
    if unzipped > max(len(data) * MAX_UNZIPPED_RATIO, 1024 * 1024):
        raise SheetError(
            _("文件解压后达%(size)s,远超文件本身大小,可能是恶意文件,已拒绝。")
            % {"size": filesizeformat(unzipped)}
        )
    return {info.filename for info in infos}


def decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise SheetError(
            _("无法识别的文件格式:请上传.xlsx、.csv、.docx、.txt或.html格式的推进计划。")
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise SheetError(_("无法识别文件编码,请另存为UTF-8编码后再上传。"))


def looks_like_csv(text: str) -> bool:
    lines = [line for line in text.split("\n")[:30] if line.strip()]
    with_commas = [line for line in lines if line.count(",") >= 2]
    return bool(lines) and len(with_commas) >= max(2, len(lines) // 2)


# --- Workbooks ----------------------------------------------------------------------------


def read_xlsx(data: bytes, plan: ParsedPlan, mapping: dict) -> None:
    book = open_xlsx(data)  # streaming: work bounded by the cells present (spreadsheets.reading)
    sheets = [s for s in book.worksheets if s.title not in ("部门", "进度节点")]
    grids = []
    for sheet in sheets:
        grid = sheet_grid(sheet, plan)
        if grid is not None and find_header(grid, {})[0] is not None:
            grids.append((sheet.title, grid))
    if len(grids) > 1:
        plan.error(
            _("文件中有%(count)s个工作表各是一份计划(%(names)s):一次只能导入一份计划,请分开上传。")
            % {"count": len(grids), "names": "、".join(name for name, _g in grids)}
        )
        return
    if not grids:
        grids = [(sheets[0].title, sheet_grid(sheets[0], plan))] if sheets else []
    if plan.errors or not grids:
        if not grids:
            plan.error(_("工作簿中没有工作表。"))
        return
    entry_labels = {}
    if "进度节点" in book.sheetnames:
        entry_labels = read_milestone_sheet(book["进度节点"], plan)
    if "部门" in book.sheetnames:
        plan.departments = read_department_sheet(book["部门"], plan)
    read_grid(grids[0][1], plan, mapping, entry_labels)


def sheet_grid(sheet, plan: ParsedPlan) -> Grid | None:
    covered = {}
    vertical = False
    for rng in merged_ranges(sheet):
        if (rng.max_row - rng.min_row + 1) * (rng.max_col - rng.min_col + 1) > 1_000_000:
            raise SheetError(_("表格中的合并单元格范围过大。"))
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered[(r, c)] = r > rng.min_row
        vertical = vertical or rng.max_row > rng.min_row
    rows = []
    try:
        for number, values in enumerate(xlsx_rows(sheet, width=40, beyond="ignore"), start=1):
            if number > MAX_ROWS:
                raise SheetError(
                    _("表格超过%(max)s行,不像是一份推进计划,请检查文件。") % {"max": MAX_ROWS}
                )
            cells = [
                Cell(clean(value), covered.get((number, column), False))
                for column, value in enumerate(values, start=1)
            ]
            rows.append((number, cells))
    except SheetError as problem:  # a formula cell, a file past the limits: named where it is
        if problem.row is None:
            raise
        where = where_xlsx(problem.row, problem.column or 1)
        if len(sheet.parent.worksheets) > 1:
            where = f"{sheet.title}!{where}"
        plan.error(problem.problem, where)
    return Grid(rows=rows, where=where_xlsx, merged=vertical)


def read_department_sheet(sheet, plan: ParsedPlan) -> list[ParsedDepartment]:
    kinds = {"执行部门": "bureau", "责任处室": "office", "配合单位": "unit"}
    found = []
    for number, row in enumerate(xlsx_rows(sheet, width=4, beyond="ignore"), start=1):
        if number == 1:
            continue  # the header
        name, kind, aliases, generic = (clean(v) for v in (list(row) + [None] * 4)[:4])
        if not name:
            continue
        if kind not in kinds:
            plan.error(
                _("部门类别应为执行部门、责任处室或配合单位。"), f"部门!{where_xlsx(number, 2)}"
            )
            continue
        found.append(
            ParsedDepartment(
                name=name,
                kind=kinds[kind],
                aliases=[a.strip() for a in re.split(r"[、;;\n]", aliases) if a.strip()],
                generic=generic in ("是", "1", "True", "TRUE", "true"),
            )
        )
    return found


def read_milestone_sheet(sheet, plan: ParsedPlan) -> dict:
    """(measure number, order) → (label, first, last): labels and quarters as the app had
    them, so an admin's label or quarters for a phase survive the round trip."""
    found = {}
    for number, row in enumerate(xlsx_rows(sheet, width=6, beyond="ignore"), start=1):
        if number == 1:
            continue  # the header
        measure, order, label, first, last, retired = (
            clean(v) for v in (list(row) + [None] * 6)[:6]
        )
        if not (measure.isdigit() and order.isdigit() and label):
            continue
        quarters = (int(first), int(last)) if first.isdigit() and last.isdigit() else (None, None)
        if quarters[0] is not None and not 1 <= quarters[0] <= quarters[1] <= 4:
            plan.error(_("起始季度不能晚于截止季度。"), f"进度节点!{where_xlsx(number, 4)}")
            continue
        try:
            retired_on = datetime.date.fromisoformat(retired) if retired else None
        except ValueError:
            retired_on = None
        found[(int(measure), int(order))] = (label, *quarters, retired_on)
    return found


# --- Word ---------------------------------------------------------------------------------


def read_docx(data: bytes, plan: ParsedPlan, mapping: dict) -> None:
    import docx  # python-docx, only where a Word file arrives

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - any failure to read is the file's fault
        raise SheetError(_("Word文件已损坏或不是有效的.docx文件,无法读取。")) from None
    if not document.tables:
        raise SheetError(_("Word文件中没有表格:推进计划应以表格形式写在文件中(插入→表格)。"))
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    read_tables([docx_grid(table) for table in document.tables], paragraphs, plan, mapping)


def read_tables(grids: list[Grid], paragraphs: list[str], plan: ParsedPlan, mapping) -> None:
    """A document's tables (Word, a web page): those with a plan's header, one after the
    other (a table continued as a second table), or the first when none has one; the
    paragraphs around them give the title, issuer and date."""
    tables = [grid for grid in grids if find_header(grid, mapping)[0] is not None]
    titles = [t for t in map(plan_title_of, paragraphs) if t]
    if len(tables) > 1 and len(set(titles)) > 1:
        plan.error(
            _("文件中有%(count)s份计划(%(titles)s):一次只能导入一份计划,请分开上传。")
            % {"count": len(set(titles)), "titles": "、".join(dict.fromkeys(titles))}
        )
        return
    if not tables:
        tables = grids[:1]
    rows, offset = [], 0
    for grid in tables:
        rows += [(n + offset, cells) for n, cells in grid.rows]
        offset += len(grid.rows)
    grid = Grid(rows=rows, where=where_docx, merged=any(g.merged for g in tables))
    read_grid(grid, plan, mapping, prelude=paragraphs)


def docx_grid(table) -> Grid:
    rows = []
    above: list = []
    merged = False
    for number, row in enumerate(table.rows, start=1):
        if number > MAX_ROWS:
            raise SheetError(_("表格超过%(max)s行,不像是一份推进计划。") % {"max": MAX_ROWS})
        cells, tcs = [], []
        for index, cell in enumerate(row.cells):
            tc = cell._tc
            if index and tc is tcs[-1]:  # a horizontal merge (gridSpan): said once
                cells.append(Cell(""))
            elif index < len(above) and tc is above[index]:  # a vertical merge (vMerge)
                cells.append(Cell("", continued=True))
                merged = True
            else:
                text = "\n".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                cells.append(Cell(text))
            tcs.append(tc)
        if len(cells) > MAX_COLUMNS:
            raise too_wide()
        above = tcs
        rows.append((number, cells))
    return Grid(rows=rows, where=where_docx, merged=merged)


# --- Any table ----------------------------------------------------------------------------


def find_header(grid: Grid, mapping: dict) -> tuple[int | None, list[Column]]:
    """The row (its index in grid.rows) that names the columns, and what each column is."""
    best, best_score = None, 1
    for index, (_n, cells) in enumerate(grid.rows[:30]):
        keys = [header_key(c.text) for c in cells]
        levels = three_levels(keys)
        score = sum(
            1 for k in keys if k and (k in mapping or field_of(k, levels) not in (None, "ignore"))
        )
        if score > best_score:
            best, best_score = index, score
    if best is None:
        return None, []
    keys = [header_key(c.text) for c in grid.rows[best][1]]
    levels = three_levels(keys)
    columns = []
    for index, key in enumerate(keys):
        if not key:
            continue
        chosen = mapping.get(key) or field_of(key, levels)
        columns.append(Column(index, key, chosen))
    return best, columns


def three_levels(keys: list[str]) -> bool:
    """A header row of a three-level plan (主要任务 → 具体任务 → 工作措施)."""
    return "具体任务" in keys or "二级任务" in keys


def field_of(key: str, levels: bool) -> str | None:
    if key in IGNORED or PROGRESS_QUARTER.match(key):
        return "ignore"  # the progress columns of our export, in either language
    for name, synonyms in SYNONYMS.items():
        if key in synonyms:
            if key == "工作措施" and levels:
                return "action"
            if key == "任务" and levels:
                return "area"
            return name
    return None


def read_grid(
    grid: Grid,
    plan: ParsedPlan,
    mapping: dict,
    entry_labels: dict | None = None,
    prelude: list[str] | None = None,
) -> None:
    header, columns = find_header(grid, mapping)
    if header is None:
        plan.error(
            _(
                "找不到表头行:推进计划的表格应有“工作措施”“具体措施”“进度安排”“责任处室”"
                "等列(或“任务”“牵头单位”“完成时限”等同义的列名)。"
            )
        )
        return
    header_number = grid.rows[header][0]
    plan.columns = columns
    read_prelude([c.text for _n, cells in grid.rows[:header] for c in cells], plan, prelude)
    fields: dict[str, int] = {}
    for column in columns:
        if column.field is None:
            plan.error(
                _("未识别的列“%(header)s”:请指定它对应的内容,或选择忽略此列。")
                % {"header": column.header},
                grid.where(header_number, column.index + 1),
            )
        elif column.field != "ignore" and column.field not in fields:
            fields[column.field] = column.index
    for required, name in (
        ("measure", "工作措施(具体任务)"),
        ("responsible", "责任处室(牵头单位)"),
    ):
        if required not in fields:
            plan.error(_("缺少“%(name)s”列。") % {"name": name})
    if "measure" not in fields:
        return
    deadline_column = any(  # a deadline per row, not entries "第一季度,…"
        c.field == "schedule" and c.header not in SCHEDULE_HEADERS for c in columns
    )
    header_texts = [header_key(c.text) for c in grid.rows[header][1]]
    reader = GridReader(grid, plan, fields, entry_labels or {}, deadline_column)
    if "area" not in fields:  # headings of two kinds: 一、主要任务 above (一)具体任务
        styles = {
            heading_style(filled[0])
            for filled in (
                [c.text for c in cells if c.text] for _n, cells in grid.rows[header + 1 :]
            )
            if len(set(filled)) == 1
        }
        reader.three_levels = {"loose", "paren"} <= styles
    for number, cells in grid.rows[header + 1 :]:
        texts = [header_key(c.text) for c in cells]
        if not any(texts):
            continue
        if texts == header_texts or all(t in IGNORED or t in header_texts for t in texts if t):
            continue  # the header again at a page break, or its second row
        reader.row(number, cells)
    reader.finish()


def read_prelude(texts: list[str], plan: ParsedPlan, paragraphs: list[str] | None) -> None:
    """Title, year, issuer and date from what comes before the table: our export's first two
    rows, or a document's title and date lines."""
    texts = [t for t in [*(paragraphs or []), *texts] if t]
    for previous, text in zip(["", *texts], texts, strict=False):
        if meta := META.search(text):
            plan.year = int(meta[1])
            plan.issuer = meta[2].strip()
            if meta[3]:
                try:
                    plan.issued_on = datetime.date.fromisoformat(meta[3])
                except ValueError:
                    plan.error(_("印发日期应为YYYY-MM-DD格式。"), _("第2行"))
        elif not plan.title and "计划" in text and len(text) <= 200:
            plan.title = text.strip("《》 ")
        elif match := ISSUED.match(text):
            with contextlib.suppress(ValueError):
                plan.issued_on = datetime.date(int(match[1]), int(match[2]), int(match[3]))
            if not plan.issuer and previous and previous.strip("《》 ") != plan.title:
                plan.issuer = previous[:100]
    if plan.year is None and (match := YEAR.search(plan.title)):
        plan.year = int(match[1])


class GridReader:
    """Builds the tree row by row: a new text in the area or measure column starts a new one;
    a blank cell or the same text again continues it (in a file that merges cells, a blank
    cell must be merged down from the measure's first row)."""

    def __init__(self, grid, plan, fields, entry_labels, deadline_column):
        self.grid, self.plan, self.fields = grid, plan, fields
        self.entry_labels = sorted(
            {label for label, *_q in entry_labels.values()}, key=len, reverse=True
        )
        self.quarters = entry_labels
        self.deadline_column = deadline_column
        self.area: ParsedArea | None = None
        self.area_text = ""
        self.measure: ParsedMeasure | None = None
        self.measure_text = ""
        self.unnumbered: set[int] = set()
        self.three_levels = False

    def cell(self, cells, name) -> Cell:
        index = self.fields.get(name)
        if index is None or index >= len(cells):
            return Cell("")
        return cells[index]

    def where(self, number, name) -> str:
        return self.grid.where(number, self.fields.get(name, 0) + 1)

    def row(self, number: int, cells: list[Cell]) -> None:
        plan = self.plan
        filled = [c.text for c in cells if c.text]
        single = "area" not in self.fields and len(set(filled)) == 1
        heading = single and (
            area_heading(filled[0])
            or (cells[0].text and self.cell(cells, "measure").text != filled[0])
        )
        if heading:
            where = self.grid.where(number, next(i for i, c in enumerate(cells, 1) if c.text))
            if self.three_levels and heading_style(filled[0]) == "paren":
                self.new_task(filled[0], where)
            else:
                self.new_area(filled[0], where)
            return
        if self.three_levels:
            self.task_row(number, cells)
            return
        area = self.cell(cells, "area")
        if area.text and header_key(area.text) != header_key(self.area_text):
            self.new_area(area.text, self.where(number, "area"))
        measure = self.cell(cells, "measure")
        if measure.text and header_key(measure.text) != header_key(self.measure_text):
            self.new_measure(number, cells, measure.text)
        elif self.measure is None or (
            not measure.text and not measure.continued and self.grid.merged
        ):
            plan.error(
                _("这一行不属于任何工作措施:工作措施一栏为空,也不在上一项措施的合并单元格内。"),
                self.where(number, "measure"),
            )
            return
        else:
            self.more_units(number, cells)
        action = self.cell(cells, "action")
        if action.text and not action.continued:
            self.add_actions(action.text, self.where(number, "action"))
        schedule = self.cell(cells, "schedule")
        if schedule.text and not schedule.continued:
            self.add_milestones(schedule.text, self.where(number, "schedule"), action.text)

    def new_task(self, text: str, where: str) -> None:
        """A 具体任务 heading of a three-level plan laid out in rows: a measure, its rows the
        actions."""
        if self.area is None:
            self.new_area(_("(未分领域)"), where)
            self.area.numeral, self.area.title = "一", _("未分领域")
        _numeral, title = area_heading(text)
        self.measure = ParsedMeasure(None, title, "", "", "", "", where)
        self.measure_text = ""
        self.area.measures.append(self.measure)

    def task_row(self, number: int, cells: list[Cell]) -> None:
        """A task row of a three-level plan: an action of the 具体任务 above it, with its own
        departments (added to the measure's) and deadline."""
        text = self.cell(cells, "measure").text or self.cell(cells, "action").text
        where = self.where(number, "measure")
        if self.measure is None:
            self.plan.error(
                _("这一行不属于任何具体任务:它的上方应有“(一)…”这样的具体任务行。"), where
            )
            return
        if text:
            self.measure.actions.append(ParsedAction(len(self.measure.actions) + 1, text, where))
        self.more_units(number, cells)
        schedule = self.cell(cells, "schedule")
        if schedule.text:
            self.add_milestones(schedule.text, self.where(number, "schedule"), text)

    def new_area(self, text: str, where: str) -> None:
        numeral, title = area_heading(text) or (NUMERALS_FOR(len(self.plan.areas) + 1), text)
        if len(numeral) > 10 or len(title) > 200:
            self.plan.error(_("工作领域名称过长(最多200字)。"), where)
        self.area = ParsedArea(numeral=numeral, title=title, where=where)
        self.area_text = text
        self.plan.areas.append(self.area)
        self.measure, self.measure_text = None, ""

    def new_measure(self, number: int, cells: list[Cell], text: str) -> None:
        plan = self.plan
        where = self.where(number, "measure")
        if self.area is None:
            self.new_area(_("(未分领域)"), where)
            self.area.numeral = "一"
            self.area.title = _("未分领域")
        match = NUMBERED.match(text)
        measure_number, title = (int(match[1]), match[2].strip()) if match else (None, text)
        if len(title) > 300:
            plan.error(
                _("内容过长(%(length)s字),最多%(size)s字。") % {"length": len(title), "size": 300},
                where,
            )
        if measure_number is not None and measure_number > 32767:
            plan.error(_("工作措施编号过大。"), where)
        goal = self.cell(cells, "goal")
        executing = self.cell(cells, "executing")
        for name, label, cell in (
            ("goal", _("工作目标"), goal),
            ("executing", _("执行部门"), executing),
            ("responsible", _("责任处室"), self.cell(cells, "responsible")),
        ):
            if name in self.fields and not cell.text:
                plan.error(_("%(name)s不能为空。") % {"name": label}, self.where(number, name))
        self.measure = ParsedMeasure(
            number=measure_number,
            title=title,
            goal=goal.text,
            executing=executing.text,
            cooperating="",
            responsible="",
            where=where,
        )
        self.measure_text = text
        self.area.measures.append(self.measure)
        self.more_units(number, cells)

    def more_units(self, number: int, cells: list[Cell]) -> None:
        """Departments of a measure: in a plan with one row per task, the union of its rows."""
        measure = self.measure
        for name in ("cooperating", "responsible"):
            cell = self.cell(cells, name)
            if cell.text and not cell.continued:
                current = getattr(measure, name)
                if cell.text != current and cell.text not in current.split("、"):
                    setattr(measure, name, f"{current}、{cell.text}" if current else cell.text)
                if len(getattr(measure, name)) > 300:
                    self.plan.error(_("单位一栏过长(最多300字)。"), self.where(number, name))

    def add_actions(self, text: str, where: str) -> None:
        measure = self.measure
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            match = ACTION_NUMBER.match(line)
            if match and match[2].strip():
                number = int(match[1])
                if number > 32767:
                    self.plan.error(_("具体措施编号过大。"), where)
                    continue
                measure.actions.append(ParsedAction(number, match[2].strip(), where))
            elif measure.actions and measure.actions[-1].where == where:
                measure.actions[-1].text += "\n" + line  # a paragraph of the same action
            elif not measure.actions or id(measure) in self.unnumbered:
                # a plan that does not number its actions: numbered in order
                self.unnumbered.add(id(measure))
                measure.actions.append(ParsedAction(len(measure.actions) + 1, line, where))
            else:
                self.plan.error(_("具体措施应以编号开头,如“1.…”。"), where)

    def add_milestones(self, text: str, where: str, action_text: str) -> None:
        measure = self.measure
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        added_here = False
        for line in lines:
            entry = self.known_entry(line) or split_entry(line)
            if entry:
                label, rest = entry
                self.add_milestone(label, rest, where)
                added_here = True
                continue
            reading = read_label(line)
            if reading.known or (self.deadline_column and len(line) <= 30 and not added_here):
                body = first_line(action_text) or measure.title
                self.add_milestone(line, body, where)
                added_here = True
            elif added_here:
                measure.milestones[-1].text += "\n" + line
            else:
                self.plan.error(
                    _(
                        "进度安排应以时间开头,如“第一季度,…”“第二--四季度,…”“上半年,…”"
                        "“6月底前,…”“第一阶段,…”。"
                    ),
                    where,
                )

    def known_entry(self, line: str):
        for label in self.entry_labels:
            if line.startswith(label) and line[len(label) : len(label) + 1] in ",、::,;; ":
                return label, line[len(label) + 1 :].strip()
        return None

    def add_milestone(self, label: str, text: str, where: str) -> None:
        measure = self.measure
        if len(label) > 30:
            self.plan.error(_("时间“%(label)s”过长(最多30字)。") % {"label": label}, where)
            return
        order = len(measure.milestones) + 1
        known = self.quarters.get((measure.number, order))
        retired_on = None
        if known and known[0] == label:
            first, last, recognised, retired_on = known[1], known[2], True, known[3]
        else:
            reading = read_label(label)
            if reading.problem:
                self.plan.error(reading.problem, where)
            elif not reading.known:
                self.plan.note(
                    _("时间“%(label)s”无法对应到季度,将作为未排期节点导入,可在预览中指定季度。")
                    % {"label": label},
                    where,
                )
            first, last, recognised = reading.first, reading.last, reading.known
        measure.milestones.append(
            ParsedMilestone(label, text, first, last, where, recognised, retired_on)
        )

    def finish(self) -> None:
        check_tree(self.plan)


QUOTED_TITLE = re.compile(r"《([^《》]{0,80}(?:19|20)\d\d年[^《》]{0,80}计划)》")


def plan_title_of(line: str) -> str | None:
    """The plan a line names as its title (a title line, or 《…计划》 in a line such as
    关于印发《…》的通知); None for any other line."""
    line = line.strip()
    if match := QUOTED_TITLE.search(line):
        return match[1]
    if PLAN_TITLE.match(line):
        return line.strip("《》 ")
    return None


def first_line(text: str) -> str:
    line = (text or "").strip().split("\n")[0]
    match = NUMBERED.match(line)
    return match[2].strip() if match and match[2].strip() else line


def NUMERALS_FOR(n: int) -> str:  # noqa: N802 - reads like the numeral it gives
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + (NUMERALS[n - 11] if n > 10 else "")
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


def heading_style(text: str) -> str | None:
    """paren for "(一)…", loose for "一、…"; None for text that is no heading."""
    text = text.strip()
    if AREA.match(text):
        return "paren"
    if AREA_LOOSE.match(text):
        return "loose"
    return None


def area_heading(text: str) -> tuple[str, str] | None:
    text = text.strip()
    match = AREA.match(text) or AREA_LOOSE.match(text)
    if not match or "\n" in match[2]:
        return None
    return match[1], match[2].strip()


def check_tree(plan: ParsedPlan) -> None:
    """What no single row shows: measures without number, duplicate numbers, a plan with
    nothing in it, action numbers repeated."""
    measures = plan.measures
    if not measures:
        if not plan.errors:
            plan.error(_("文件中没有找到工作措施。"))
        return
    if all(m.number is None for m in measures):
        for number, measure in enumerate(measures, start=1):
            measure.number = number
    else:
        for measure in measures:
            if measure.number is None:
                plan.error(_("工作措施应以编号开头,如“2.加强…”。"), measure.where)
    seen = {}
    for area in plan.areas:
        if len(area.numeral) > 10 or len(area.title) > 200:
            plan.error(_("工作领域名称过长(最多200字)。"), area.where)
    for measure in measures:
        too_long = [
            (name, size)
            for name, size, value in (
                (_("工作措施"), 300, measure.title),
                (_("配合单位"), 300, measure.cooperating),
            )
            if len(value) > size
        ]
        for name, size in too_long:
            plan.error(
                _("%(name)s过长,最多%(size)s字。") % {"name": name, "size": size}, measure.where
            )
        if measure.number is not None and measure.number > 32767:
            plan.error(_("工作措施编号过大。"), measure.where)
            measure.number = None
        if any(a.number > 32767 for a in measure.actions):
            plan.error(_("具体措施编号过大。"), measure.where)
        if measure.number is None:
            continue
        if measure.number in seen:
            plan.error(
                _("工作措施编号%(n)s重复(第一次出现在%(first)s)。")
                % {"n": measure.number, "first": seen[measure.number]},
                measure.where,
            )
        else:
            seen[measure.number] = measure.where
        numbers = [a.number for a in measure.actions]
        if len(set(numbers)) != len(numbers):
            plan.error(
                _("工作措施%(n)s的具体措施编号有重复。") % {"n": measure.number}, measure.where
            )
        if not measure.responsible:
            plan.error(
                _("工作措施%(n)s没有责任处室(牵头单位)。") % {"n": measure.number}, measure.where
            )
    numerals = [a.numeral for a in plan.areas]
    for area in plan.areas:
        if numerals.count(area.numeral) > 1:
            plan.error(_("工作领域序号“%(n)s”重复。") % {"n": area.numeral}, area.where)
            break


# --- Published text -----------------------------------------------------------------------

TEXT_HEADER = re.compile(
    r"工作措施\s*工作目标\s*具体措施\s*进度安排\s*执\s*行\s*部\s*门\s*"
    r"配\s*合\s*单\s*位\s*责\s*任\s*处\s*室[ \t]*\n"
)
TEXT_AREA = re.compile(
    r"(?m)^[((](?P<numeral>[一二三四五六七八九十]+)[))](?P<title>[^\n\d]+?)。?(?=\n|\d)"
)
TEXT_MEASURE = re.compile(TEXT_AREA.pattern + r"\n?(?P<number>\d+)\.? ?")
PIECE = re.compile(r"[ \n]+")
ACTION_SPACE = re.compile(r"(?m)(?:^|(?<=[ \n]))(\d+)\. ")
ORGANISATION = re.compile(
    r"^[^。,,;;]{2,60}(?:局|处|室|科|委|会|中心|部门|单位|机构|协会|园区|办|院|所|厅|司|政府|企业"
    r"|银行|公司|基地|平台|联盟|集团|基金会)"
    r"(?:、[^。,,;;]{2,60})*$"
)
LABEL_AT = re.compile(r"^第[一二三四]")
PLAN_TITLE = re.compile(r"^《?[^\d第((\s][^。\n]{0,60}(?:19|20)\d\d年[^。\n]{0,60}计划》?$")
END_OF_PAGE = re.compile(
    r"(?m)^(?:[-•*·] |来源[::]|上一篇|下一篇|相关文章|版权所有|打印本页|关闭窗口)"
)


def html_text(text: str) -> str:
    """The text a browser shows of an HTML page, a cell per space and a row per line."""

    class Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1
            elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"):
                self.parts.append("\n")
            elif tag in ("td", "th"):
                self.parts.append(" ")

        def handle_endtag(self, tag):
            if tag in ("script", "style"):
                self.skip = max(0, self.skip - 1)
            elif tag in ("p", "div", "tr", "li", "h1", "h2", "h3"):
                self.parts.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))

    parser = Text()
    parser.feed(text)
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(line for line in lines if line) + "\n"


def read_html(text: str, plan: ParsedPlan, mapping: dict) -> None:
    """A web page: its tables when one has a plan's header (the page as the bureau built it,
    cells merged with rowspan and colspan, any header wording read_grid knows or the admin
    maps), else its text as a browser shows it (the table flattened, read_text)."""
    grids, paragraphs = html_tables(text)
    if any(find_header(grid, mapping)[0] is not None for grid in grids):
        read_tables(grids, paragraphs, plan, mapping)
    else:
        plan.kind = "text"
        read_text(html_text(text), plan)


@dataclass
class HtmlCell:
    parts: list
    rowspan: int = 1
    colspan: int = 1


class HtmlTables(html.parser.HTMLParser):
    """The outermost tables of a page as rows of HtmlCells (a nested table's text goes into
    its cell), and the text outside tables as paragraphs."""

    BREAKS = ("br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[HtmlCell]]] = []
        self.outside: list[str] = [""]
        self.depth = self.skip = 0
        self.cell: HtmlCell | None = None
        self.caption = False
        self.width = self.cells = 0  # the row's columns, the cells of every table so far

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "table":
            self.depth += 1
            if self.depth == 1:
                self.tables.append([])
        elif self.depth == 1 and tag == "caption":
            self.caption = True
            self.write("\n")
        elif self.depth == 1 and tag == "tr":
            self.new_row()
        elif self.depth == 1 and tag in ("td", "th"):
            values = dict(attrs)
            self.cell = HtmlCell(
                [], span(values.get("rowspan"), MAX_ROWS), span(values.get("colspan"), MAX_COLUMNS)
            )
            if not self.tables[-1]:
                self.new_row()
            self.width += self.cell.colspan
            self.cells += self.cell.colspan
            if self.width > MAX_COLUMNS:
                raise too_wide()
            if self.cells > html_cells():
                raise too_many_cells(html_cells())
            self.tables[-1][-1].append(self.cell)
        elif tag in self.BREAKS:
            self.write("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "table":
            self.depth = max(0, self.depth - 1)
            self.cell = None
        elif self.depth == 1 and tag in ("td", "th"):
            self.cell = None
        elif self.depth == 1 and tag == "caption":
            self.caption = False
            self.write("\n")
        elif tag in self.BREAKS:
            self.write("\n")

    def new_row(self) -> None:
        self.cell, self.width = None, 0
        self.tables[-1].append([])
        if len(self.tables[-1]) > MAX_ROWS:
            raise SheetError(_("表格超过%(max)s行,不像是一份推进计划。") % {"max": MAX_ROWS})

    def handle_data(self, data):
        if not self.skip:
            self.write(re.sub(r"[ \t\r\n]+", " ", data))

    def write(self, text: str) -> None:
        if self.depth and self.cell is not None:
            self.cell.parts.append(text)
        elif not self.depth or self.caption:
            self.outside.append(text)


def html_cells() -> int:
    return min(MAX_HTML_CELLS, max_cells())


def span(value, limit: int) -> int:
    try:
        return max(1, min(int(value or 1), limit))
    except ValueError:
        return 1


def html_tables(text: str) -> tuple[list[Grid], list[str]]:
    """The page's tables as grids, as docx_grid makes them of Word's: a cell a row spans
    continues down (rowspan), one spanning columns is followed by blanks (colspan). And the
    page's paragraphs outside the tables."""
    parser = HtmlTables()
    parser.feed(text)
    parser.close()
    grids = [html_grid(table) for table in parser.tables]
    lines = [line.strip() for line in "".join(parser.outside).split("\n")]
    return grids, [line for line in lines if line]


def html_grid(table: list[list[HtmlCell]]) -> Grid:
    rows, below, merged, total = [], {}, False, 0  # below: column → rows its cell still covers
    for number, raw in enumerate(table, start=1):
        cells: list[Cell] = []  # one a column: the next column is len(cells)
        for item in [*raw, None]:  # None: the columns still covered after the row's cells
            end = len(cells) if item else max(below, default=-1) + 1
            while len(cells) in below or len(cells) < end:
                if len(cells) in below:
                    below[len(cells)] -= 1
                    if not below[len(cells)]:
                        del below[len(cells)]  # the span has ended
                    cells.append(Cell("", continued=True))
                    merged = True
                else:
                    cells.append(Cell(""))
            if len(cells) > MAX_COLUMNS:
                raise too_wide()
            if item is None:
                break
            rowspan = min(item.rowspan, len(table) - number + 1)  # a span ends with the table
            if rowspan > 1:
                columns = range(len(cells), len(cells) + item.colspan)
                below.update(dict.fromkeys(columns, rowspan - 1))
            lines = [line.strip() for line in "".join(item.parts).split("\n")]
            cells.append(Cell("\n".join(line for line in lines if line)))
            cells += [Cell("") for _ in range(item.colspan - 1)]
        total += len(cells)
        if total > html_cells():
            raise too_many_cells(html_cells())
        rows.append((number, cells))
    return Grid(rows=rows, where=where_docx, merged=merged)


def read_text(text: str, plan: ParsedPlan) -> None:
    """The plan's table as a web page's text flattens it (see tests/test_plan_fixture.py):
    cells after spaces or line breaks, the header repeated at page breaks with a measure's
    heading, title and goal, an entry cut by a page break continued after an action."""
    headers = list(TEXT_HEADER.finditer(text))
    if not headers:
        raise SheetError(
            _(
                "不是可识别的推进计划:文本中找不到推进计划的表头“工作措施 工作目标 具体措施 "
                "进度安排 执行部门 配合单位 责任处室”。"
                "请上传.xlsx、.csv、.docx文件或计划网页的文本。"
            )
        )
    before = text[: headers[0].start()].rstrip("\n").split("\n")
    lines_before = [line.strip() for line in before if line.strip()]
    plan.title = (lines_before[-1] if lines_before else "").strip("《》 ")
    if match := YEAR.search(plan.title):
        plan.year = int(match[1])
    for previous, line in zip(lines_before, lines_before[1:], strict=False):
        if (match := ISSUED.match(line)) and not plan.issued_on:
            with contextlib.suppress(ValueError):
                plan.issued_on = datetime.date(int(match[1]), int(match[2]), int(match[3]))
            plan.issuer = previous[:100]
    start = headers[0].end()
    end = END_OF_PAGE.search(text, start)
    body = text[start : end.start() if end else len(text)]
    table_line = text[:start].count("\n") + 1

    def where(offset: int) -> str:
        return _("第%(line)s行") % {"line": table_line + body[:offset].count("\n")}

    repeats = [
        m for m in TEXT_HEADER.finditer(body)
    ]  # page breaks; a second plan has a second title just before its header
    for repeat in repeats:
        preceding = body[: repeat.start()].rstrip("\n").rsplit("\n", 1)[-1]
        title = plan_title_of(preceding)
        if title and title != plan_title_of(plan.title):
            plan.error(
                _("文件中有两份计划(“%(a)s”和“%(b)s”):一次只能导入一份计划,请分开上传。")
                % {"a": plan.title, "b": preceding},
                where(repeat.start()),
            )
            return
    body = TEXT_HEADER.sub(lambda m: "\n" * m[0].count("\n"), body)
    starts = list(TEXT_MEASURE.finditer(body))
    if not starts:
        plan.error(_("表头之后找不到工作领域和工作措施(如“(一)…”“2.…”)。"), where(0))
        return
    if body[: starts[0].start()].strip():
        plan.error(_("这段文字不属于任何工作措施。"), where(0))
    areas: dict[str, ParsedArea] = {}
    measures: dict[int, ParsedMeasure] = {}
    heads: dict[int, str] = {}  # "title goal" as first written, to tell a page-break repeat
    chunks: dict[int, list[tuple[int, str]]] = {}  # per measure, its cells at their offsets
    order = []
    for start, following in zip(starts, [*starts[1:], None], strict=True):
        block = body[start.end() : following.start() if following else len(body)]
        number = int(start["number"])
        numeral, area_title = start["numeral"], start["title"].strip()
        parts = re.split(r"[ \n](?=\d+\.)", block.strip("\n"), maxsplit=1)
        head, cells = (parts + [""])[:2]
        if number in measures:  # continued after a page break: heading, title, goal repeat
            measure = measures[number]
            if order[-1] != number or heads[number] != head:
                plan.error(
                    _("工作措施编号%(n)s重复(第一次出现在%(first)s)。")
                    % {"n": number, "first": measure.where},
                    where(start.start()),
                )
                continue
            chunks[number].append((start.end() + len(head) + 1, cells))
            continue
        if numeral not in areas:
            areas[numeral] = ParsedArea(numeral, area_title, where=where(start.start()))
            plan.areas.append(areas[numeral])
        title, goal = (re.split(r"[ \n]", head.strip(), maxsplit=1) + [""])[:2]
        measure = ParsedMeasure(
            number, title.strip(), goal.strip(), "", "", "", where(start.start())
        )
        heads[number] = head
        chunks[number] = [(start.end() + len(head) + 1, cells)]
        measures[number] = measure
        order.append(number)
        areas[numeral].measures.append(measure)
    for number, measure in measures.items():
        read_text_cells(measure, chunks[number], plan, where)
    check_tree(plan)


def read_text_cells(measure: ParsedMeasure, chunks: list, plan: ParsedPlan, where) -> None:
    """A measure's cells: actions (1.…), schedule entries (第一季度,…), and after the first
    entries the department cells (执行部门, 配合单位 if any, 责任处室); a piece after an action
    that is none of these ends the entry a page break cut."""
    departments: list[str] = []
    cut = last = None
    for offset, cells in chunks:
        position = 0
        cells = ACTION_SPACE.sub(r"\1.", cells)
        for piece in PIECE.split(cells):
            found = cells.find(piece, position)
            here = where(offset + found)
            position = found + len(piece)
            if not piece:
                continue
            number = NUMBERED.match(piece)
            entry = split_entry(piece) if LABEL_AT.match(piece) else None
            if number and re.match(r"^\d+\.", piece):
                last = ParsedAction(int(number[1]), number[2].strip(), here)
                measure.actions.append(last)
            elif entry:
                label, rest = entry
                reading = read_label(label)
                if reading.problem:
                    plan.error(reading.problem, here)
                milestone = ParsedMilestone(label, rest, reading.first, reading.last, here)
                measure.milestones.append(milestone)
                last = milestone
                cut = milestone if not rest.endswith(("。", ";", ";")) else None
            elif ORGANISATION.match(piece):
                if piece not in departments:  # a page break repeats the merged cells
                    departments.append(piece)
            elif cut is not None and measure.actions and measure.actions[-1].text.endswith("。"):
                cut.text += piece
                cut = None
            elif last is not None:  # a space inside a cell's text
                last.text += " " + piece
            else:
                plan.error(_("无法判断这段文字属于哪一栏。"), here)
    if len(departments) >= 3:
        measure.executing, *middle, measure.responsible = departments
        measure.cooperating = "、".join(middle)
    elif len(departments) == 2:
        measure.executing, measure.responsible = departments
    else:
        plan.error(
            _("找不到工作措施%(n)s的执行部门和责任处室。") % {"n": measure.number}, measure.where
        )
