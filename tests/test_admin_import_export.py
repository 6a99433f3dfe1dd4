"""Import and export in the admin (django-import-export, closed up in spreadsheets.importing;
the resources of departments, plan and tasks): round trips, every kind of bad file refused
with a Chinese message and nothing written, history for imported reports, admins only, and a
10,000-row import."""

import csv
import html
import io
import re
import zipfile

import pytest
import tablib
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from departments import roles
from departments.models import Department
from departments.resources import DepartmentResource
from plan.models import Action, Measure, Milestone, Plan, WorkArea
from plan.resources import ActionResource, MeasureResource, MilestoneResource
from spreadsheets import importing
from spreadsheets.reading import ENCRYPTED_STREAM, OLE_SIGNATURE, ZIP_SIGNATURE
from tasks.models import ProgressReport, ReportVersion
from tasks.resources import ProgressReportResource

from . import builders
from .conftest import make_user

XLSX, CSV = "0", "1"  # the format choices, in the order of spreadsheets.importing.FORMATS
REPORT_HEADERS = ProgressReportResource().headers()
ALL_TABLES = [
    Department,
    Measure,
    Measure.responsible_offices.through,
    Measure.cooperating_units.through,
    Action,
    Milestone,
    ProgressReport,
    ReportVersion,
]


# --- Helpers ----------------------------------------------------------------------------


def url(model, action: str) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}")


def database():
    """Every row of every table an import may touch, in full (links without their ids)."""
    tables = {}
    for table in ALL_TABLES:
        rows = table.objects.order_by("pk").values()
        if table._meta.auto_created:  # a many-to-many link table
            rows = sorted(
                tuple(sorted((k, v) for k, v in row.items() if k != "id")) for row in rows
            )
        tables[table.__name__] = list(rows)
    return tables


def xlsx(headers, *rows, sheet=None) -> bytes:
    workbook = Workbook()
    if sheet:
        sheet(workbook)
    worksheet = workbook.worksheets[0]
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers, *rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def report_row(**cells):
    """A report row for measure 7's 第四季度 milestone of the 2014 plan, with `cells` by header."""
    row = dict.fromkeys(REPORT_HEADERS, None)
    row.update(
        {
            "年度": 2014,
            "措施编号": 7,
            "时间": "第四季度",
            "季度": "第四季度",
            "进展状态": "进行中",
            "完成百分比": 60,
            "完成情况": "已完成指标体系初稿。",
            "审核状态": "草稿",
        }
    )
    row.update(cells)
    return [row[header] for header in REPORT_HEADERS]


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def export(client, model, file_format=XLSX) -> bytes:
    response = client.post(url(model, "export"), {"format": file_format, "resource": "0"})
    assert response.status_code == 200, page_text(response)[:2000]
    return response.content


