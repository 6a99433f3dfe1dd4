"""Loading a plan from any document it arrives as (plan/intake): the published text, a Word
table with merged cells, a national-style three-level workbook, a revision onto a live
plan, the round trip, and every kind of bad input named with where it is."""

import datetime
import html
import io
from pathlib import Path

import docx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from docx.enum.section import WD_ORIENT
from openpyxl import Workbook, load_workbook

from departments.models import Department
from plan.intake.labels import read_label, split_entry
from plan.intake.match import names_in
from plan.intake.readers import read_plan
from plan.intake.service import intake
from plan.layout import export_plan
from plan.models import Action, Measure, Milestone, Plan, PlanRevision, WorkArea
from tasks.models import ProgressReport

from . import builders

SOURCE = Path(settings.BASE_DIR) / "fixtures" / "source" / "chongqing_2014_plan.txt"
PLAN_TABLES = (Plan, WorkArea, Measure, Action, Milestone, Department, PlanRevision)


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in PLAN_TABLES}


def database_tree(plan: Plan) -> list:
    """The plan as the database holds it, cell for cell, in the document's order."""
    tree = []
    for area in plan.work_areas.order_by("order"):
        measures = []
        for m in area.measures.order_by("number"):
            measures.append(
                (
                    m.number,
                    m.title,
                    m.goal,
                    m.executing_department.name,
                    m.cooperating_text,
                    "、".join(o.name for o in m.responsible_offices.order_by("order")),
                    [(a.number, a.text) for a in m.actions.order_by("number")],
                    [
                        (x.label, x.text, x.first_quarter, x.last_quarter)
                        for x in m.milestones.order_by("order")
                    ],
                )
            )
        tree.append((area.numeral, area.title, measures))
    return tree


def parsed_tree(parsed) -> list:
    return [
        (
            a.numeral,
            a.title,
            [
                (
                    m.number,
                    m.title,
                    m.goal,
                    m.executing,
                    m.cooperating,
                    m.responsible,
                    [(x.number, x.text) for x in m.actions],
                    [(x.label, x.text, x.first, x.last) for x in m.milestones],
                )
                for m in a.measures
            ],
        )
        for a in parsed.areas
    ]


def xlsx(rows, *, merges=(), title="Sheet") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for rng in merges:
        sheet.merge_cells(rng)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def exported(plan) -> bytes:
    buffer = io.BytesIO()
    export_plan(plan).save(buffer)
    return buffer.getvalue()


def empty_database():
    ProgressReport.objects.all().delete()
    Plan.objects.all().delete()
    Department.objects.all().delete()


# --- Deadlines as plans write them ------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "span"),
    [
        ("第一季度", (1, 1)),
        ("第二--四季度", (2, 4)),
        ("第二—四季度", (2, 4)),
        ("第二–四季度", (2, 4)),
        ("第二-四季度", (2, 4)),
        ("第二至四季度", (2, 4)),
        ("第二到四季度", (2, 4)),
        ("第二季度至第四季度", (2, 4)),
        ("上半年", (1, 2)),
        ("下半年", (3, 4)),
        ("全年", (1, 4)),
        ("年内", (1, 4)),
        ("持续推进", (1, 4)),
        ("年内有阶段性成果", (1, 4)),
        ("2014年6月底前", (1, 2)),
        ("6月底前", (1, 2)),
        ("9月前", (1, 3)),
        ("10月份", (4, 4)),
        ("2014年9月30日前", (1, 3)),
        ("年底前", (1, 4)),
        ("第一阶段", (None, None)),
        ("二季度", (2, 2)),
        ("一至二季度", (1, 2)),
        ("第三、四季度", (3, 4)),
        ("每季度", (1, 4)),
    ],
)
def test_a_deadline_maps_to_the_quarters_it_spans(label, span):
    reading = read_label(label)
    assert (reading.first, reading.last) == span
    assert reading.known and not reading.problem


def test_a_reversed_span_and_a_month_that_does_not_exist_are_problems():
    assert "起始季度晚于截止季度" in read_label("第四--三季度").problem
    assert "月份不存在" in read_label("13月底前").problem
    assert not read_label("待定").known  # kept as an unscheduled label, not refused


def test_an_entry_splits_into_label_and_text():
    assert split_entry("第二至四季度,全面推进。") == ("第二至四季度", "全面推进。")
    assert split_entry("6月底前:完成调研。") == ("6月底前", "完成调研。")
    assert split_entry("二季度调研") is None
    assert split_entry("第三、四季度,总结。") == ("第三、四季度", "总结。")
    assert split_entry("二季度:调研。") == ("二季度", "调研。")


def test_free_text_in_a_department_cell_gives_the_names_it_holds():
    assert names_in("局内:条法司牵头,相关部门参与") == ["条法司", "相关部门"]
    assert names_in("规划发展处、相关处室") == ["规划发展处", "相关处室"]


# --- The 2014 plan from its published text and from Word ----------------------------------


def test_the_published_text_reads_as_the_fixture_cell_for_cell(plan_2014):
    parsed = read_plan(SOURCE.read_bytes())
    assert not parsed.problems, [str(p) for p in parsed.problems]
    assert (parsed.title, parsed.year, parsed.issuer, parsed.issued_on) == (
        plan_2014.title,
        2014,
        "重庆市知识产权局",
        datetime.date(2014, 4, 15),
    )
    assert parsed_tree(parsed) == database_tree(plan_2014)


