"""Offline progress templates (tasks.offline): the xlsx an office downloads for a quarter, fills
in Excel and uploads, each row becoming or updating the office's draft report.

In the 4th quarter of 2014 专利管理处 (the `staff` persona) has four milestones, in the plan's
order: measure 3's 第三--四季度 (row 2 of the file), measure 7's 第四季度 (row 3), measure 8's
第四季度 (row 4) and measure 18's 第四季度 (row 5)."""

from io import BytesIO
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from departments import roles
from plan.models import Milestone
from spreadsheets.reading import read_table
from tasks.models import ProgressReport, ReportVersion

from .conftest import make_user
from .test_report_rules import milestone, submitted, write

HEADERS = [
    "节点编号",
    "工作措施",
    "时间",
    "进度安排",
    "审核状态",
    "进展状态",
    "完成百分比",
    "完成情况",
    "存在问题及下一步",
    "审核意见",
    "版本号",
]
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def q4_keys(office) -> list[int]:
    return list(
        Milestone.objects.scheduled_in(4)
        .filter(measure__responsible_offices=office)
        .order_by("measure__number", "order")
        .values_list("pk", flat=True)
    )


def download(client, plan, quarter: int = 4):
    response = client.get(reverse("offline-download"), {"plan": plan.pk, "quarter": quarter})
    assert response.status_code == 200, response.content[:300]
    return response


def template(client, plan, quarter: int = 4) -> Workbook:
    return load_workbook(BytesIO(download(client, plan, quarter).content))


def as_bytes(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, plan, content, *, quarter: int = 4, name: str = "填报表.xlsx"):
    if isinstance(content, Workbook):
        content = as_bytes(content)
    file = BytesIO(content)
    file.name = name
    url = f"{reverse('offline-upload')}?plan={plan.pk}&quarter={quarter}"
    return client.post(url, {"file": file})


def row_of(sheet, key: int) -> int:
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == key:
            return cells[0].row
    raise AssertionError(f"milestone {key} is not in the file")


def fill(sheet, key: int, status="进行中", percent=50, done="已完成初稿。", problems=""):
    row = row_of(sheet, key)
    for column, value in zip("FGHI", (status, percent, done, problems), strict=True):
        sheet[f"{column}{row}"] = value
    return row


def history() -> tuple[int, int]:
    return ProgressReport.objects.count(), ReportVersion.objects.count()


def refused(response, *fragments) -> str:
    """Asserts the upload page came back listing problems, and returns its text."""
    assert response.status_code == 200
    text = response.content.decode()
    assert "文件未导入,没有保存任何内容" in text
    for fragment in fragments:
        assert fragment in text, fragment
    return text


@pytest.fixture
def office(client, staff):
    client.force_login(staff)
    return client


# --- Download ---------------------------------------------------------------------------


def test_download_lists_the_offices_milestones_of_the_quarter(office, plan_2014, patent_office):
    response = download(office, plan_2014)
    disposition = response["Content-Disposition"]
    assert quote("2014年第四季度进展填报表.xlsx") in disposition
    assert 'filename="progress-2014-q4.xlsx"' in disposition
    book = load_workbook(BytesIO(response.content))
    assert len(book.sheetnames) == 1
    sheet = book.active
    assert sheet.title == "2014年第四季度"
    assert [cell.value for cell in sheet[1]] == HEADERS
    keys = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert keys == q4_keys(patent_office) and len(keys) == 4
    first = sheet[2]
    target = Milestone.objects.get(pk=keys[0])
    assert [cell.value for cell in first[:5]] == [
        target.pk,
        "3.推动制定专利纲领性文件",
        "第三--四季度",
        target.text,
        "未填报",
    ]
    assert all(cell.value is None for cell in first[5:10])  # nothing made up for the office
    assert first[10].value == 0  # 版本号: no report yet
    assert "2014年第四季度" in book.properties.title
    assert book.properties.keywords == f"plantracker-offline plan={plan_2014.pk} quarter=4"
    # Our own file passes the careful reader, and row 1 is the header it checks.
    assert [number for number, _values in read_table(response.content, HEADERS).rows] == [
        2,
        3,
        4,
        5,
    ]