def preview(client, model, content: bytes, name="data.xlsx", file_format=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if file_format is None:
        file_format = CSV if name.endswith(".csv") else XLSX
    return client.post(
        url(model, "import"),
        {"import_file": SimpleUploadedFile(name, content), "format": file_format, "resource": "0"},
    )


def confirm(client, model, response):
    form = response.context["confirm_form"]
    fields = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(url(model, "process_import"), {name: form.initial[name] for name in fields})


def import_file(client, model, content: bytes, name="data.xlsx"):
    """Uploads, checks the preview offers to confirm, confirms; returns the redirect."""
    response = preview(client, model, content, name)
    assert response.status_code == 200
    assert response.context.get("confirm_form"), page_text(response)[-3000:]
    done = confirm(client, model, response)
    assert done.status_code == 302 and done.url == url(model, "changelist"), page_text(done)
    return done


def refused(client, model, content: bytes, message: str, name="data.xlsx", file_format=None):
    """Uploads a file that must be refused with `message`; the database is unchanged."""
    before = database()
    response = preview(client, model, content, name, file_format)
    assert response.status_code == 200
    assert not response.context.get("confirm_form")
    assert message in page_text(response)
    assert database() == before
    return response


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- Round trips ------------------------------------------------------------------------


def restore_department():
    Department.objects.filter(name="专利管理处").update(order=99, kind="unit", generic=True)
    Department.objects.filter(name="各区县(自治县)知识产权局").update(aliases=[])


def restore_measure():
    measure = Measure.objects.get(number=7)
    measure.title, measure.goal = "改过的标题", "改过的目标"
    measure.save()
    measure.responsible_offices.set([Department.objects.get(name="法律事务处")])
    measure.cooperating_units.clear()


def restore_action():
    Action.objects.filter(measure__number=7).update(text="改过的具体措施")


def restore_milestone():
    Milestone.objects.filter(measure__number=3).update(
        label="改过", first_quarter=None, last_quarter=None, text="改过的进度安排"
    )


@pytest.mark.parametrize(
    ("model", "change"),
    [
        (Department, restore_department),
        (Measure, restore_measure),
        (Action, restore_action),
        (Milestone, restore_milestone),
    ],
    ids=["department", "measure", "action", "milestone"],
)
@pytest.mark.parametrize("file_format", [XLSX, CSV], ids=["xlsx", "csv"])
def test_an_export_imported_back_restores_the_plan(admin_client, model, change, file_format):
    before = database()
    content = export(admin_client, model, file_format)
    change()
    assert database() != before
    import_file(admin_client, model, content, "export.csv" if file_format == CSV else "export.xlsx")
    assert database() == before

    # The same file again changes nothing and says so.
    response = preview(
        admin_client, model, content, "again.csv" if file_format == CSV else "x.xlsx"
    )
    result = response.context["result"]
    assert result.totals["skip"] == model.objects.count()
    assert result.totals["new"] == result.totals["update"] == 0


REPORT_CONTENT = ("milestone_id", "quarter", "state", "status", "percent", "done_text")


def test_reports_round_trip_and_each_change_is_a_version(admin_client, admin_user, reviewer):
    first = Milestone.objects.get(measure__number=7, label="第四季度")
    spanning = Milestone.objects.get(measure__number=3, order=3)  # 第三--四季度
    builders.report(first, 4, percent=40, state="approved", reviewer=reviewer)
    builders.report(spanning, 3, percent=100, status="done", state="draft")
    builders.report(spanning, 4, percent=20, state="submitted", text="=1+1 不是公式")
    contents = list(ProgressReport.objects.order_by("pk").values(*REPORT_CONTENT))
    versions = dict(ProgressReport.objects.values_list("pk", "version"))

    content = export(admin_client, ProgressReport)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == REPORT_HEADERS
    assert sheet.title == "季度进展报告" and sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert [cell.value for cell in sheet[2]][:7] == [
        2014,
        3,
        "第三--四季度",
        3,
        "第三季度",
        "已完成",
        100,
    ]
    assert sheet["H3"].value == "'=1+1 不是公式"  # escaped, not a formula

    # The draft is garbled behind the app's back (its version unchanged): the file puts it
    # back, as a new version saved by the admin through the import; the submitted and the
    # approved reports are as the file says, so their rows are skipped.
    ProgressReport.objects.filter(state="draft").update(percent=0, done_text="被改乱了")
    import_file(admin_client, ProgressReport, content)
    assert list(ProgressReport.objects.order_by("pk").values(*REPORT_CONTENT)) == contents
    for report in ProgressReport.objects.all():
        latest = report.versions.order_by("version").last()
        if report.state != "draft":
            assert report.version == versions[report.pk] and latest.channel == "web"
            continue
        assert report.version == versions[report.pk] + 1
        assert report.updated_by == admin_user
        assert (latest.event, latest.channel, latest.by, latest.version) == (
            "saved",
            "admin",
            admin_user,
            report.version,
        )
        assert latest.percent == report.percent and latest.done_text == report.done_text
    assert LogEntry.objects.filter(user=admin_user).count() == 1

    # Importing the same file again writes nothing: no new versions.
    count = ReportVersion.objects.count()
    import_file(admin_client, ProgressReport, content)
    assert ReportVersion.objects.count() == count


def test_an_imported_report_is_new_with_its_history(admin_client, admin_user):
    import_file(
        admin_client,
        ProgressReport,
        xlsx(REPORT_HEADERS, report_row(审核状态="已提交", 完成百分比="80%")),
    )
    report = ProgressReport.objects.get()
    assert (report.quarter, report.percent, report.state, report.version) == (4, 80, "submitted", 1)
    assert report.first_submitted_at is not None
    (version,) = report.versions.all()
    assert (version.event, version.channel, version.by, version.version, version.state) == (
        "submitted",
        "admin",
        admin_user,
        1,
        "submitted",
    )


def test_a_gbk_csv_is_read(admin_client):
    content = csv_bytes(REPORT_HEADERS, report_row(), encoding="gbk")
    import_file(admin_client, ProgressReport, content, "进展.csv")
    assert ProgressReport.objects.get().done_text == "已完成指标体系初稿。"


def test_milestones_with_the_same_label_need_their_order(admin_client, plan_2014):
    measure = Measure.objects.get(number=7)
    Milestone.objects.create(
        measure=measure,
        order=9,
        label="第四季度",
        first_quarter=4,
        last_quarter=4,
        text="又一个第四季度",
    )
    refused(
        admin_client,
        ProgressReport,
        xlsx(REPORT_HEADERS, report_row()),
        "第2行C列(时间):编号为7的工作措施有2个时间为“第四季度”的进度节点,"
        "请在“节点排序”列填写它的排序。",
    )
    import_file(admin_client, ProgressReport, xlsx(REPORT_HEADERS, report_row(节点排序=9)))
    assert ProgressReport.objects.get().milestone.text == "又一个第四季度"


def test_departments_are_found_by_other_spellings(admin_client):
    content = export(admin_client, Measure)
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    sheet["F2"] = "有关区县(自治区)知识产权局"
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_file(admin_client, Measure, buffer.getvalue())
    measure = Measure.objects.get(number=sheet["C2"].value)
    assert measure.executing_department.name == "各区县(自治县)知识产权局"


def test_the_xlsx_writer_keeps_text_as_text_and_styles_the_header():
    """XLSX.export_data (XlsxWriter): text that looks like a link, a number or a formula is
    written as the text it is; numbers stay numbers; the header is bold, filled and frozen."""
    dataset = tablib.Dataset(
        ["http://example.com", "0012", "=1+1", 7, None, "中文"],
        headers=["链接", "编号", "公式", "数", "空", "文字"],
    )
    dataset.title = "表"
    sheet = load_workbook(io.BytesIO(importing.XLSX().export_data(dataset))).worksheets[0]

    row = sheet[2]
    assert [cell.value for cell in row] == ["http://example.com", "0012", "'=1+1", 7, None, "中文"]
    assert [cell.data_type for cell in row[:4]] == ["s", "s", "s", "n"]
    assert row[0].hyperlink is None
    assert sheet.title == "表" and sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb.endswith("E9EDF2")
    assert sheet.column_dimensions["A"].width >= len("http://example.com")


def test_exports_escape_formulas_and_imports_take_them_back(admin_client):
    texts = {
        "title": '=HYPERLINK("http://evil","点这里")',
        "goal": "+1 个目标",
        "cooperating_text": "@SUM(A1)",
    }
    Measure.objects.filter(number=7).update(**texts)
    Action.objects.filter(measure__number=7, number=1).update(text="-3 项措施")
    before = database()

    measure_xlsx = export(admin_client, Measure)
    cells = [c.value for row in load_workbook(io.BytesIO(measure_xlsx)).worksheets[0] for c in row]
    assert '\'=HYPERLINK("http://evil","点这里")' in cells
    assert "'+1 个目标" in cells and "'@SUM(A1)" in cells
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for c in cells)

    action_csv = export(admin_client, Action, CSV).decode("utf-8-sig")
    assert "'-3 项措施" in action_csv
    rows = list(csv.reader(io.StringIO(action_csv)))
    assert rows[0] == ActionResource().headers()
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    Measure.objects.filter(number=7).update(title="乱", goal="乱", cooperating_text="乱")
    Action.objects.filter(measure__number=7).update(text="乱")
    import_file(admin_client, Measure, measure_xlsx)
    import_file(admin_client, Action, action_csv.encode("utf-8"), "actions.csv")
    assert database() == before