def test_the_published_text_loads_into_an_empty_database(plan_2014):
    expected = database_tree(plan_2014)
    departments = {d.name: (d.kind, sorted(d.aliases)) for d in Department.objects.all()}
    empty_database()
    call_command("import_plan", str(SOURCE))
    plan = Plan.objects.get()
    assert database_tree(plan) == expected
    assert plan.revisions.get().kind == PlanRevision.Kind.CREATED
    # The two other spellings of the district offices are taken as theirs (close spellings
    # of a name the same file writes), as the fixture has them.
    loaded = {d.name: (d.kind, sorted(d.aliases)) for d in Department.objects.all()}
    assert loaded == departments
    # 泛指 as the names say it (相关…, 下属…, 局各…); the admin ticks the others in the preview
    generic = set(Department.objects.filter(generic=True).values_list("name", flat=True))
    assert generic == {"相关处室", "市级相关部门", "局各处室", "下属机构"}


def word_plan(
    plan: Plan, *, table=True, title=None, schedule_header="进度安排", offices=None
) -> bytes:
    """The 2014 plan as a Word table: a work-area row merged across, each measure's own
    cells merged down over its rows (vMerge, as Word writes it), one action and one
    schedule entry per row."""
    document = docx.Document()
    document.sections[0].orientation = WD_ORIENT.LANDSCAPE
    document.add_paragraph(title or plan.title)
    document.add_paragraph("重庆市知识产权局")
    document.add_paragraph("2014年4月15日")
    if not table:
        document.add_paragraph("工作措施 工作目标 具体措施 进度安排")
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    headers = [
        "工作措施",
        "工作目标",
        "具体措施",
        schedule_header,
        "执行部门",
        "配合单位",
        "责任处室",
    ]
    grid = document.add_table(rows=1, cols=7)
    for cell, header in zip(grid.rows[0].cells, headers, strict=True):
        cell.text = header
    for area in plan.work_areas.order_by("order"):
        row = grid.add_row()
        row.cells[0].merge(row.cells[6]).text = str(area)
        for m in area.measures.order_by("number"):
            actions = list(m.actions.order_by("number"))
            milestones = list(m.milestones.order_by("order"))
            height = max(len(actions), len(milestones), 1)
            rows = [grid.add_row() for _ in range(height)]
            own = {
                0: f"{m.number}.{m.title}",
                1: m.goal,
                4: m.executing_department.name,
                5: m.cooperating_text,
                6: "、".join(o.name for o in m.responsible_offices.order_by("order")),
            }
            if offices and m.number in offices:
                own[6] = offices[m.number]
            for column, text in own.items():
                top = rows[0].cells[column]
                if height > 1:
                    top = top.merge(rows[-1].cells[column])
                top.text = text
            for offset, action in enumerate(actions):
                rows[offset].cells[2].text = f"{action.number}.{action.text}"
            for offset, x in enumerate(milestones):
                rows[offset].cells[3].text = f"{x.label},{x.text}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_word_table_with_merged_cells_reads_as_the_plan(plan_2014):
    data = word_plan(plan_2014)
    assert b"vMerge" in _document_xml(data)
    parsed = read_plan(data)
    assert parsed.kind == "docx"
    assert not parsed.errors, [str(p) for p in parsed.errors]
    assert parsed.title == plan_2014.title
    assert parsed_tree(parsed) == database_tree(plan_2014)


