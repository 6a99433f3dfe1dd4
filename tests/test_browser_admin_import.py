"""Browser journey: an admin imports quarterly reports from an xlsx file in the admin, looks
at the preview, confirms, and the reports are there with their history."""

import pytest
from django.urls import reverse
from openpyxl import Workbook

from plan.models import Milestone
from tasks.models import ProgressReport
from tasks.resources import ProgressReportResource

from . import builders
from .conftest import PASSWORD
from .test_browser_plan import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_imports_reports_with_preview_and_history(live_server, page, admin_user, tmp_path):
    existing = builders.report(
        Milestone.objects.get(measure__number=8, label="第四季度"), 4, percent=30, state="draft"
    )
    path = tmp_path / "季度进展.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ProgressReportResource().headers())
    sheet.append(
        [
            2014,
            7,
            "第四季度",
            None,
            "第四季度",
            "进行中",
            60,
            "已完成指标体系初稿。",
            "",
            "草稿",
            "",
            None,  # 版本号: a new report
        ]
    )
    sheet.append(
        [
            2014,
            3,
            "第三--四季度",
            3,
            "第三季度",
            "已完成",
            100,
            "政策框架已印发。",
            "",
            "已提交",
            "",
            None,
        ]
    )
    sheet.append(
        [2014, 8, "第四季度", 4, "第四季度", "滞后", 45, "'=先调研再起草", "经费未到位", "草稿", ""]
        + [existing.version]  # as exported
    )
    workbook.save(path)

    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(live_server.url + reverse("admin:tasks_progressreport_changelist"))
    page.locator("a.import_link").click()
    assert "须为:年度、措施编号、时间、节点排序、季度" in page.locator("#content").inner_text()
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label="xlsx")
    page.locator("input[type=submit]").click()

    page.wait_for_selector("table.import-preview")
    summary = page.locator(".import-summary").inner_text()
    assert "共3行:新增2行,修改1行,无变化0行" in summary
    rows = page.locator("table.import-preview tbody tr")
    assert rows.count() == 3
    assert "修改" in rows.nth(2).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin_import_preview.png", full_page=True)
    assert ProgressReport.objects.count() == 1  # nothing written before confirming

    page.locator("input[name=confirm]").click()
    page.wait_for_selector(".messagelist")
    assert "导入完成:新增2条,更新1条,无变化0条。" in page.locator(".messagelist").inner_text()

    assert ProgressReport.objects.count() == 3
    existing.refresh_from_db()
    assert (existing.status, existing.percent, existing.version) == ("behind", 45, 2)
    assert existing.done_text == "=先调研再起草"
    events = list(
        existing.versions.order_by("version").values_list("event", "channel", "by__username")
    )
    assert events == [
        ("saved", "web", existing.versions.first().by.username),
        ("saved", "admin", "admin1"),
    ]
    done = ProgressReport.objects.get(milestone__measure__number=3, quarter=3)
    assert (done.state, done.version, done.first_submitted_at is not None) == ("submitted", 1, True)

    # The report's admin page lists the import in its history.
    page.goto(live_server.url + reverse("admin:tasks_progressreport_change", args=[existing.pk]))
    assert "管理员导入" in page.locator("#content").inner_text()