# --- Bad files are refused whole --------------------------------------------------------


def test_wrong_headers_are_refused_naming_both_lists(admin_client):
    headers = [h for h in REPORT_HEADERS if h != "节点排序"] + ["备注"]
    refused(
        admin_client,
        ProgressReport,
        xlsx(headers, [2014, 7, "第四季度", "第四季度", "进行中", 60, "", "", "草稿", "", 0, "x"]),
        "表头与模板不符(缺少:节点排序;多出:备注)。应为:年度、措施编号、时间、节点排序、季度、"
        "进展状态、完成百分比、完成情况、存在问题及下一步、审核状态、审核意见、版本号;实际为:年度、",
    )
    swapped = list(REPORT_HEADERS)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    refused(admin_client, ProgressReport, xlsx(swapped, report_row()), "列的顺序不对")
    # Another model's file is refused the same way.
    refused(admin_client, Milestone, xlsx(REPORT_HEADERS, report_row()), "表头与模板不符")


GOOD = report_row()


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"完成百分比": "六十"}, "第3行G列(完成百分比):应为0到100之间的整数,不能是“六十”。"),
        ({"完成百分比": "1.5"}, "第3行G列(完成百分比):应为0到100之间的整数,不能是“1.5”。"),
        ({"完成百分比": 1.5}, "第3行G列(完成百分比):应为0到100之间的整数,不能是“1.5”。"),
        ({"完成百分比": 150}, "第3行G列(完成百分比):应为0到100之间的整数,不能是“150”。"),
        ({"完成百分比": None}, "第3行G列(完成百分比):不能为空。"),
        ({"季度": "第五季度"}, "第3行E列(季度):应为第一季度、第二季度、第三季度、第四季度之一,"),
        ({"进展状态": "差不多"}, "第3行F列(进展状态):应为未开始、进行中、已完成、滞后之一,"),
        ({"审核状态": "通过"}, "第3行J列(审核状态):应为草稿、已提交、已退回、已通过之一,"),
        ({"年度": 2015}, "第3行A列(年度):找不到2015年度的推进计划。"),
        ({"年度": "去年"}, "第3行A列(年度):应为年份,如2014,不能是“去年”。"),
        ({"措施编号": 99}, "第3行B列(措施编号):2014年度的推进计划中没有编号为99的工作措施。"),
        ({"时间": "第五季度"}, "第3行C列(时间):编号为7的工作措施没有时间为“第五季度”的进度节点"),
        ({"节点排序": 2}, "第3行C列(时间):编号为7的工作措施排序为2的进度节点时间是“第二季度”"),
        (
            {"进展状态": "已完成", "完成百分比": 80},
            "第3行G列(完成百分比):状态为“已完成”时,完成百分比须为100%。",
        ),
        ({"季度": "第一季度"}, "第3行E列(季度):该进度节点在这个季度没有安排。"),
        (
            {"审核状态": "已提交", "完成情况": ""},
            "第3行H列(完成情况):审核状态为“已提交”的报告须填写完成情况。",
        ),
    ],
    ids=lambda value: str(value)[:20] if isinstance(value, dict) else None,
)
def test_a_bad_cell_is_refused_by_row_and_column_and_nothing_is_written(
    admin_client, cells, message
):
    other = report_row(措施编号=8, 时间="第四季度")
    refused(admin_client, ProgressReport, xlsx(REPORT_HEADERS, other, report_row(**cells)), message)