def _document_xml(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("word/document.xml")


# --- A national-style plan: three levels, one row per task, other deadlines ----------------

NATIONAL = [
    ["2015年知识产权战略实施推进计划"],
    ["序号", "主要任务", "具体任务", "工作措施", "牵头单位", "参与单位", "完成时限"],
    [
        1,
        "一、完善知识产权法律制度",
        "1.推动专利法修订",
        "配合做好专利法第四次修改审议工作",
        "条法司",
        "保护司",
        "年内",
    ],
    [
        2,
        "一、完善知识产权法律制度",
        "1.推动专利法修订",
        "研究制定专利法实施细则修改草案",
        "条法司",
        "",
        "2015年6月底前",
    ],
    [
        3,
        "一、完善知识产权法律制度",
        "2.完善配套规章",
        "修订专利审查指南",
        "审查业务管理部",
        "条法司",
        "下半年",
    ],
    [
        4,
        "二、加强知识产权保护",
        "3.开展执法专项行动",
        "组织护航专项行动",
        "局内:保护司牵头,相关部门参与",
        "",
        "第二至四季度",
    ],
    [5, "二、加强知识产权保护", "3.开展执法专项行动", "建立维权援助网络", "保护司", "", "持续推进"],
    [
        6,
        "二、加强知识产权保护",
        "4.推进信用体系建设",
        "将侵权行为纳入信用记录",
        "保护司",
        "",
        "待国务院部署",
    ],
]


def test_a_national_three_level_workbook_loads(db):
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    Department.objects.create(name="条法司", kind="office", order=2)
    Department.objects.create(name="保护协调司", kind="office", order=3, aliases=["保护司"])
    result = intake(xlsx(NATIONAL), dry_run=False)
    assert result.ok, result.problems
    plan = Plan.objects.get()
    assert (plan.year, plan.title, plan.issuer.name) == (2015, NATIONAL[0][0], "国家知识产权局")
    areas = list(plan.work_areas.order_by("order"))
    assert [(a.numeral, a.title) for a in areas] == [
        ("一", "完善知识产权法律制度"),
        ("二", "加强知识产权保护"),
    ]
    m1 = Measure.objects.get(number=1)
    assert m1.title == "推动专利法修订"
    assert [a.text for a in m1.actions.all()] == [
        "配合做好专利法第四次修改审议工作",
        "研究制定专利法实施细则修改草案",
    ]
    assert [(x.label, x.text, x.first_quarter, x.last_quarter) for x in m1.milestones.all()] == [
        ("年内", "配合做好专利法第四次修改审议工作", 1, 4),
        ("2015年6月底前", "研究制定专利法实施细则修改草案", 1, 2),
    ]
    assert m1.cooperating_text == "保护司"
    assert [d.name for d in m1.cooperating_units.all()] == ["保护协调司"]
    m3 = Measure.objects.get(number=3)
    assert [x.label for x in m3.milestones.all()] == ["第二至四季度", "持续推进"]
    # 局内:保护司牵头,相关部门参与: the office it names, and "相关部门" as a generic name
    assert "保护协调司" in [o.name for o in m3.responsible_offices.all()]
    assert not Department.objects.filter(name__contains="参与").exists()
    m4 = Measure.objects.get(number=4)
    unscheduled = m4.milestones.get()
    assert (unscheduled.label, unscheduled.first_quarter) == ("待国务院部署", None)
    assert any("待国务院部署" in note for note in result.notes)
    assert Measure.objects.get(number=2).executing_department.name == "国家知识产权局"


def test_an_unrecognised_column_is_asked_about_and_can_be_mapped(db):
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    rows = [list(row) for row in NATIONAL]
    rows[1][6] = "截止日期"
    result = intake(xlsx(rows))
    assert any("第2行G列:未识别的列“截止日期”" in p for p in result.problems)
    assert Plan.objects.count() == 0
    result = intake(xlsx(rows), mapping={"截止日期": "schedule"})
    assert result.ok, result.problems
    assert result.parsed.counts["milestones"] == 6


def test_a_close_spelling_is_a_question_with_a_suggestion(db):
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    Department.objects.create(name="审查业务管理部门", kind="office", order=2)
    result = intake(xlsx(NATIONAL))
    questions = {q.written: q for q in result.matching.questions}
    assert questions["审查业务管理部"].suggestion.name == "审查业务管理部门"
    assert questions["条法司"].suggestion is None
    # the admin's answers: create 条法司, take the suggestion, 相关部门 as text only
    result = intake(
        xlsx(NATIONAL), decisions={"条法司": "new:office", "相关部门": "text"}, dry_run=False
    )
    assert result.ok, result.problems
    assert Department.objects.get(name="审查业务管理部门").aliases == ["审查业务管理部"]
    assert not Department.objects.filter(name="相关部门").exists()


# --- Revising a live plan ------------------------------------------------------------------


def revised_2014(plan: Plan) -> bytes:
    """The 2014 plan as revised in June: measure 2's third quarter rewritten, its fourth
    quarter moved to 第三--四季度; measure 7's second quarter dropped; measure 30 dropped;
    measure 31 added; an action of measure 3 reworded."""
    book = load_workbook(io.BytesIO(exported(plan)))
    del book["进度节点"]  # a file revised by hand has only the table
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=5, max_col=4):
        a, _b, c, d = row
        if d.value and d.value.startswith("第三季度,草拟《重庆市专利政策框架"):
            d.value = "第三季度,修订后的草拟工作。"
        if c.value and c.value.startswith("2.调研四川"):
            c.value = "2.调研四川、广东、上海、江苏等地的做法。"
    return save(book)


def save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_revision_keeps_reports_retires_and_records(plan_2014, reviewer, admin_user):
    third = Milestone.objects.get(measure__number=2, label="第三季度")
    report = builders.report(third, 3, reviewer=reviewer)
    m7_q2 = Milestone.objects.get(measure__number=7, label="第二季度")
    builders.report(m7_q2, 2, reviewer=reviewer)
    m30_first = Milestone.objects.filter(measure__number=30).first()
    builders.report(m30_first, m30_first.first_quarter, reviewer=reviewer)
    reports = ProgressReport.objects.count()

    book = load_workbook(io.BytesIO(revised_2014(plan_2014)))
    sheet = book.worksheets[0]
    # measure 7: drop its second-quarter entry (shift the later ones up)
    rows = {r[0].row: r for r in sheet.iter_rows(min_row=5, max_col=4)}
    m7 = next(n for n, r in rows.items() if (r[0].value or "").startswith("7."))
    entries = [rows[n][3].value for n in range(m7, m7 + 4)]
    kept = [e for e in entries if not e.startswith("第二季度")]
    for offset in range(4):
        rows[m7 + offset][3].value = kept[offset] if offset < len(kept) else None
    # measure 30 dropped: its rows emptied; a new measure 31 in its place
    m30 = next(n for n, r in rows.items() if (r[0].value or "").startswith("30."))
    for rng in list(sheet.merged_cells.ranges):
        if rng.min_row == m30:
            sheet.unmerge_cells(str(rng))
    for offset in range(6):
        for column in range(1, 8):
            sheet.cell(row=m30 + offset, column=column).value = None
    for column, value in enumerate(
        [
            "31.新增措施",
            "新目标",
            "1.新的具体措施。",
            "下半年,完成新任务。",
            "重庆市知识产权局",
            "",
            "法律事务处",
        ],
        start=1,
    ):
        sheet.cell(row=m30, column=column).value = value
    data = save(book)

    preview = intake(data, revise=plan_2014)
    assert preview.ok, preview.problems
    assert ProgressReport.objects.count() == reports and PlanRevision.objects.count() == 0
    changes = "\n".join(preview.outcome.changes)
    assert "工作措施2修改进度节点“第三季度”" in changes
    assert "工作措施3修改具体措施2" in changes
    assert "新增工作措施31.新增措施" in changes
    assert "工作措施7的“第二季度”已有进展报告,调整取消(保留)" in changes

    result = intake(
        data, revise=plan_2014, user=admin_user, file_name="2014调整.xlsx", dry_run=False
    )
    assert result.ok, result.problems
    assert Plan.objects.count() == 1
    assert ProgressReport.objects.count() == reports
    report.refresh_from_db()
    assert report.milestone.text == "修订后的草拟工作。"
    m7_q2.refresh_from_db()
    assert m7_q2.retired_on == datetime.date.today()
    assert m7_q2 not in Milestone.objects.in_force()
    assert Measure.objects.filter(number=30).exists()  # kept: a milestone has a report
    assert not Milestone.objects.in_force().filter(measure__number=30).exists()
    assert Measure.objects.get(number=31).milestones.get().quarters == range(3, 5)
    revision = plan_2014.revisions.get()
    assert (revision.kind, revision.by, revision.file_name) == (
        "revised",
        admin_user,
        "2014调整.xlsx",
    )
    assert revision.counts["retired"] >= 2 and revision.file.read() == data

    # The same file again changes nothing more
    again = intake(data, revise=plan_2014)
    assert again.outcome.changes == []


