"""The plan in its own table layout, as an Excel workbook: written by export_plan, read
back by the import_plan command (plan/intake), so next year's plan is loaded from Excel
without writing fixtures.

Layout: row 1 the title, row 2 the year, issuer and issue date, rows 3–4 the headers
(工作措施 … 责任处室, then 备注, or one quarter's 状态 / 完成% / 完成情况), then per work
area a full-width row "(一)…", and per measure as many rows as it has actions or schedule
entries, with the measure's own cells merged over them. The progress columns hold, per
schedule entry, the quarter's approved report; import_plan ignores them. Two more sheets carry what
the table cannot: 部门 (each department's kind, other spellings, generic flag) and 进度节点
(each milestone's label and quarters), so export → import loses nothing."""

from django.db import models
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from departments.models import Department
from spreadsheets.writing import safe

from .models import QUARTER_CHOICES, Measure, Milestone, Plan

PLAN_HEADERS = ["工作措施", "工作目标", "具体措施", "进度安排", "执行部门", "配合单位", "责任处室"]
PROGRESS_HEADERS = ["状态", "完成%", "完成情况"]
PLAN_WIDTHS = [18, 20, 40, 40, 12, 16, 12]
PROGRESS_WIDTHS = [8, 7, 22]  # one quarter's progress beside the plan
FIRST_DATA_ROW = 5

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
FONT = "宋体"


def offices_text(measure) -> str:
    return "、".join(office.name for office in measure.responsible_offices.all())


# --- Writing -----------------------------------------------------------------------------


REMARKS_HEADER = "备注"
REMARKS_WIDTH = 10
DATA_FONT_SIZE = 10  # points, printed at PRINT_SCALE % or more: never below 8 pt on paper
MIN_PRINTED_POINTS = 8
FOOTER = "第 &P 页 共 &N 页"
# A3 landscape, 0.4" side and 0.5" top/bottom margins, in points.
PRINTABLE_WIDTH = (420 / 25.4 - 0.8) * 72
PRINTABLE_HEIGHT = (297 / 25.4 - 1.0 - 0.6) * 72  # less the footer's room


def column_points(width: float) -> float:
    """How wide a column of `width` characters prints, in points, at the widest a spreadsheet
    program lays it out: Excel gives a character 7 px, LibreOffice with a CJK default font
    about 9.4 px (measured: the plan's columns fit an A3 page at 75%, not at 80%); 5 px of
    padding; 0.75 pt a pixel. The scale computed from it fits the page in both."""
    return (width * 9.4 + 5) * 0.75


def export_plan(plan: Plan, approved: dict | None = None, quarter: int | None = None) -> Workbook:
    """The plan in its table layout, for print: the plan alone (with a 备注 column), or with
    one quarter's progress when `quarter` is given. `approved` maps (milestone id, quarter)
    to the approved report shown in the progress columns
    (tasks.models.ProgressReport.objects.approved_by_cell).

    Printed on A3 landscape at a fixed scale that keeps the text at 8 pt or more (checked
    here), the header rows repeated on every page, a page break before any measure that
    would otherwise be split over two pages, and "第 N 页 共 M 页" in the footer."""

    book = Workbook()
    sheet = book.active
    sheet.title = str(plan.year)
    if quarter is None:
        extra_headers, extra_widths = [REMARKS_HEADER], [REMARKS_WIDTH]
    else:
        extra_headers, extra_widths = PROGRESS_HEADERS, PROGRESS_WIDTHS
    widths = PLAN_WIDTHS + extra_widths
    columns = len(widths)
    last_col = get_column_letter(columns)

    sheet.append([safe(plan.title)])
    sheet.merge_cells(f"A1:{last_col}1")
    sheet["A1"].font = Font(name=FONT, size=16, bold=True)
    sheet["A1"].alignment = CENTER
    sheet.row_dimensions[1].height = 30
    issued = plan.issued_on.isoformat() if plan.issued_on else ""
    sheet.append([safe(f"年度:{plan.year};印发单位:{plan.issuer.name};印发日期:{issued}")])
    sheet.merge_cells(f"A2:{last_col}2")
    sheet["A2"].font = Font(name=FONT, size=10)
    sheet["A2"].alignment = Alignment(horizontal="right")

    if quarter is None:
        sheet.append([safe(h) for h in PLAN_HEADERS + extra_headers])
        sheet.append([None] * columns)
        for index in range(1, columns + 1):
            letter = get_column_letter(index)
            sheet.merge_cells(f"{letter}3:{letter}4")
    else:
        label = f"{QUARTER_CHOICES[quarter - 1][1]}进展(已审核)"
        sheet.append([safe(h) for h in PLAN_HEADERS] + [safe(label), None, None])
        sheet.append([None] * len(PLAN_HEADERS) + [safe(h) for h in PROGRESS_HEADERS])
        for index in range(1, len(PLAN_HEADERS) + 1):
            letter = get_column_letter(index)
            sheet.merge_cells(f"{letter}3:{letter}4")
        start = len(PLAN_HEADERS) + 1
        sheet.merge_cells(start_row=3, end_row=3, start_column=start, end_column=start + 2)
    for row in sheet.iter_rows(min_row=3, max_row=4, max_col=columns):
        for cell in row:
            cell.font = Font(name=FONT, size=DATA_FONT_SIZE, bold=True)
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

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header_height = 2 * 20
    page_room = PRINTABLE_HEIGHT / print_scale(widths) * 100 - header_height
    used = 50.0  # points of the current page used: the title rows on the first page
    row = FIRST_DATA_ROW
    for area in plan.work_areas.all():
        sheet.cell(row=row, column=1, value=safe(str(area)))
        sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=columns)
        cell = sheet.cell(row=row, column=1)
        cell.font = Font(name=FONT, size=DATA_FONT_SIZE, bold=True)
        cell.fill = PatternFill("solid", fgColor="FCE4D6")
        cell.border = BORDER
        sheet.row_dimensions[row].height = 20
        area_row = row
        row += 1
        for number, measure in enumerate(by_area.get(area.pk, [])):
            top = row
            row = write_measure(sheet, row, measure, approved, widths, quarter)
            height = sum(sheet.row_dimensions[r].height for r in range(top, row))
            first = top if number else area_row  # a work area's row stays with its first measure
            block = height + (0 if number else 20)
            if used and used + block > page_room:
                sheet.row_breaks.append(Break(id=first - 1))
                used = 0.0
            used += block

    for r in (3, 4):
        sheet.row_dimensions[r].height = 20
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    sheet.page_setup.scale = print_scale(widths)
    sheet.sheet_properties.pageSetUpPr.fitToPage = False
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = FOOTER
    sheet.oddFooter.center.size = 9
    write_reference_sheets(book, plan)
    return book