def test_a_bad_cell_in_csv_is_refused_the_same_way(admin_client):
    content = csv_bytes(REPORT_HEADERS, report_row(), report_row(完成百分比="1.5", 季度="第二季度"))
    response = refused(
        admin_client,
        ProgressReport,
        content,
        "第3行G列(完成百分比):应为0到100之间的整数,不能是“1.5”。",
        "reports.csv",
    )
    assert "第3行:与第2行重复" not in page_text(response)


def test_an_unknown_office_is_refused(admin_client):
    headers = MeasureResource().headers()
    row = [2014, "一", 99, "新措施", "目标", "专利管理处", "专利管理处、不存在处", "", ""]
    refused(
        admin_client,
        Measure,
        xlsx(headers, row),
        "第2行G列(责任处室):找不到名为“不存在处”的部门(也不是哪个部门的其他写法)。",
    )
    refused(
        admin_client,
        Measure,
        xlsx(headers, [*row[:6], "", "", ""]),
        "第2行G列(责任处室):不能为空。",
    )
    refused(
        admin_client,
        Measure,
        xlsx(headers, [2014, "十一", *row[2:6], "专利管理处", "", ""]),
        "第2行B列(工作领域):2014年度的推进计划中没有序号为“十一”的工作领域。",
    )


def test_model_rules_are_checked(admin_client):
    headers = MilestoneResource().headers()
    refused(
        admin_client,
        Milestone,
        xlsx(headers, [2014, 7, 9, "第三--二季度", "第三季度", "第二季度", "倒过来"]),
        "第2行:起始季度不能晚于截止季度。",
    )
    refused(
        admin_client,
        Department,
        xlsx(DepartmentResource().headers(), ["新处室", "处室", "", "否", 1]),
        "第2行B列(类别):应为执行部门、责任处室、配合单位之一,不能是“处室”。",
    )
    refused(
        admin_client,
        Department,
        xlsx(DepartmentResource().headers(), ["长" * 101, "责任处室", "", "否", 1]),
        "第2行A列(名称):",
    )