def test_revise_on_the_command_line_by_year(plan_2014, tmp_path, capsys):
    path = tmp_path / "revised.xlsx"
    path.write_bytes(revised_2014(plan_2014))
    call_command("import_plan", str(path), revise="2014", dry_run=True)
    out = capsys.readouterr().out
    assert "Would revise plan 2014" in out and "修改进度节点“第三季度”" in out
    assert PlanRevision.objects.count() == 0
    call_command("import_plan", str(path), revise=str(plan_2014.pk))
    assert PlanRevision.objects.get().kind == "revised"


def test_a_second_import_of_the_same_plan_points_to_revision(plan_2014, tmp_path):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(exported(plan_2014))
    with pytest.raises(CommandError, match="计划调整"):
        call_command("import_plan", str(path))


# --- Round trip ------------------------------------------------------------------------------


def test_round_trip_keeps_aliases_generic_quarters_and_labels(plan_2014):
    phase = Milestone.objects.get(measure__number=19, label="第一阶段")
    phase.first_quarter = phase.last_quarter = 2
    phase.save()
    relabelled = Milestone.objects.get(measure__number=2, label="第二季度")
    relabelled.label = "2014年6月底前"
    relabelled.save()
    odd = Milestone.objects.get(measure__number=2, label="第三季度")
    odd.label = "视情况"  # any label an admin writes
    odd.first_quarter, odd.last_quarter = 3, 4
    odd.save()
    departments = {d.name: (d.kind, d.aliases, d.generic) for d in Department.objects.all()}
    expected = database_tree(plan_2014)
    data = exported(plan_2014)
    empty_database()
    result = intake(data, dry_run=False)
    assert result.ok, result.problems
    assert database_tree(Plan.objects.get()) == expected
    assert {d.name: (d.kind, d.aliases, d.generic) for d in Department.objects.all()} == departments


# --- Bad input: every problem at once, nothing written -----------------------------------------


def table_rows(changes=None, inserted=False):
    rows = [
        ["2099年推进计划"],
        ["工作措施", "工作目标", "具体措施", "进度安排", "执行部门", "配合单位", "责任处室"],
        ["(一)领域"],
        ["1.措施一", "目标", "1.做事。", "第一季度,开始。", "局", "", "一处"],
        [None, None, "2.再做。", "第四--三季度,反了。", None, None, None],
        ["2.措施二", "目标", "1.做事。", "第二季度,继续。", "局", "", "二处"],
    ]
    if inserted:  # a row added above measure 2's first row, outside measure 1's merged cells
        rows.insert(5, [None, None, "3.插入的一行。", None, None, None, None])
    for (r, c), value in (changes or {}).items():
        while len(rows[r]) <= c:
            rows[r].append(None)
        rows[r][c] = value
    return rows


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        (
            xlsx(table_rows(), merges=["A4:A5", "B4:B5", "E4:E5", "F4:F5", "G4:G5"]),
            ["第5行D列:“第四--三季度”的起始季度晚于截止季度"],
        ),
        (
            xlsx(table_rows(inserted=True), merges=["A4:A5", "B4:B5", "E4:E5", "G4:G5"]),
            ["第6行A列:这一行不属于任何工作措施"],
        ),
        (
            xlsx(table_rows({(5, 0): "1.措施二", (5, 1): None, (5, 6): None})),
            ["工作措施编号1重复", "第6行B列:工作目标不能为空", "第6行G列:责任处室不能为空"],
        ),
        (xlsx([*table_rows(), ["=1+1", "目标"]]), ["第7行A列:单元格是公式"]),
    ],
    ids=["reversed-span", "row-of-no-measure", "duplicates-and-empty-cells", "formula"],
)
def test_bad_input_lists_every_problem_and_writes_nothing(db, data, messages):
    before = counts()
    result = intake(data, dry_run=False)
    assert not result.ok
    for message in messages:
        assert any(message in p for p in result.problems), (message, result.problems)
    assert counts() == before


