"""Browser journey: an office downloads its quarter's template from 我的工作, fills it in a
spreadsheet program (openpyxl here), uploads it, is told what is wrong, fixes it, and finds
the drafts on its work page."""

import pytest
from openpyxl import load_workbook

from plan.models import Milestone
from tasks.models import ProgressReport

from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill(sheet, key: int, status: str, percent: int, done: str) -> None:
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == key:
            cells[5].value, cells[6].value, cells[7].value = status, percent, done
            return
    raise AssertionError(f"milestone {key} is not in the file")


def test_office_fills_the_quarter_offline(browser, live_server, staff, tmp_path):
    training = Milestone.objects.get(measure__number=7, label="第四季度")
    finance = Milestone.objects.get(measure__number=8, label="第四季度")
    office = log_in(browser, live_server, "zhang")
    assert office.locator("h1").inner_text() == "我的工作"

    with office.expect_download() as download_info:
        office.get_by_role("link", name="下载本季度填报表").click()
    download = download_info.value
    assert download.suggested_filename == "2014年第四季度进展填报表.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    book = load_workbook(path)
    fill(book.active, training.pk, "进行中", 150, "已形成指标体系初稿。")
    fill(book.active, finance.pk, "已完成", 100, "已兑现专利质押融资和专利保险政策。")
    book.save(path)

    office.get_by_role("link", name="上传填报表").click()
    office.set_input_files("#id_file", str(path))
    office.click("button[name=upload]")
    errors = office.locator(".upload-errors").inner_text()
    assert "文件未导入,没有保存任何内容" in errors
    assert "第3行G列:完成百分比须在0到100之间。" in errors
    assert not ProgressReport.objects.exists()
    ARTIFACTS.mkdir(exist_ok=True)
    office.screenshot(path=ARTIFACTS / "offline_upload_errors.png", full_page=True)

    fill(book.active, training.pk, "进行中", 60, "已形成指标体系初稿。")
    book.save(path)
    office.set_input_files("#id_file", str(path))
    office.click("button[name=upload]")
    assert office.locator("h1").inner_text() == "我的工作"
    assert "新建草稿2份" in office.locator(".messages").inner_text()
    for milestone, shown in ((training, "进行中 · 60%"), (finance, "已完成 · 100%")):
        row = office.locator(f"tr.work-row[data-milestone='{milestone.pk}']").inner_text()
        assert "草稿" in row and shown in row
    office.screenshot(path=ARTIFACTS / "offline_my_work.png", full_page=True)
    assert ProgressReport.objects.filter(state="draft").count() == 2