def print_scale(widths: list[float]) -> int:
    """The print scale (%) at which the columns fill the page's width, at most 100; never
    one that would print the data below MIN_PRINTED_POINTS."""
    total = sum(column_points(w) for w in widths)
    scale = min(100, int(100 * PRINTABLE_WIDTH / total))
    if DATA_FONT_SIZE * scale / 100 < MIN_PRINTED_POINTS:
        raise ValueError(f"the plan's columns would print below {MIN_PRINTED_POINTS} pt")
    return scale


def write_measure(
    sheet, top: int, measure, approved: dict, widths: list[float], quarter: int | None
) -> int:
    columns = len(widths)
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
        report = approved.get((milestone.pk, quarter)) if quarter else None
        if report is not None:
            start = len(PLAN_HEADERS) + 1
            sheet.cell(row=top + offset, column=start, value=safe(report.get_status_display()))
            sheet.cell(row=top + offset, column=start + 1, value=safe(report.percent))
            sheet.cell(row=top + offset, column=start + 2, value=safe(report.done_text))
    for r in range(top, top + height):
        for c in range(1, columns + 1):
            cell = sheet.cell(row=r, column=c)
            cell.alignment = WRAP
            cell.border = BORDER
            cell.font = Font(name=FONT, size=DATA_FONT_SIZE, bold=c == 1)
    fit_rows(sheet, top, height, widths)
    return top + height


def text_lines(value, width: float) -> int:
    """How many lines wrapped text needs in a column `width` characters wide (a Chinese
    character takes two)."""
    if value is None:
        return 1
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))
    return max(1, -(-units // max(int(width) - 1, 1)))


def fit_rows(sheet, top: int, height: int, widths: list[float]) -> None:
    """Row heights that show all wrapped text: spreadsheet programs do not grow rows for
    text in merged cells, so the measure's merged cells get their height spread over its rows."""
    columns = len(widths)
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


# --- Round trip ---------------------------------------------------------------------------

DEPARTMENT_SHEET = "部门"
MILESTONE_SHEET = "进度节点"
KIND_NAMES = {"bureau": "执行部门", "office": "责任处室", "unit": "配合单位"}


def write_reference_sheets(book: Workbook, plan: Plan) -> None:
    """What the table cannot show, for the import to read back: the departments the plan
    names (kind, other spellings, generic) and each milestone's label and quarters (a label
    an admin wrote, the quarters an admin set for a phase)."""
    departments = Department.objects.filter(
        models.Q(executed_measures__work_area__plan=plan)
        | models.Q(cooperating_measures__work_area__plan=plan)
        | models.Q(responsible_measures__work_area__plan=plan)
        | models.Q(pk=plan.issuer_id)
    ).distinct()
    sheet = book.create_sheet(DEPARTMENT_SHEET)
    sheet.append(["名称", "类别", "其他写法", "泛指"])
    for department in departments.order_by("kind", "order", "name"):
        sheet.append(
            [
                safe(department.name),
                KIND_NAMES[department.kind],
                safe("、".join(department.aliases)),
                "是" if department.generic else "",
            ]
        )
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["C"].width = 40
    sheet = book.create_sheet(MILESTONE_SHEET)
    sheet.append(["工作措施编号", "序号", "时间", "起始季度", "截止季度", "调整取消日期"])
    milestones = Milestone.objects.filter(measure__work_area__plan=plan).select_related("measure")
    for m in milestones.order_by("measure__number", "order"):
        sheet.append(
            [
                m.measure.number,
                m.order,
                safe(m.label),
                m.first_quarter,
                m.last_quarter,
                m.retired_on.isoformat() if m.retired_on else None,
            ]
        )