def test_a_word_file_without_a_table_is_refused(plan_2014):
    result = intake(word_plan(plan_2014, table=False))
    assert result.problems == ["Word文件中没有表格:推进计划应以表格形式写在文件中(插入→表格)。"]


def test_a_file_with_two_plans_is_refused(db):
    rows = table_rows()
    book = Workbook()
    for name in ("计划一", "计划二"):
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    del book["Sheet"]
    result = intake(save(book))
    assert any("2个工作表各是一份计划" in p for p in result.problems), result.problems
    text = SOURCE.read_text(encoding="utf-8")
    start = text.index("重庆市2014年专利事业发展战略推进计划\n工作措施")
    second = text[start:].replace("2014年专利", "2015年专利", 1)
    twice = text[: text.index("- 个人简介")] + second
    result = intake(twice.encode())
    assert any("两份计划" in p for p in result.problems), result.problems


def test_a_file_over_the_size_limit_is_refused(db, settings):
    settings.IMPORT_MAX_BYTES = 1000
    result = intake(SOURCE.read_bytes())
    assert len(result.problems) == 1 and "超过" in result.problems[0]


def test_the_command_lists_every_problem_and_exits_non_zero(db, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(
        xlsx(table_rows({(5, 0): "1.措施二"}), merges=["A4:A5", "B4:B5", "E4:E5", "F4:F5", "G4:G5"])
    )
    with pytest.raises(CommandError) as raised:
        call_command("import_plan", str(path), dry_run=True)
    assert "2 problem(s)" in str(raised.value)
    assert "起始季度晚于截止季度" in str(raised.value) and "编号1重复" in str(raised.value)


def test_a_retired_milestone_is_out_of_the_dashboard_figures(plan_2014):
    from tasks.dashboard import load_figures

    today = datetime.date(2014, 8, 1)
    before = load_figures(plan_2014, 3, today)
    retired = Milestone.objects.get(measure__number=2, label="第二季度")
    retired.retired_on = datetime.date(2014, 7, 20)  # revised in July
    retired.save()
    after = load_figures(plan_2014, 3, today)
    assert len(after) == len(before) - 1
    assert retired not in [f.milestone for f in after]
    # The second quarter's figures, which ended before the revision, still count it.
    assert retired in [f.milestone for f in load_figures(plan_2014, 2, today)]


def test_the_bench_plan_ten_times_the_size_loads(plan_2014):
    """bench/run.py's plan_import_scale_ratio loads this file: it must load, 180 measures."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_run", Path(settings.BASE_DIR) / "bench" / "run.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    parsed = read_plan(exported(plan_2014))
    queries = {}
    for times in (1, 10):  # the preview's queries: bulk writes, a batch per few hundred rows
        data = bench.plan_workbook(parsed, times, f"规模测试{times}倍2099年推进计划")
        with CaptureQueriesContext(connection) as captured:
            assert intake(data).ok
        queries[times] = len(captured)
    assert queries[1] <= queries[10] <= 30
    result = intake(bench.plan_workbook(parsed, 10, "规模测试10倍2099年推进计划"), dry_run=False)
    assert result.ok, result.problems
    assert result.parsed.counts == {
        "work_areas": 11,
        "measures": 180,
        "actions": 650,
        "milestones": 610,
    }


def test_the_published_page_as_html_reads_as_the_fixture(plan_2014):
    text = SOURCE.read_text(encoding="utf-8")
    body = "".join(f"<p>{line}</p>\n" for line in text.split("\n"))
    page = (
        "<!DOCTYPE html><html><head><title>通知</title><style>p{margin:0}</style>"
        "<script>var x = '工作措施';</script></head><body>"
        f"{body}</body></html>"
    )
    parsed = read_plan(page.encode("utf-8"))
    assert not parsed.errors, [str(p) for p in parsed.errors]
    assert parsed_tree(parsed) == database_tree(plan_2014)


def html_plan(plan: Plan, headers: list[str]) -> str:
    """The 2014 plan as a bureau's web page builds it: navigation, the title and date, one
    table (a work-area row spanning every column, each measure's own cells spanning its
    rows), then the page's footer."""
    esc = html.escape
    rows = ["<tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr>"]
    for area in plan.work_areas.order_by("order"):
        rows.append(f'<tr><td colspan="7"><strong>{esc(str(area))}</strong></td></tr>')
        for m in area.measures.order_by("number"):
            actions = list(m.actions.order_by("number"))
            milestones = list(m.milestones.order_by("order"))
            height = max(len(actions), len(milestones), 1)
            offices = "、".join(o.name for o in m.responsible_offices.order_by("order"))
            for offset in range(height):
                cells = []
                if offset == 0:
                    span = f' rowspan="{height}"' if height > 1 else ""
                    cells += [
                        f"<td{span}>{esc(f'{m.number}.{m.title}')}</td>",
                        f"<td{span}>{esc(m.goal)}</td>",
                    ]
                action = actions[offset] if offset < len(actions) else None
                cells.append(
                    f"<td><p>{esc(f'{action.number}.{action.text}') if action else ''}</p></td>"
                )
                entry = milestones[offset] if offset < len(milestones) else None
                cells.append(f"<td>{esc(f'{entry.label},{entry.text}') if entry else ''}</td>")
                if offset == 0:
                    own = [m.executing_department.name, m.cooperating_text, offices]
                    cells += [f"<td{span}>{esc(text)}</td>" for text in own]
                rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>通知公告</title>"
        "<script>var menu = '<table><tr><td>x</td></tr></table>';</script></head><body>"
        "<div class='nav'><a href='/'>首页</a> | <a>政务公开</a> | <a>通知公告</a></div>"
        f"<h1>{esc(plan.title)}</h1><p>重庆市知识产权局</p><p>2014年4月15日</p>"
        f"<table border='1'>{''.join(rows)}</table>"
        "<p>上一篇:关于开展知识产权宣传周活动的通知</p><p>版权所有 重庆市知识产权局</p>"
        "</body></html>"
    )


