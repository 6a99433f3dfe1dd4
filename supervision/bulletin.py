"""督查通报: the quarterly bulletin as a Word document in the usual official shape.

The bulletin is an official document of the issuing office, always in Chinese (like the
plan itself), so its text is not part of the interface's translation catalog. Every figure
comes from tasks.dashboard (the leaders' dashboard counts the same way): approved reports
only, 序时进度, on-time rates of the offices and the cooperating units.

Layout after GB/T 9704 (党政机关公文格式) where python-docx can express it: A4 portrait,
margins 37/35/28/26 mm, a red masthead, the title in 宋体 二号 bold, headings in 黑体 三号,
body in 仿宋 三号, tables in 仿宋 四号, and the page number as a PAGE field in the footer."""

import datetime
import io

from django.conf import settings
from django.utils import timezone, translation
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from plan.models import Plan
from tasks import dashboard

from . import services
from .models import Instruction

SONG, FANGSONG, HEI = "宋体", "仿宋", "黑体"
RED = RGBColor(0xC0, 0x00, 0x00)
NUMERALS = "一二三四五六七八九十"
STATE_TEXT = {"answered": "已办理", "open": "办理中", "overdue": "已逾期"}


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def issuer(plan: Plan) -> str:
    return settings.BULLETIN_ISSUER or plan.issuer.name


def quoted(title: str) -> str:
    """A document's title in 书名号, as official text cites it."""
    return title if title.startswith("《") else f"《{title}》"


def rate(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def on_time(unit, plan: Plan, quarter: int, today: datetime.date) -> int:
    """A cooperating unit's contributions made by the due date. dashboard.unit_contributions
    counts as late both those made after it and, once it has passed, those still missing."""
    missing_and_late = unit.due - unit.made if today > plan.report_due(quarter) else 0
    return unit.made - (unit.late - missing_and_late)


def _font(run, name: str, size: float, *, bold=False, color=None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attribute), name)


def _paragraph(
    doc, text="", *, font=FANGSONG, size=16, bold=False, color=None, align=None, indent=True
):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent and align is None:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(28)
    if text:
        _font(paragraph.add_run(text), font, size, bold=bold, color=color)
    return paragraph


def _red_rule(paragraph) -> None:
    """A red line under the masthead (a bottom border on its last paragraph)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "18"),
        ("w:space", "4"),
        ("w:color", "C00000"),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page_number(section) -> None:
    """— PAGE — centred in the footer, as a field Word and LibreOffice fill in."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), SONG, 14)
    run = paragraph.add_run()
    _font(run, SONG, 14)
    for kind, text in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "1":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    _font(paragraph.add_run(" —"), SONG, 14)


def _table(doc, header: list[str], rows: list[list]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(text), HEI, 12)
    for values in rows:
        cells = table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, values, strict=True)):
            if index:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(cell.paragraphs[0].add_run(str(value)), FANGSONG, 12)


def _heading(doc, number: int, text: str) -> None:
    _paragraph(doc, f"{NUMERALS[number - 1]}、{text}", font=HEI, size=16)


