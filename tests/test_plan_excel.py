"""The plan in its own table layout: export_plan, import_plan, the round trip, copying a plan."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from departments.models import Department
from plan.intake.labels import label_quarters
from plan.models import Action, Measure, Milestone, Plan, WorkArea
from tasks.models import ProgressReport

from . import builders


def export(tmp_path, name="plan.xlsx", year=2014, *extra):
    path = tmp_path / name
    call_command("export_plan", str(year), *extra, output=str(path))
    return path


def plan_cells(path):
    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(max_col=7)]
    return values, sorted(str(r) for r in sheet.merged_cells.ranges)


def database_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Plan, WorkArea, Measure, Action, Milestone, Department)
    }


def empty_database():
    ProgressReport.objects.all().delete()
    Plan.objects.all().delete()
    Department.objects.all().delete()


@pytest.mark.parametrize(
    ("label", "quarters"),
    [
        ("第一季度", (1, 1)),
        ("第二--四季度", (2, 4)),
        ("第三--四季度", (3, 4)),
        ("第一--三季度", (1, 3)),
        ("第一阶段", (None, None)),
    ],
)
def test_schedule_labels_give_their_quarters(label, quarters):
    assert label_quarters(label) == quarters


def test_export_lays_the_plan_out_like_the_document(plan_2014, tmp_path):
    sheet = load_workbook(export(tmp_path)).active
    assert sheet["A1"].value == "重庆市2014年专利事业发展战略推进计划"
    assert [sheet.cell(row=3, column=c).value for c in range(1, 8)] == [
        "工作措施",
        "工作目标",
        "具体措施",
        "进度安排",
        "执行部门",
        "配合单位",
        "责任处室",
    ]
    assert sheet["A5"].value == "(一)完善专利法规政策"
    assert sheet["A6"].value == "2.加强专利政策体系顶层设计"
    assert sheet["C6"].value.startswith("1.根据国家知识产权局")
    assert sheet["D6"].value.startswith("第一季度,研究国家知识产权局")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A6:A9" in merged  # measure 2: 4 actions, 4 schedule entries
    assert "A5:H5" in merged  # the work-area row spans the table (the plan alone: + 备注)
    assert sheet["H3"].value == "备注"
    assert sheet.freeze_panes == "A5"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A3)
    assert sheet.print_title_rows.replace("$", "") == "3:4"
    assert sheet["C6"].alignment.wrap_text


def test_export_shows_latest_approved_progress_and_escapes_formulas(plan_2014, reviewer, tmp_path):
    milestone = Milestone.objects.get(measure__number=2, label="第一季度")
    builders.report(
        milestone, 1, percent=100, status="done", reviewer=reviewer, text="=1+2 汇编完成"
    )
    other = Milestone.objects.get(measure__number=2, label="第二季度")
    builders.report(other, 2, percent=30, state="submitted", text="未审核的内容")
    sheet = load_workbook(export(tmp_path, "q1.xlsx", 2014, "--quarter", "1")).active
    assert sheet["H3"].value == "第一季度进展(已审核)"
    assert [sheet.cell(row=4, column=c).value for c in (8, 9, 10)] == ["状态", "完成%", "完成情况"]
    assert [sheet.cell(row=6, column=c).value for c in (8, 9, 10)] == [
        "已完成",
        100,
        "'=1+2 汇编完成",
    ]
    assert sheet.max_column == 10  # one quarter's progress only
    sheet = load_workbook(export(tmp_path, "q2.xlsx", 2014, "--quarter", "2")).active
    assert all(cell.value is None for cell in sheet[7][7:10])  # submitted, not approved
    assert sheet.cell(row=6, column=8).value is None  # the first quarter's report is not shown


@pytest.mark.parametrize("extra", [(), ("--quarter", "3")])
def test_exported_plan_prints_at_8_points_or_more_with_titles_and_page_numbers(
    plan_2014, tmp_path, extra
):
    sheet = load_workbook(export(tmp_path, "print.xlsx", 2014, *extra)).active
    setup = sheet.page_setup
    assert setup.orientation == "landscape"
    assert int(setup.paperSize) == int(sheet.PAPERSIZE_A3)
    assert not sheet.sheet_properties.pageSetUpPr.fitToPage  # a fixed scale, not shrink-to-fit
    scale = int(setup.scale)
    sizes = {
        cell.font.sz
        for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row)
        for cell in row
        if cell.value is not None
    }
    assert min(sizes) * scale / 100 >= 8  # the smallest printed text: 8 pt or more
    assert sheet.print_title_rows.replace("$", "") == "3:4"  # headers on every page
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    # The columns fit the page's width at that scale: A3 landscape less 0.4" margins.
    width_points = sum(
        (sheet.column_dimensions[letter].width * 7 + 5) * 0.75
        for letter in "ABCDEFGHIJ"[: sheet.max_column]
    )
    assert width_points * scale / 100 <= (420 / 25.4 - 0.8) * 72


def test_no_measure_is_split_over_two_printed_pages(plan_2014, tmp_path):
    """A page break falls before a measure that would not fit on the rest of a page, so a
    measure's title is on the page where its rows are."""
    sheet = load_workbook(export(tmp_path)).active
    breaks = [b.id for b in sheet.row_breaks.brk]
    assert breaks  # 61 milestones do not fit on one A3 page
    merged = [r for r in sheet.merged_cells.ranges if r.min_col == 1 and r.max_col == 1]
    for rng in merged:  # a measure's merged title cell spans rows min_row..max_row
        assert not any(rng.min_row <= b < rng.max_row for b in breaks), rng