@pytest.mark.parametrize(
    "headers",
    [
        ["工作措施", "工作目标", "具体措施", "进度安排", "执行部门", "配合单位", "责任处室"],
        ["工作措施", "工作目标", "具体措施", "时间安排", "实施单位", "配合单位", "牵头单位"],
    ],
    ids=["the document's headers", "other wording"],
)
def test_a_web_page_with_the_plan_as_a_table_reads_as_the_plan(plan_2014, headers):
    parsed = read_plan(html_plan(plan_2014, headers).encode("utf-8"))

    assert parsed.kind == "html"
    assert not parsed.errors, [str(p) for p in parsed.errors]
    assert (parsed.title, parsed.year) == (plan_2014.title, 2014)
    assert parsed.issued_on == datetime.date(2014, 4, 15)
    assert parsed_tree(parsed) == database_tree(plan_2014)


def test_a_table_cell_spanning_rows_and_columns_lays_out_as_words_merges():
    from plan.intake.readers import html_tables

    [grid], paragraphs = html_tables(
        "<p>标题</p><table><tr><td rowspan='2' colspan='2'>甲</td><td>乙</td></tr>"
        "<tr><td>丙</td></tr><tr><td>丁</td><td colspan='3'>戊</td></tr></table><p>尾</p>"
    )

    shown = [[(c.text, c.continued) for c in cells] for _, cells in grid.rows]
    assert shown[0] == [("甲", False), ("", False), ("乙", False)]
    assert shown[1] == [("", True), ("", True), ("丙", False)]
    assert shown[2] == [("丁", False), ("戊", False), ("", False), ("", False)]
    assert paragraphs == ["标题", "尾"] and grid.merged


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # 9.5 KB whose spans, laid out, were five million cells
        ("<tr>" + '<td rowspan="20000" colspan="64">x</td>' * 40 + "<tr>" * 2000, "超过64列"),
        ("<tr>" + "<td>x" * 20000, "超过64列"),
        ("<tr><td>x</td></tr>" * 20001, "超过20000行"),
        ("<tr>" + '<td rowspan="20000">x</td>' * 64 + "<tr></tr>" * 19999, "超过200000个"),
    ],
    ids=["far spans", "wide row", "many rows", "tall spans"],
)
def test_a_web_page_whose_tables_lay_out_too_large_is_refused(db, table, message):
    parsed = read_plan(f"<html><body><table>{table}</table></body></html>".encode())

    assert [p for p in parsed.problems if message in str(p)], [str(p) for p in parsed.problems]
    assert not parsed.measures


def test_a_word_table_wider_than_a_file_may_be_is_refused(db):
    document = docx.Document()
    document.add_paragraph("重庆市2015年专利事业发展战略推进计划")
    document.add_table(rows=2, cols=65)
    buffer = io.BytesIO()
    document.save(buffer)

    parsed = read_plan(buffer.getvalue())

    assert [str(p) for p in parsed.problems if "超过64列" in str(p)]
    assert not parsed.measures


def test_a_tables_caption_is_text_around_it(plan_2014):
    page = html_plan(
        plan_2014,
        ["工作措施", "工作目标", "具体措施", "进度安排", "执行部门", "配合单位", "责任处室"],
    )
    page = page.replace(f"<h1>{plan_2014.title}</h1>", "").replace(
        "<table border='1'>", f"<table border='1'><caption>{plan_2014.title}</caption>"
    )

    parsed = read_plan(page.encode("utf-8"))

    assert parsed.title == plan_2014.title and not parsed.errors


def test_a_csv_in_gbk_reads_like_the_workbook(db):
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(NATIONAL)
    from_csv = read_plan(buffer.getvalue().encode("gb18030"))
    from_xlsx = read_plan(xlsx(NATIONAL))
    assert from_csv.kind == "csv" and not from_csv.errors
    assert parsed_tree(from_csv) == parsed_tree(from_xlsx)


def test_the_format_is_told_by_content_not_name(plan_2014, tmp_path, capsys):
    path = tmp_path / "计划.xlsx"  # a Word file under a workbook's name
    path.write_bytes(word_plan(plan_2014, title="重庆市2016年专利事业发展战略推进计划"))
    call_command("import_plan", str(path), dry_run=True)
    out = capsys.readouterr().out
    assert "Read docx: 2016" in out and "Would create plan 2016" in out