def test_download_protects_the_plan_and_validates_the_report_columns(office, plan_2014):
    sheet = template(office, plan_2014).active
    assert sheet.protection.sheet is True
    assert not sheet.protection.password
    assert sheet.freeze_panes == "A2"
    for row in range(2, 6):
        locked = {cell.column_letter: cell.protection.locked for cell in sheet[row]}
        assert locked == {
            "A": True,
            "B": True,
            "C": True,
            "D": True,
            "E": True,
            "F": False,
            "G": False,
            "H": False,
            "I": False,
            "J": True,
            "K": True,
        }
        assert sheet[f"D{row}"].alignment.wrap_text
        assert sheet.row_dimensions[row].height >= 30
    assert sheet["A1"].protection.locked and sheet["A1"].comment is not None
    assert sheet.column_dimensions["D"].width >= 30
    assert sheet.column_dimensions["H"].width >= 40
    validations = {str(item.sqref): item for item in sheet.data_validations.dataValidation}
    status, percent = validations["F2:F5"], validations["G2:G5"]
    assert status.type == "list" and status.formula1 == '"未开始,进行中,已完成,滞后"'
    assert status.showErrorMessage
    assert (percent.type, percent.operator, percent.formula1, percent.formula2) == (
        "whole",
        "between",
        "0",
        "100",
    )


def test_download_prefills_reports_escapes_text_and_locks_finished_ones(office, staff, plan_2014):
    draft = write(
        staff,
        milestone(7, 4),
        4,
        status="behind",
        percent=30,
        done_text='=HYPERLINK("http://evil")',
        problems_text="+86 023 6666",
    )
    submitted(staff, milestone(8, 4), 4)
    sheet = template(office, plan_2014).active
    row = row_of(sheet, draft.milestone_id)
    assert [sheet.cell(row, column).value for column in range(5, 10)] == [
        "草稿",
        "滞后",
        30,
        '\'=HYPERLINK("http://evil")',
        "'+86 023 6666",
    ]
    assert sheet[f"H{row}"].data_type == "s"
    done = row_of(sheet, milestone(8, 4).pk)
    assert sheet[f"E{done}"].value == "已提交"
    assert all(cell.protection.locked for cell in sheet[done])


def test_each_office_gets_only_its_own_milestones(client, other_staff, plan_2014, legal_office):
    client.force_login(other_staff)
    sheet = template(client, plan_2014).active
    keys = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert keys == q4_keys(legal_office)
    assert not set(keys) & {milestone(7, 4).pk, milestone(8, 4).pk}


# --- Upload: the round trip -------------------------------------------------------------


def test_round_trip_saves_filled_rows_as_drafts(office, staff, plan_2014, patent_office):
    existing = write(staff, milestone(8, 4), 4, percent=20, done_text="已起草政策。")
    book = template(office, plan_2014)
    sheet = book.active
    # A text that starts with "=" is written as the download writes it, after an apostrophe.
    fill(sheet, milestone(7, 4).pk, "进行中", 60, "'=已完成指标体系初稿", "需要行业协会配合。")
    fill(sheet, existing.milestone_id, "已完成", 100, "政策已兑现。", "")
    response = upload(office, plan_2014, book)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('my-work')}?plan={plan_2014.pk}&quarter=4"
    page = office.get(response["Location"])
    assert "离线填报表已导入:新建草稿1份,更新草稿1份。另有2行未填写或没有改动" in (
        page.content.decode()
    )
    created = ProgressReport.objects.get(milestone=milestone(7, 4), quarter=4)
    assert (created.state, created.status, created.percent) == ("draft", "in_progress", 60)
    assert created.done_text == "=已完成指标体系初稿"  # the apostrophe safe() adds is undone
    assert created.updated_by == staff
    assert list(created.versions.values_list("event", flat=True)) == ["saved"]
    existing.refresh_from_db()
    assert (existing.status, existing.percent, existing.version) == ("done", 100, 2)
    assert list(existing.versions.values_list("event", flat=True)) == ["saved", "saved"]
    # The rows left blank made no report.
    assert ProgressReport.objects.count() == 2
    # Downloading again shows what was saved; uploading it unchanged writes nothing.
    again = template(office, plan_2014)
    assert again.active[f"H{row_of(again.active, created.milestone_id)}"].value == (
        "'=已完成指标体系初稿"
    )
    before = history()
    response = upload(office, plan_2014, again)
    assert response.status_code == 302
    assert history() == before
    assert "没有需要保存的改动" in office.get(response["Location"]).content.decode()