def test_round_trip_gives_the_same_plan_cells(plan_2014, tmp_path):
    first = export(tmp_path, "first.xlsx")
    empty_database()
    call_command("import_plan", str(first))
    assert Measure.objects.count() == 18
    assert Milestone.objects.unscheduled().count() == 3
    assert plan_cells(export(tmp_path, "second.xlsx")) == plan_cells(first)


def test_import_matches_existing_departments_and_lists_new_ones(plan_2014, tmp_path, capsys):
    path = export(tmp_path)
    Plan.objects.all().delete()
    Department.objects.filter(name="保护协调处").delete()
    departments = Department.objects.count()
    call_command("import_plan", str(path))
    out = capsys.readouterr().out
    assert "Created department 保护协调处 (office)" in out
    assert Department.objects.count() == departments + 1
    measure_19 = Measure.objects.get(number=19)
    assert [d.name for d in measure_19.cooperating_units.all()] == [
        "各区县(自治县)知识产权局",
        "咨询辅导机构",
    ]  # 有关区县(自治区)知识产权局 is an alias of the district offices


def test_dry_run_says_what_it_would_create_and_writes_nothing(plan_2014, tmp_path, capsys):
    path = export(tmp_path)
    empty_database()
    call_command("import_plan", str(path), dry_run=True)
    assert "Would create plan 2014" in capsys.readouterr().out
    assert set(database_counts().values()) == {0}


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda s: s.cell(row=3, column=2, value="说明"), "第3行B列:未识别的列“说明”"),
        (lambda s: s.cell(row=6, column=1, value="加强专利政策"), "第6行A列:工作措施应以编号开头"),
        (lambda s: s.cell(row=7, column=3, value="根据调研情况"), "第7行C列:具体措施应以编号开头"),
        (lambda s: s.cell(row=7, column=4, value="二季度调研"), "第7行D列:进度安排应以时间开头"),
        (lambda s: setattr(s["B6"], "value", None), "第6行B列:工作目标不能为空"),
        (lambda s: s.cell(row=1, column=1, value="附件"), "找不到计划标题"),
        (lambda s: s.cell(row=10, column=1, value="2.重复的编号"), "工作措施编号2重复"),
    ],
)
def test_a_broken_plan_file_is_refused_naming_the_cell(plan_2014, tmp_path, break_it, message):
    path = export(tmp_path)
    book = load_workbook(path)
    break_it(book.active)
    book.save(path)
    empty_database()
    with pytest.raises(CommandError, match=message):
        call_command("import_plan", str(path))
    assert set(database_counts().values()) == {0}


def test_an_existing_plan_is_not_imported_twice(plan_2014, tmp_path):
    path = export(tmp_path)
    before = database_counts()
    with pytest.raises(CommandError, match="已存在"):
        call_command("import_plan", str(path))
    assert database_counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just text", "不是可识别的推进计划"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版Excel"),
        (b"PK\x03\x04broken", "已损坏"),
    ],
)
def test_a_file_that_is_not_a_plan_workbook_is_refused(db, tmp_path, content, message):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_plan", str(path))
    assert Plan.objects.count() == 0


def test_copy_into_a_new_year_takes_the_structure_without_progress(
    client, admin_user, reviewer, plan_2014
):
    builders.report(Milestone.objects.first(), 1, reviewer=reviewer)
    client.force_login(admin_user)
    url = reverse("admin:plan_plan_changelist")
    form = client.post(url, {"action": "copy_to_new_year", "_selected_action": [plan_2014.pk]})
    assert "重庆市2015年专利事业发展战略推进计划" in form.content.decode()
    response = client.post(
        url,
        {
            "action": "copy_to_new_year",
            "_selected_action": [plan_2014.pk],
            "year": 2015,
            "title": "重庆市2015年专利事业发展战略推进计划",
        },
    )
    assert response.status_code == 302
    copy = Plan.objects.get(year=2015)
    assert Measure.objects.filter(work_area__plan=copy).count() == 18
    assert Milestone.objects.filter(measure__work_area__plan=copy).count() == 61
    assert Action.objects.filter(measure__work_area__plan=copy).count() == 65
    assert ProgressReport.objects.filter(milestone__measure__work_area__plan=copy).count() == 0
    m16 = Measure.objects.get(work_area__plan=copy, number=16)
    assert [o.name for o in m16.responsible_offices.all()] == ["规划发展处", "相关处室"]


def test_plan_download_is_for_leaders_reviewers_and_admins(client, plan_2014, staff, leader):
    url = reverse("plan-xlsx", args=[plan_2014.pk])
    client.force_login(staff)
    assert client.get(url).status_code == 403
    client.force_login(leader)
    response = client.get(url)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == plan_2014.title