def test_the_command_takes_the_admins_answers(db, tmp_path, capsys):
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    Department.objects.create(name="保护协调司", kind="office", order=2, aliases=["保护司"])
    rows = [list(row) for row in NATIONAL]
    rows[1][6] = "截止日期"
    path = tmp_path / "national.csv"
    path.write_bytes("\n".join(",".join(str(v) for v in row) for row in rows).encode("utf-8"))
    with pytest.raises(CommandError, match="未识别的列“截止日期”"):
        call_command("import_plan", str(path))
    call_command(
        "import_plan",
        str(path),
        column=["截止日期=schedule"],
        department=["相关部门=text", "审查业务管理部=保护协调司"],
        quarters=["待国务院部署=3-4"],
    )
    out = capsys.readouterr().out
    assert "column 截止日期 → schedule" in out and "Created plan 2015" in out
    plan = Plan.objects.get()
    waiting = Milestone.objects.get(measure__work_area__plan=plan, label="待国务院部署")
    assert waiting.quarters == range(3, 5)
    assert not Department.objects.filter(name="相关部门").exists()
    m2 = Measure.objects.get(number=2)
    assert [o.name for o in m2.responsible_offices.all()] == ["保护协调司"]
    with pytest.raises(CommandError, match="FIELD is one of"):
        call_command("import_plan", str(path), column=["截止日期=deadline"])


