"""The plan in its own table layout, as an Excel workbook: written by export_plan, read
back by import_plan, so next year's plan is loaded from Excel without writing fixtures.

Layout: row 1 the title, row 2 the year, issuer and issue date, rows 3–4 the headers
(工作措施 … 责任处室, then per quarter 状态 / 完成% / 完成情况), then per work area a full-width
row "(一)…", and per measure as many rows as it has actions or schedule entries, with the
measure's own cells merged over them. The progress columns hold, per schedule entry and
quarter, the latest approved report; import_plan ignores them."""

import datetime
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from departments.models import Department
from spreadsheets.reading import SheetError, open_xlsx
from spreadsheets.writing import FORMULA_PREFIXES, safe

from .intake.labels import label_quarters  # noqa: F401 - where callers found it
from .models import QUARTER_CHOICES, Action, Measure, Milestone, Plan, WorkArea

PLAN_HEADERS = ["工作措施", "工作目标", "具体措施", "进度安排", "执行部门", "配合单位", "责任处室"]
PROGRESS_HEADERS = ["状态", "完成%", "完成情况"]
PLAN_WIDTHS = [18, 22, 48, 48, 12, 16, 12]
PROGRESS_WIDTHS = [7, 6, 18]
FIRST_DATA_ROW = 5
NUMERALS = "一二三四"
ENTRY = re.compile(r"^(第[一二三四](?:-{1,2}[一二三四])?(?:季度|阶段))[,、::,](.*)$", re.S)
LABEL_QUARTERS = re.compile(r"^第([一二三四])(?:-{1,2}([一二三四]))?季度$")
NUMBERED = re.compile(r"^(\d{1,4})(?!\d)\.? ?(.*)$", re.S)
AREA = re.compile(r"^\((.+?)\)(.+)$")
META = re.compile(r"年度:(\d{4});印发单位:([^;]*);印发日期:([\d-]*)")

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
FONT = "宋体"


def offices_text(measure) -> str:
    return "、".join(office.name for office in measure.responsible_offices.all())


# --- Writing -----------------------------------------------------------------------------