def test_returned_report_is_updated_and_stays_returned(office, staff, reviewer, plan_2014):
    from .builders import report

    returned = report(milestone(7, 4), 4, state="returned", reviewer=reviewer)
    book = template(office, plan_2014)
    assert book.active[f"J{row_of(book.active, returned.milestone_id)}"].value == "请补充。"
    fill(book.active, returned.milestone_id, "进行中", 70, "已补充材料。")
    assert upload(office, plan_2014, book).status_code == 302
    returned.refresh_from_db()
    assert (returned.state, returned.percent, returned.done_text) == (
        "returned",
        70,
        "已补充材料。",
    )
    assert returned.versions.last().event == "saved"


def test_submitted_report_row_left_as_downloaded_is_ignored(office, staff, plan_2014):
    done = submitted(staff, milestone(8, 4), 4)
    book = template(office, plan_2014)
    fill(book.active, milestone(7, 4).pk)
    before = ReportVersion.objects.filter(report=done).count()
    assert upload(office, plan_2014, book).status_code == 302
    assert ReportVersion.objects.filter(report=done).count() == before
    assert ProgressReport.objects.get(milestone=milestone(7, 4), quarter=4).state == "draft"


# --- Upload: wrong files and rows write nothing -----------------------------------------


def wrong_header(book, _staff):
    book.active["H1"] = "完成情况说明"


def extra_sheet(book, _staff):
    book.create_sheet("说明")["A1"] = "请填写黄色单元格"


def other_office(book, _staff):
    legal = Milestone.objects.scheduled_in(4).filter(
        measure__responsible_offices__name="法律事务处"
    )
    book.active["A3"] = legal.first().pk


def unknown(book, _staff):
    book.active["A3"] = 99999


def not_this_quarter(book, _staff):
    book.active["A3"] = milestone(7, 1).pk


def duplicate(book, _staff):
    sheet = book.active
    sheet["A4"] = sheet["A3"].value
    fill(sheet, sheet["A3"].value)
    sheet["F4"], sheet["G4"], sheet["H4"] = "进行中", 40, "重复的一行。"


def percent_150(book, _staff):
    fill(book.active, book.active["A3"].value, "进行中", 150)


def done_with_80(book, _staff):
    fill(book.active, book.active["A3"].value, "已完成", 80)


def formula(book, _staff):
    fill(book.active, book.active["A3"].value)
    book.active["H3"] = "=1+1"


def bad_status(book, _staff):
    fill(book.active, book.active["A3"].value, "差不多了", 50)


def blank_key(book, _staff):
    fill(book.active, book.active["A3"].value)
    book.active["A3"] = None


def submitted_report(book, staff):
    """Downloaded after it was submitted (the version matches), then typed over anyway."""
    report = submitted(staff, milestone(7, 4), 4)
    row = fill(book.active, milestone(7, 4).pk, "进行中", 90, "改一改已提交的报告。")
    book.active[f"K{row}"] = report.version