def test_duplicate_rows_are_refused_naming_both(admin_client):
    refused(
        admin_client,
        ProgressReport,
        xlsx(REPORT_HEADERS, GOOD, report_row(措施编号=8), report_row(节点排序=4, 完成百分比=70)),
        "第4行:与第2行重复(年度、措施编号、时间、节点排序、季度相同),同一对象只能有一行。",
    )
    headers = ActionResource().headers()
    refused(
        admin_client,
        Action,
        csv_bytes(headers, [2014, 7, 1, "甲"], [2014, 7, 1, "乙"]),
        "第3行:与第2行重复(年度、措施编号、编号相同)",
        "actions.csv",
    )


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 30_000_000)
    return buffer.getvalue()


def merged(workbook):
    workbook.worksheets[0].merge_cells("H3:I3")


def two_sheets(workbook):
    workbook.create_sheet("说明")


@pytest.mark.parametrize(
    ("content", "name", "file_format", "message"),
    [
        (b"just some text", "data.xlsx", XLSX, "文件不是xlsx格式的Excel文件,请上传.xlsx文件。"),
        (OLE_SIGNATURE + b"\0" * 600, "old.xlsx", XLSX, "这是旧版Excel(.xls)文件"),
        (
            OLE_SIGNATURE + b"\0" * 600 + ENCRYPTED_STREAM + b"\0" * 100,
            "secret.xlsx",
            XLSX,
            "文件设置了密码保护,请取消密码后再上传。",
        ),
        (ZIP_SIGNATURE + b"\0" * 600, "broken.xlsx", XLSX, "文件已损坏或不是有效的xlsx文件"),
        ("bomb", "bomb.xlsx", XLSX, "可能是恶意文件,已拒绝"),
        (
            xlsx(REPORT_HEADERS, report_row(完成百分比="=50+10")),
            "formula.xlsx",
            XLSX,
            "第2行G列:单元格是公式",
        ),
        (
            xlsx(REPORT_HEADERS, GOOD),
            "x.xlsx",
            CSV,
            "无法识别文件编码,请另存为UTF-8编码的CSV文件。",
        ),
        (xlsx(REPORT_HEADERS), "empty.xlsx", XLSX, "表格中没有数据行。"),
        (xlsx([], [None]), "blank.xlsx", XLSX, "第一行应为表头,但它是空的。"),
        (
            xlsx(REPORT_HEADERS, GOOD, [None] * 3, report_row(措施编号=8)),
            "gap.xlsx",
            XLSX,
            "第3行:是空行,请删除表格中间的空行。",
        ),
        (
            xlsx(REPORT_HEADERS, [*GOOD, None, "备注"]),
            "stray.xlsx",
            XLSX,
            "第2行N列:这一列没有表头",
        ),
        (
            xlsx(REPORT_HEADERS, GOOD, report_row(措施编号=8), sheet=two_sheets),
            "sheets.xlsx",
            XLSX,
            "文件应只有一个工作表,实际有2个",
        ),
        (b"", "nothing.csv", CSV, "文件是空的。"),
    ],
    ids=[
        "not-a-zip",
        "old-xls",
        "password",
        "corrupt-zip",
        "zip-bomb",
        "formula",
        "xlsx-as-csv",
        "no-rows",
        "no-header",
        "blank-row",
        "stray-cell",
        "two-sheets",
        "empty-file",
    ],
)
def test_a_broken_upload_gets_a_message_not_a_500(
    admin_client, content, name, file_format, message
):
    content = zip_bomb() if content == "bomb" else content
    refused(admin_client, ProgressReport, content, message, name, file_format)