def test_revise_by_a_year_with_two_plans_asks_for_the_id(plan_2014, tmp_path):
    services_copy = Plan.objects.create(
        year=2014, title="另一份2014年计划", issuer=plan_2014.issuer
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(exported(plan_2014))
    with pytest.raises(CommandError, match=f"2 plans that year; give the id: .*{services_copy.pk}"):
        call_command("import_plan", str(path), revise="2014")


def test_an_export_made_in_english_reads_back(plan_2014):
    with translation.override("en"):
        data = exported(plan_2014)
    parsed = read_plan(data)
    assert not parsed.errors, [str(p) for p in parsed.errors]
    assert parsed_tree(parsed) == database_tree(plan_2014)


def test_a_revision_preview_writes_only_what_changed(plan_2014):
    data = exported(plan_2014)
    with CaptureQueriesContext(connection) as unchanged:
        result = intake(data, revise=plan_2014)
    assert result.ok and result.outcome.changes == []
    book = load_workbook(io.BytesIO(revised_2014(plan_2014)))
    with CaptureQueriesContext(connection) as changed:
        result = intake(save(book), revise=plan_2014)
    assert len(result.outcome.changes) == 2
    writes = [q["sql"] for q in changed if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(unchanged) <= 30, len(unchanged)
    assert len(changed) - len(unchanged) <= 2 * len(writes) <= 10


def test_a_revision_moves_renames_adds_and_removes_work_areas(db):
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    assert intake(xlsx(NATIONAL), dry_run=False).ok
    plan = Plan.objects.get()
    rows = [list(row) for row in NATIONAL]
    rows = [rows[0], rows[1], *rows[5:7], *rows[2:5]]  # area 二 first now
    rows[-1][1] = rows[-2][1] = rows[-3][1] = "三、健全运用体系"  # area 一 is gone …
    rows[2][1] = rows[3][1] = "二、强化知识产权保护"  # … and 二 renamed
    result = intake(xlsx(rows), revise=plan, dry_run=False)
    assert result.ok, result.problems
    changes = "\n".join(result.outcome.changes)
    assert "工作领域(二)名称改为“强化知识产权保护”" in changes
    assert "新增工作领域(三)健全运用体系" in changes
    assert "删除工作领域(一)完善知识产权法律制度" in changes
    assert "删除工作措施4.推进信用体系建设" in changes
    areas = [(a.numeral, a.title, a.order) for a in plan.work_areas.order_by("order")]
    assert areas == [("二", "强化知识产权保护", 1), ("三", "健全运用体系", 2)]
    assert Measure.objects.get(number=1).work_area.numeral == "三"


def test_a_word_file_with_two_plans_is_refused(plan_2014):
    first = docx.Document(io.BytesIO(word_plan(plan_2014)))
    second = docx.Document(
        io.BytesIO(word_plan(plan_2014, title="重庆市2015年专利事业发展战略推进计划"))
    )
    body = first.element.body
    for element in list(second.element.body):
        if element.tag.endswith("sectPr"):
            continue
        body.append(element)
    buffer = io.BytesIO()
    first.save(buffer)
    result = intake(buffer.getvalue())
    assert any("2份计划" in p for p in result.problems), result.problems
    assert Plan.objects.count() == 1


def test_a_word_plan_split_into_tables_with_its_notice_is_one_plan(plan_2014):
    document = docx.Document(io.BytesIO(word_plan(plan_2014)))
    body = document.element.body
    notice = document.add_paragraph(
        f"附件:《{plan_2014.title}》"
    )._p  # the notice names the plan again
    body.remove(notice)
    body.insert(0, notice)
    # the table continued as a second table after a page break, its header repeated
    table = document.tables[0]
    rows = table._tbl.tr_lst
    second = document.add_table(rows=1, cols=7)
    for cell, header in zip(second.rows[0].cells, table.rows[0].cells, strict=True):
        cell.text = header.text
    split = next(i for i, tr in enumerate(rows) if "(四)" in tr.xpath("string(.)"))
    for tr in rows[split:]:
        second._tbl.append(tr)
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = read_plan(buffer.getvalue())
    assert not parsed.errors, [str(p) for p in parsed.errors]
    assert parsed_tree(parsed) == database_tree(plan_2014)


def test_a_new_plan_for_a_year_that_has_one_points_to_revision(plan_2014):
    data = exported(plan_2014)
    book = load_workbook(io.BytesIO(data))
    book.worksheets[0]["A1"] = "重庆市2014年专利事业发展战略推进计划(修订)"
    result = intake(save(book))
    assert result.ok
    assert "2014年度已有计划“重庆市2014年专利事业发展战略推进计划”" in result.notes[0]
    assert "计划调整" in result.notes[0]


def test_an_old_word_file_is_named_as_such(db):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "WordDocument".encode("utf-16-le")
    assert intake(ole + b"\0" * 600).problems == [
        "这是旧版Word(.doc)文件,请在Word中另存为.docx格式后再上传。"
    ]


def test_a_word_zip_bomb_is_refused(db):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + " " * 50_000_000 + "</w:document>")
    result = intake(buffer.getvalue())
    assert len(result.problems) == 1 and "可能是恶意文件" in result.problems[0]


NATIONAL_ROWS = [
    ["2015年知识产权战略实施推进计划"],
    ["序号", "任务", "牵头单位", "参与单位", "完成时限"],
    ["一、完善知识产权法律制度"],
    ["(一)推动专利法修订"],
    [1, "配合做好专利法第四次修改审议工作", "条法司", "保护司", "年内"],
    [2, "研究制定专利法实施细则修改草案", "条法司", "", "2015年6月底前"],
    ["(二)完善配套规章"],
    [3, "修订专利审查指南", "审查业务管理部", "条法司", "下半年"],
    ["二、加强知识产权保护"],
    [None, "(三)开展执法专项行动"],  # a heading in the task column, 序号 blank
    [4, "组织护航专项行动", "保护司", "", "第二—四季度"],
    [5, "建立维权援助网络", "保护司", "", "持续推进"],
]


def test_a_national_plan_laid_out_in_rows_has_three_levels(db):
    """序号 / 任务 / 牵头单位 / 参与单位 / 完成时限, one row per task: 一、 rows are work areas,
    (一) rows measures, the numbered rows their actions with their own deadlines."""
    Department.objects.create(name="国家知识产权局", kind="bureau", order=1)
    result = intake(xlsx(NATIONAL_ROWS), dry_run=False)
    assert result.ok, result.problems
    plan = Plan.objects.get()
    assert database_tree(plan) == [
        (
            "一",
            "完善知识产权法律制度",
            [
                (
                    1,
                    "推动专利法修订",
                    "",
                    "国家知识产权局",
                    "保护司",
                    "条法司",
                    [
                        (1, "配合做好专利法第四次修改审议工作"),
                        (2, "研究制定专利法实施细则修改草案"),
                    ],
                    [
                        ("年内", "配合做好专利法第四次修改审议工作", 1, 4),
                        ("2015年6月底前", "研究制定专利法实施细则修改草案", 1, 2),
                    ],
                ),
                (
                    2,
                    "完善配套规章",
                    "",
                    "国家知识产权局",
                    "条法司",
                    "审查业务管理部",
                    [(1, "修订专利审查指南")],
                    [("下半年", "修订专利审查指南", 3, 4)],
                ),
            ],
        ),
        (
            "二",
            "加强知识产权保护",
            [
                (
                    3,
                    "开展执法专项行动",
                    "",
                    "国家知识产权局",
                    "",
                    "保护司",
                    [(1, "组织护航专项行动"), (2, "建立维权援助网络")],
                    [
                        ("第二—四季度", "组织护航专项行动", 2, 4),
                        ("持续推进", "建立维权援助网络", 1, 4),
                    ],
                ),
            ],
        ),
    ]


def test_a_task_row_above_every_heading_is_a_problem(db):
    rows = [
        NATIONAL_ROWS[0],
        NATIONAL_ROWS[1],
        [9, "没有上级的任务", "条法司", "", "年内"],
        *NATIONAL_ROWS[2:],
    ]
    result = intake(xlsx(rows))
    assert any("第3行B列:这一行不属于任何具体任务" in p for p in result.problems), result.problems


def test_a_retired_milestone_takes_no_new_report(plan_2014, staff):
    from django.core.exceptions import ValidationError

    from tasks import services

    milestone = Milestone.objects.get(measure__number=7, label="第二季度")
    milestone.retired_on = datetime.date(2014, 6, 20)
    milestone.save()
    with pytest.raises(ValidationError, match="计划调整中取消"):
        services.save_report(
            user=staff,
            milestone=milestone,
            quarter=2,
            base_version=0,
            status="in_progress",
            percent=10,
            done_text="开始。",
            problems_text="",
            submit=False,
        )
    assert not milestone.reports.exists()


def test_a_revision_warns_when_reports_fall_outside_the_new_quarters(plan_2014, reviewer):
    span = Milestone.objects.get(measure__number=3, label="第三--四季度")
    builders.report(span, 4, reviewer=reviewer)
    book = load_workbook(io.BytesIO(exported(plan_2014)))
    del book["进度节点"]
    for row in book.worksheets[0].iter_rows(min_row=5, max_col=4):
        if row[3].value and row[3].value.startswith("第三--四季度,贯彻落实"):
            row[3].value = row[3].value.replace("第三--四季度", "第三季度", 1)
    result = intake(save(book), revise=plan_2014)
    assert result.ok, result.problems
    assert any("已有第4季度的报告" in c for c in result.outcome.changes), result.outcome.changes