def build(plan: Plan, quarter: int, today: datetime.date) -> Document:
    data = dashboard.overview(plan, quarter, today=today)
    units = dashboard.unit_contributions(plan, quarter, today)
    instructions = services.instruction_rows(Instruction.objects.of_plan(plan), today)
    total = data.total

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FANGSONG, Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)
    _page_number(section)

    # Masthead (版头): the bulletin's name in red, its number, the issuer and the date.
    _paragraph(
        doc, "督查通报", font=SONG, size=42, bold=True, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    _paragraph(doc, f"{plan.year}年第{quarter}期", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    masthead = _paragraph(
        doc,
        f"{issuer(plan)}　　　　{chinese_date(today)}",
        size=16,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _red_rule(masthead)
    _paragraph(doc)
    _paragraph(
        doc,
        f"关于{quoted(plan.title)}第{NUMERALS[quarter - 1]}季度推进情况的通报",
        font=SONG,
        size=22,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _paragraph(doc)
    _paragraph(doc, "各处室、各配合单位:", indent=False)
    _paragraph(
        doc,
        f"现将{quoted(plan.title)}截至{plan.year}年第{NUMERALS[quarter - 1]}季度的推进情况通报如下"
        "(统计口径:"
        f"经审核通过的季度进展报告;报告截止日期{chinese_date(plan.report_due(quarter))})。",
    )

    _heading(doc, 1, "总体进展情况")
    active = sum(1 for figure in data.figures if figure.active_in(quarter))
    # The dashboard's categories of a due milestone by its latest approved report; the rest
    # have none yet. (逾期 cuts across them.)
    unreported = total.due - total.done - total.in_progress - total.behind
    _paragraph(
        doc,
        f"计划共有进度节点{len(data.figures)}个,截至本季度应完成{total.due}个,其中已完成"
        f"{total.done}个,进行中{total.in_progress}个,滞后{total.behind}个,逾期未完成"
        f"{total.overdue}个,尚无审核通过进展的{unreported}个。总体完成率{total.completion}%,"
        f"序时进度{total.expected}%。"
        f"本季度应报送进展的进度节点{active}个,尚未报送{total.not_reported}个。",
    )

    _heading(doc, 2, "各工作领域推进情况")
    _table(
        doc,
        ["工作领域", "应完成", "已完成", "进行中", "滞后", "逾期", "完成率"],
        [
            [b.label, b.due, b.done, b.in_progress, b.behind, b.overdue, f"{b.completion}%"]
            for b in data.by_area
        ],
    )

    _heading(doc, 3, "各责任处室推进和报送情况")
    timely = {row.office.pk: row for row in data.timeliness}
    office_rows = []
    for b in data.by_office:
        row = timely.get(b.key)
        if row is None:
            continue  # 相关处室 and the like: no office to name
        office_rows.append(
            [
                b.label,
                b.due,
                b.done,
                b.overdue,
                f"{b.completion}%",
                row.required,
                row.on_time,
                rate(row.on_time, row.required),
            ]
        )
    _table(
        doc,
        ["责任处室", "应完成", "已完成", "逾期", "完成率", "应报送", "按时报送", "按时报送率"],
        office_rows,
    )

    _heading(doc, 4, "逾期未完成的进度节点")
    overdue = [figure for figure in data.figures if figure.overdue]
    if not overdue:
        _paragraph(doc, "截至本季度,没有逾期未完成的进度节点。")
    for number, figure in enumerate(overdue, start=1):
        milestone = figure.milestone
        offices = "、".join(office.name for office in figure.offices) or "—"
        _paragraph(
            doc,
            f"{number}. {milestone.measure.number}.{milestone.measure.title}({milestone.label}):"
            f"{milestone.text}(责任处室:{offices};已完成{figure.percent}%)",
        )

    _heading(doc, 5, "领导批示办理情况")
    counts = {state: sum(1 for r in instructions if r.state == state) for state in STATE_TEXT}
    _paragraph(
        doc,
        f"领导共作出批示{len(instructions)}件,已办理{counts['answered']}件,办理中"
        f"{counts['open']}件,逾期未办理{counts['overdue']}件。",
    )
    for number, row in enumerate(instructions, start=1):
        item = row.instruction
        author = item.author.get_full_name() or item.author.get_username()
        due = f",办理时限{chinese_date(item.due_on)}" if item.due_on else ""
        offices = "、".join(f"{office.name}{row.office_state(office)}" for office in row.offices)
        _paragraph(
            doc,
            f"{number}. {author}于{chinese_date(timezone.localtime(item.created_at).date())}对"
            f"“{item.measure.number}.{item.measure.title}”批示:“{item.text}”{due}。"
            f"办理情况:{STATE_TEXT[row.state]}({offices or '—'})。",
        )

    _heading(doc, 6, "配合单位报送情况")
    if units:
        _table(
            doc,
            ["配合单位", "应报送", "已报送", "逾期", "按时报送率"],
            [
                [u.unit.name, u.due, u.made, u.late, rate(on_time(u, plan, quarter, today), u.due)]
                for u in units
            ],
        )
    else:
        _paragraph(doc, "本季度没有需要配合单位报送的进度节点。")

    _paragraph(doc)
    _paragraph(doc, issuer(plan), align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, chinese_date(today), align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def render(plan: Plan, quarter: int, today: datetime.date) -> bytes:
    """The document as bytes, in the site's language whatever the reader's (the states of
    instructions and offices come from the translated interface)."""
    buffer = io.BytesIO()
    with translation.override(settings.LANGUAGE_CODE):
        build(plan, quarter, today).save(buffer)
    return buffer.getvalue()