BAD_ROWS = {
    "wrong header": (wrong_header, ["表头与模板不符", "缺少:完成情况", "多出:完成情况说明"]),
    "extra sheet": (extra_sheet, ["文件应只有一个工作表,实际有2个"]),
    "another office": (other_office, ["第3行A列", "不是您所在处室负责的进度节点"]),
    "unknown milestone": (unknown, ["第3行A列", "节点编号99999不存在"]),
    "not this quarter": (not_this_quarter, ["第3行A列", "不在第四季度填报"]),
    "duplicate row": (duplicate, ["第4行A列", "与第3行重复"]),
    "percent 150": (percent_150, ["第3行G列", "完成百分比须在0到100之间"]),
    "done with 80": (done_with_80, ["第3行G列", "状态为“已完成”时,完成百分比须为100%"]),
    "formula": (formula, ["第3行H列", "单元格是公式"]),
    "bad status": (bad_status, ["第3行F列", "进展状态“差不多了”无效"]),
    "blank key": (blank_key, ["第3行A列", "缺少节点编号"]),
    "submitted report": (submitted_report, ["第3行A列", "当前状态为“已提交”,不能修改"]),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_wrong_file_or_row_writes_nothing(office, staff, plan_2014, case):
    change, fragments = BAD_ROWS[case]
    book = template(office, plan_2014)
    fill(book.active, book.active["A2"].value, "进行中", 40, "这一行是对的。")
    change(book, staff)
    before = history()
    refused(upload(office, plan_2014, book), *fragments)
    assert history() == before  # not even the row that was right


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"just some text", "填报表.xlsx", "文件不是xlsx格式的Excel文件"),
        (OLE, "填报表.xls", "这是旧版Excel(.xls)文件"),
        (b"", "填报表.xlsx", "所提交的是空文件"),
    ],
    ids=["not xlsx", "old xls", "empty"],
)
def test_unreadable_files_are_refused(office, plan_2014, content, name, message):
    before = history()
    response = upload(office, plan_2014, content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert history() == before


def test_too_large_file_is_refused_before_reading(office, plan_2014, settings):
    book = template(office, plan_2014)
    fill(book.active, book.active["A2"].value)
    settings.IMPORT_MAX_BYTES = 1000
    refused(upload(office, plan_2014, book), "超过1000")
    assert history() == (0, 0)


def test_every_wrong_row_is_listed_in_order_and_nothing_is_saved(office, plan_2014):
    book = template(office, plan_2014)
    sheet = book.active
    fill(sheet, sheet["A2"].value, "进行中", 40, "对的。")
    fill(sheet, sheet["A3"].value, "已完成", 150)
    fill(sheet, sheet["A4"].value, "完成了", 40)
    sheet["A5"] = 99999
    text = refused(upload(office, plan_2014, book), "请修改以下 3 处问题")
    positions = [text.index(where) for where in ("第3行G列", "第4行F列", "第5行A列")]
    assert positions == sorted(positions)
    assert history() == (0, 0)


def test_template_of_another_quarter_is_refused(office, plan_2014):
    book = template(office, plan_2014, quarter=3)
    fill(book.active, book.active["A2"].value)  # 第三--四季度: due in both quarters
    refused(upload(office, plan_2014, book, quarter=4), "这是2014年第三季度的填报表")
    assert history() == (0, 0)


def test_missing_file_is_a_form_error(office, plan_2014):
    url = f"{reverse('offline-upload')}?plan={plan_2014.pk}&quarter=4"
    response = office.post(url, {})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()


def test_upload_page_offers_the_template_of_its_quarter(office, plan_2014):
    response = office.get(reverse("offline-upload"), {"plan": plan_2014.pk, "quarter": 3})
    text = response.content.decode()
    assert response.status_code == 200
    assert f"{reverse('offline-download')}?plan={plan_2014.pk}&amp;quarter=3" in text
    assert 'enctype="multipart/form-data"' in text and "csrfmiddlewaretoken" in text


def test_my_work_links_to_download_and_upload(office, plan_2014):
    text = office.get(reverse("my-work"), {"plan": plan_2014.pk, "quarter": 4}).content.decode()
    assert f"{reverse('offline-download')}?plan={plan_2014.pk}&amp;quarter=4" in text
    assert f"{reverse('offline-upload')}?plan={plan_2014.pk}&amp;quarter=4" in text


# --- Who may download and upload --------------------------------------------------------


@pytest.mark.parametrize("persona", ["reviewer", "leader", "admin_user", "no_office"])
def test_other_roles_are_refused(client, request, plan_2014, persona):
    if persona == "no_office":
        user = make_user("nobody", roles.STAFF)
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)
    query = {"plan": plan_2014.pk, "quarter": 4}
    assert client.get(reverse("offline-download"), query).status_code == 403
    assert client.get(reverse("offline-upload"), query).status_code == 403
    book = Workbook()
    book.active.append(HEADERS)
    response = upload(client, plan_2014, book)
    assert response.status_code == 403
    assert history() == (0, 0)


def test_anonymous_is_sent_to_log_in(client, plan_2014):
    for response in (
        client.get(reverse("offline-download")),
        client.get(reverse("offline-upload")),
        upload(client, plan_2014, b"PK\x03\x04"),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_upload_needs_the_csrf_token(staff, plan_2014):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = upload(client, plan_2014, b"PK\x03\x04")
    assert response.status_code == 403


def test_a_csv_with_the_same_columns_is_read_too(office, plan_2014):
    """read_table reads CSV (here GBK, as Excel in Chinese saves it) with the same headers."""
    key = milestone(7, 4).pk
    lines = [",".join(HEADERS), f"{key},,,,,滞后,35,进度滞后于计划。,等待专家反馈。"]
    content = "\r\n".join(lines).encode("gbk")
    response = upload(office, plan_2014, content, name="填报表.csv")
    assert response.status_code == 302
    saved = ProgressReport.objects.get(milestone_id=key, quarter=4)
    assert (saved.status, saved.percent, saved.problems_text) == ("behind", 35, "等待专家反馈。")