def export_plan(plan: Plan, approved: dict | None = None) -> Workbook:
    """The plan in its table layout; `approved` maps (milestone id, quarter) to the approved
    report shown in the progress columns (tasks.models.ProgressReport.objects.approved_by_cell)."""

    book = Workbook()
    sheet = book.active
    sheet.title = str(plan.year)
    columns = len(PLAN_HEADERS) + 4 * len(PROGRESS_HEADERS)
    last_col = get_column_letter(columns)

    sheet.append([plan.title])
    sheet.merge_cells(f"A1:{last_col}1")
    sheet["A1"].font = Font(name=FONT, size=16, bold=True)
    sheet["A1"].alignment = CENTER
    sheet.row_dimensions[1].height = 30
    issued = plan.issued_on.isoformat() if plan.issued_on else ""
    sheet.append([f"年度:{plan.year};印发单位:{plan.issuer.name};印发日期:{issued}"])
    sheet.merge_cells(f"A2:{last_col}2")
    sheet["A2"].font = Font(name=FONT, size=10)
    sheet["A2"].alignment = Alignment(horizontal="right")

    sheet.append(PLAN_HEADERS + [str(label) for _q, label in QUARTER_CHOICES for _ in range(3)])
    sheet.append([None] * len(PLAN_HEADERS) + PROGRESS_HEADERS * 4)
    for index in range(1, len(PLAN_HEADERS) + 1):
        letter = get_column_letter(index)
        sheet.merge_cells(f"{letter}3:{letter}4")
    for q in range(4):
        start = len(PLAN_HEADERS) + 1 + 3 * q
        sheet.merge_cells(start_row=3, end_row=3, start_column=start, end_column=start + 2)
    for row in sheet.iter_rows(min_row=3, max_row=4, max_col=columns):
        for cell in row:
            cell.font = Font(name=FONT, bold=True)
            cell.alignment = CENTER
            cell.border = BORDER
            cell.fill = PatternFill("solid", fgColor="D9E1F2")

    approved = approved or {}
    measures = (
        Measure.objects.filter(work_area__plan=plan)
        .select_related("executing_department")
        .prefetch_related("responsible_offices", "actions", "milestones")
    )
    by_area: dict[int, list] = {}
    for measure in measures:
        by_area.setdefault(measure.work_area_id, []).append(measure)

    row = FIRST_DATA_ROW
    for area in plan.work_areas.all():
        sheet.cell(row=row, column=1, value=safe(str(area)))
        sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=columns)
        cell = sheet.cell(row=row, column=1)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = PatternFill("solid", fgColor="FCE4D6")
        cell.border = BORDER
        row += 1
        for measure in by_area.get(area.pk, []):
            row = write_measure(sheet, row, measure, approved, columns)

    for index, width in enumerate(PLAN_WIDTHS + PROGRESS_WIDTHS * 4, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.print_options.horizontalCentered = True
    return book


def write_measure(sheet, top: int, measure, approved: dict, columns: int) -> int:
    actions = list(measure.actions.all())
    milestones = list(measure.milestones.all())
    height = max(len(actions), len(milestones), 1)
    cells = {
        1: f"{measure.number}.{measure.title}",
        2: measure.goal,
        5: measure.executing_department.name,
        6: measure.cooperating_text,
        7: offices_text(measure),
    }
    for column, value in cells.items():
        sheet.cell(row=top, column=column, value=safe(value))
        if height > 1:
            sheet.merge_cells(
                start_row=top, end_row=top + height - 1, start_column=column, end_column=column
            )
    for offset, action in enumerate(actions):
        sheet.cell(row=top + offset, column=3, value=safe(f"{action.number}.{action.text}"))
    for offset, milestone in enumerate(milestones):
        sheet.cell(row=top + offset, column=4, value=safe(f"{milestone.label},{milestone.text}"))
        for q in range(1, 5):
            report = approved.get((milestone.pk, q))
            if report is None:
                continue
            start = len(PLAN_HEADERS) + 1 + 3 * (q - 1)
            sheet.cell(row=top + offset, column=start, value=report.get_status_display())
            sheet.cell(row=top + offset, column=start + 1, value=report.percent)
            sheet.cell(row=top + offset, column=start + 2, value=safe(report.done_text))
    for r in range(top, top + height):
        for c in range(1, columns + 1):
            cell = sheet.cell(row=r, column=c)
            cell.alignment = WRAP
            cell.border = BORDER
            cell.font = Font(name=FONT, size=10, bold=c == 1)
    fit_rows(sheet, top, height, columns)
    return top + height


def text_lines(value, width: float) -> int:
    """How many lines wrapped text needs in a column `width` characters wide (a Chinese
    character takes two)."""
    if value is None:
        return 1
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))
    return max(1, -(-units // max(int(width) - 1, 1)))


def fit_rows(sheet, top: int, height: int, columns: int) -> None:
    """Row heights that show all wrapped text: spreadsheet programs do not grow rows for
    text in merged cells, so the measure's merged cells get their height spread over its rows."""
    widths = PLAN_WIDTHS + PROGRESS_WIDTHS * 4
    line = 14  # points per line of 10-point text
    rows = [
        max(
            text_lines(sheet.cell(row=r, column=c).value, widths[c - 1])
            for c in (3, 4, *range(8, columns + 1))
        )
        for r in range(top, top + height)
    ]
    merged = max(
        text_lines(sheet.cell(row=top, column=c).value, widths[c - 1]) for c in (1, 2, 5, 6, 7)
    )
    shortfall = merged - sum(rows)
    if shortfall > 0:
        rows[-1] += shortfall
    for offset, lines in enumerate(rows):
        sheet.row_dimensions[top + offset].height = lines * line + 4


# --- Reading -----------------------------------------------------------------------------


def unescape(value) -> str:
    """Cell text as written, without the apostrophe our exports put before formula-like text."""
    if value is None:
        return ""
    text = str(value).strip()
    if text.startswith("'") and text[1:2] in FORMULA_PREFIXES:
        return text[1:]
    return text


@dataclass
class ParsedMeasure:
    row: int
    number: int
    title: str
    goal: str
    executing: str
    cooperating: str
    responsible: str
    actions: list[tuple[int, str]] = field(default_factory=list)
    milestones: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ParsedPlan:
    title: str
    year: int
    issuer: str
    issued_on: datetime.date | None
    areas: list[tuple[str, str, list[ParsedMeasure]]] = field(default_factory=list)

    @property
    def measures(self) -> list[ParsedMeasure]:
        return [measure for _n, _t, measures in self.areas for measure in measures]


def limit(text: str, size: int, row: int, column: int) -> str:
    """`text`, or a SheetError when it is longer than the database holds."""
    if len(text) > size:
        raise SheetError(
            _("内容过长(%(length)s字),最多%(size)s字。") % {"length": len(text), "size": size},
            row=row,
            column=column,
        )
    return text


def parse_plan(data: bytes) -> ParsedPlan:
    """Reads a workbook in the plan's layout; SheetError names the row and column of the
    first cell it cannot understand."""
    book = open_xlsx(data, read_only=False)
    sheet = book.worksheets[0]
    title = unescape(sheet["A1"].value)
    meta = META.search(unescape(sheet["A2"].value))
    if not title or not meta:
        raise SheetError(
            _("不是推进计划的表格格式:第1行应为计划标题,第2行应为年度、印发单位和印发日期。")
        )
    headers = [unescape(sheet.cell(row=3, column=c).value) for c in range(1, 8)]
    if headers != PLAN_HEADERS:
        raise SheetError(
            _("第3行表头应为:%(expected)s;实际为:%(found)s。")
            % {"expected": "、".join(PLAN_HEADERS), "found": "、".join(headers)}
        )
    try:
        issued_on = datetime.date.fromisoformat(meta[3]) if meta[3] else None
    except ValueError:
        raise SheetError(_("印发日期应为YYYY-MM-DD格式。"), row=2, column=1) from None
    plan = ParsedPlan(
        title=limit(title, 200, 1, 1),
        year=int(meta[1]),
        issuer=limit(meta[2].strip(), 100, 2, 1),
        issued_on=issued_on,
    )
    full_width = {
        rng.min_row for rng in sheet.merged_cells.ranges if rng.min_col == 1 and rng.max_col > 7
    }
    measure = None
    for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_col=7):
        number = row[0].row
        values = [unescape(cell.value) for cell in row]
        if not any(values):
            continue
        if number in full_width:
            match = AREA.match(values[0])
            if not match:
                raise SheetError(_("工作领域应写作“(一)名称”。"), row=number, column=1)
            plan.areas.append((limit(match[1], 10, number, 1), limit(match[2], 200, number, 1), []))
            measure = None
            continue
        if values[0]:
            if not plan.areas:
                raise SheetError(_("工作措施之前应有工作领域行。"), row=number, column=1)
            match = NUMBERED.match(values[0])
            if not match:
                raise SheetError(_("工作措施应以编号开头,如“2.加强…”。"), row=number, column=1)
            for column, name in ((2, "工作目标"), (5, "执行部门"), (7, "责任处室")):
                if not values[column - 1]:
                    raise SheetError(
                        _("%(name)s不能为空。") % {"name": name}, row=number, column=column
                    )
            limit(values[4], 100, number, 5)
            for column in (6, 7):  # department names
                for name in split_names(values[column - 1]):
                    limit(name, 100, number, column)
            measure = ParsedMeasure(
                row=number,
                number=int(match[1]),
                title=limit(match[2].strip(), 300, number, 1),
                goal=values[1],
                executing=values[4],
                cooperating=limit(values[5], 300, number, 6),
                responsible=values[6],
            )
            plan.areas[-1][2].append(measure)
        elif measure is None:
            raise SheetError(_("这一行不属于任何工作措施。"), row=number, column=1)
        if values[2]:
            match = NUMBERED.match(values[2])
            if not match:
                raise SheetError(_("具体措施应以编号开头,如“1.…”。"), row=number, column=3)
            measure.actions.append((int(match[1]), match[2].strip()))
        if values[3]:
            match = ENTRY.match(values[3])
            if not match:
                raise SheetError(
                    _("进度安排应以时间开头,如“第一季度,…”“第二--四季度,…”“第一阶段,…”。"),
                    row=number,
                    column=4,
                )
            measure.milestones.append((limit(match[1], 30, number, 4), match[2].strip()))
    if not plan.measures:
        raise SheetError(_("表格中没有工作措施。"))
    for m in plan.measures:
        action_numbers = [n for n, _text in m.actions]
        if len(set(action_numbers)) != len(action_numbers):
            raise SheetError(
                _("工作措施%(n)s的具体措施编号有重复。") % {"n": m.number}, row=m.row, column=3
            )
    numbers = [m.number for m in plan.measures]
    for m in plan.measures:
        if numbers.count(m.number) > 1:
            raise SheetError(_("工作措施编号%(n)s重复。") % {"n": m.number}, row=m.row, column=1)
    return plan


class DryRun(Exception):
    pass


@dataclass
class ImportResult:
    plan: Plan
    created_departments: list[Department]
    counts: dict


def import_plan(data: bytes, *, dry_run: bool = False, progress=None) -> ImportResult:
    """Creates the plan a workbook describes, in one transaction; with dry_run, says what
    it would create and writes nothing."""

    parsed = parse_plan(data)
    result = None
    try:
        with transaction.atomic():
            if Plan.objects.filter(year=parsed.year, title=parsed.title).exists():
                raise SheetError(
                    _("计划“%(title)s”(%(year)s年)已存在。")
                    % {"title": parsed.title, "year": parsed.year}
                )
            known = Department.objects.all().by_spelling()
            created: list[Department] = []
            next_order = max((d.order for d in known.values()), default=0) + 1

            def department(name: str, kind: str) -> Department:
                """The department so named, or a new one, ordered as the file names them."""
                name = name.strip()
                if name not in known:
                    order = next_order + len(created)
                    known[name] = Department.objects.create(name=name, kind=kind, order=order)
                    created.append(known[name])
                return known[name]

            plan = Plan.objects.create(
                year=parsed.year,
                title=parsed.title,
                issued_on=parsed.issued_on,
                issuer=department(parsed.issuer, Department.Kind.BUREAU),
            )
            counts = {"work_areas": 0, "measures": 0, "actions": 0, "milestones": 0}
            actions, milestones = [], []
            for order, (numeral, title, parsed_measures) in enumerate(parsed.areas, start=1):
                area = WorkArea.objects.create(plan=plan, numeral=numeral, title=title, order=order)
                counts["work_areas"] += 1
                for pm in parsed_measures:
                    measure = Measure.objects.create(
                        work_area=area,
                        number=pm.number,
                        title=pm.title,
                        goal=pm.goal,
                        executing_department=department(pm.executing, Department.Kind.BUREAU),
                        cooperating_text=pm.cooperating,
                    )
                    measure.cooperating_units.set(
                        [department(n, Department.Kind.UNIT) for n in split_names(pm.cooperating)]
                    )
                    measure.responsible_offices.set(
                        [department(n, Department.Kind.OFFICE) for n in split_names(pm.responsible)]
                    )
                    actions += [Action(measure=measure, number=n, text=t) for n, t in pm.actions]
                    for order_in_measure, (label, text) in enumerate(pm.milestones, start=1):
                        first, last = label_quarters(label)
                        milestones.append(
                            Milestone(
                                measure=measure,
                                order=order_in_measure,
                                label=label,
                                text=text,
                                first_quarter=first,
                                last_quarter=last,
                            )
                        )
                    counts["measures"] += 1
                    if progress:
                        progress(1)
            Action.objects.bulk_create(actions)
            Milestone.objects.bulk_create(milestones)
            counts["actions"], counts["milestones"] = len(actions), len(milestones)
            result = ImportResult(plan, created, counts)
            if dry_run:
                raise DryRun
    except DryRun:
        pass
    return result


def split_names(text: str) -> list[str]:
    return [name.strip() for name in re.split(r"[、,,;;]", text) if name.strip()]