def test_merged_cells_are_refused(admin_client):
    workbook_bytes = xlsx(REPORT_HEADERS, GOOD, report_row(措施编号=8), sheet=None)
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    merged(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    refused(
        admin_client, ProgressReport, buffer.getvalue(), "表格中有合并单元格,请取消合并后再上传。"
    )


def test_a_file_over_the_limit_is_refused_before_it_is_read(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 1000
    refused(
        admin_client, ProgressReport, b"x" * 1001, "文件大小为1001\xa0字节,超过1000\xa0字节的上限。"
    )


def test_a_file_that_no_longer_imports_at_confirm_writes_nothing(admin_client):
    response = preview(
        admin_client, ProgressReport, xlsx(REPORT_HEADERS, GOOD, report_row(措施编号=8))
    )
    assert response.context["confirm_form"]
    Milestone.objects.filter(measure__number=8, label="第四季度").update(label="第四季度末")
    before = database()
    done = confirm(admin_client, ProgressReport, response)
    assert done.status_code == 302 and done.url == url(ProgressReport, "import")
    assert database() == before
    shown = [str(m) for m in done.wsgi_request._messages]
    assert any("导入未完成,数据未作任何修改" in m and "第3行C列(时间)" in m for m in shown)


# --- Admins only ------------------------------------------------------------------------


def test_only_admins_see_and_reach_import_and_export(client, leader, admin_user):
    leader.is_staff = True
    leader.save()
    leader.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(leader)
    for model in (Department, Measure, Action, Milestone, ProgressReport):
        changelist = client.get(url(model, "changelist"))
        assert changelist.status_code == 200
        assert url(model, "import") not in changelist.content.decode()
        assert url(model, "export") not in changelist.content.decode()
        assert client.get(url(model, "import")).status_code == 403
        assert client.post(url(model, "import"), {"format": XLSX}).status_code == 403
        assert client.get(url(model, "export")).status_code == 403
        assert client.post(url(model, "export"), {"format": XLSX}).status_code == 403
        assert client.post(url(model, "process_import"), {"format": XLSX}).status_code == 403

    client.force_login(admin_user)
    changelist = client.get(url(ProgressReport, "changelist")).content.decode()
    assert (
        url(ProgressReport, "import") in changelist and url(ProgressReport, "export") in changelist
    )


def test_the_admin_group_may_import_without_being_superuser(client, plan_2014):
    clerk = make_user("admin2", roles.ADMIN)
    client.force_login(clerk)
    assert client.get(url(ProgressReport, "import")).status_code == 200
    response = preview(client, ProgressReport, xlsx(REPORT_HEADERS, GOOD))
    assert response.context["confirm_form"]


def test_resource_needs_a_user_for_reports(plan_2014):
    from spreadsheets.importing import XLSX as XLSXFormat

    dataset = XLSXFormat().create_dataset(xlsx(REPORT_HEADERS, GOOD))
    result = ProgressReportResource().import_data(dataset, dry_run=False)
    assert result.has_errors()
    assert "导入进展报告须有操作人。" in str(result.error_rows[0].errors[0].error)
    assert not ProgressReport.objects.exists()


# --- A large file -----------------------------------------------------------------------

MEASURES, MILESTONES_EACH = 625, 4  # 2,500 milestones spanning the year, 4 quarters each


@pytest.fixture
def big_plan(plan_2014):
    office = Department.objects.get(name="专利管理处")
    plan = Plan.objects.create(year=2030, title="大计划", issuer=office)
    area = WorkArea.objects.create(plan=plan, numeral="一", title="领域", order=1)
    measures = Measure.objects.bulk_create(
        Measure(
            work_area=area, number=n, title=f"措施{n}", goal="目标", executing_department=office
        )
        for n in range(1, MEASURES + 1)
    )
    Milestone.objects.bulk_create(
        Milestone(measure=m, order=o, label="全年", first_quarter=1, last_quarter=4, text="安排")
        for m in measures
        for o in range(1, MILESTONES_EACH + 1)
    )
    return plan


def big_file() -> bytes:
    quarters = ["第一季度", "第二季度", "第三季度", "第四季度"]
    rows = (
        [
            2030,
            n,
            "全年",
            o,
            quarter,
            "进行中",
            (n + o) % 100,
            f"措施{n}第{o}项",
            "",
            "草稿",
            "",
            None,
        ]
        for n in range(1, MEASURES + 1)
        for o in range(1, MILESTONES_EACH + 1)
        for quarter in quarters
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(REPORT_HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.slow
def test_ten_thousand_reports_import_in_few_queries(
    big_plan, admin_user, django_assert_max_num_queries
):
    """10,000 rows through the same resource the admin uses, in a bounded number of queries
    (their speed is measured in make bench, never here)."""
    from spreadsheets.importing import XLSX as XLSXFormat

    content = big_file()
    dataset = XLSXFormat().create_dataset(content)
    # Bulk writes: the query count grows with rows / batch size (SQLite takes ~70 rows a
    # statement, PostgreSQL 1,000), not with rows.
    with django_assert_max_num_queries(400):
        result = ProgressReportResource().import_data(dataset, dry_run=False, user=admin_user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 10_000
    assert ProgressReport.objects.count() == 10_000
    assert (
        ReportVersion.objects.filter(
            event="saved", channel="admin", by=admin_user, version=1
        ).count()
        == 10_000
    )

    # Again with every percent changed: 10,000 updates, version 2 each.
    content = content  # same rows, but the percent differs below
    dataset = XLSXFormat().create_dataset(content)
    percent = REPORT_HEADERS.index("完成百分比")
    version = REPORT_HEADERS.index("版本号")
    for index, row in enumerate(list(dataset)):
        values = list(row)
        values[percent] = (values[percent] + 1) % 100
        values[version] = 1  # as exported after the first import
        dataset[index] = values
    with django_assert_max_num_queries(400):
        result = ProgressReportResource().import_data(dataset, dry_run=False, user=admin_user)
    assert result.totals["update"] == 10_000, result.invalid_rows[:1]
    assert ReportVersion.objects.filter(version=2).count() == 10_000


@pytest.mark.slow
def test_ten_thousand_reports_through_the_admin(admin_client, big_plan):
    """Preview and confirm of 10,000 rows (their speed is measured in make bench)."""
    response = preview(admin_client, ProgressReport, big_file(), "big.xlsx")
    assert "共10000行:新增10000行" in page_text(response)
    confirm(admin_client, ProgressReport, response)
    assert ProgressReport.objects.count() == 10_000
