"""Browser journey: an admin loads next year's plan from a Word file (maps the column it
does not recognise, answers the department questions, confirms), then revises it from the
plan's admin page."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from plan.models import Measure, Milestone, Plan, PlanRevision

from . import builders
from .conftest import PASSWORD
from .test_browser_plan import ARTIFACTS
from .test_plan_intake import exported, save
from .test_plan_intake_admin import TITLE_2015, word_2015

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_loads_a_word_plan_then_revises_it(live_server, page, admin_user, tmp_path):
    word = tmp_path / "重庆市2015年推进计划.docx"
    word.write_bytes(word_2015(Plan.objects.get()))
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(live_server.url + reverse("admin:plan_plan_changelist"))
    page.get_by_role("link", name="导入推进计划(Word/Excel/网页文本)").click()
    page.set_input_files("#id_file", str(word))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#problems")
    assert "未识别的列“落实时间”" in page.locator("#problems").inner_text()
    assert page.get_by_role("button", name="确认导入").is_disabled()
    page.get_by_label("落实时间").select_option(label="进度安排(完成时限)")
    page.get_by_role("button", name="按以上设置重新预览").click()

    page.wait_for_selector("#tree")
    assert page.locator("#problems").count() == 0
    assert (
        "工作领域11个 · 工作措施18项 · 具体措施65项 · 进度节点61个"
        in page.locator("[data-counts]").inner_text()
    )
    questions = page.locator("#departments").inner_text()
    assert "您是不是要找:规划发展处?" in questions
    assert "条法处" in questions and "相关部门" in questions
    page.get_by_label("相关部门", exact=True).select_option(label="不是部门,只保留原文")
    page.get_by_role("button", name="按以上设置重新预览").click()
    page.wait_for_selector("#tree")
    assert "第二--四季度" in page.locator("#labels").inner_text()
    page.screenshot(path=ARTIFACTS / "plan_intake_preview.png", full_page=True)
    page.screenshot(path=ARTIFACTS / "plan_intake_preview_top.png")  # the README's
    page.locator("#departments").screenshot(path=ARTIFACTS / "plan_intake_departments.png")
    assert not Plan.objects.filter(title=TITLE_2015).exists()  # nothing written yet

    page.get_by_role("button", name="确认导入").click()
    page.wait_for_selector(".messagelist")
    assert f"已导入“{TITLE_2015}”。" in page.locator(".messagelist").inner_text()
    plan = Plan.objects.get(title=TITLE_2015)
    assert Measure.objects.filter(work_area__plan=plan).count() == 18

    # June: the revised plan, uploaded from the plan's own admin page. Measure 2's first
    # quarter, which has a report, is dropped: it is retired, not deleted.
    dropped = Milestone.objects.get(measure__work_area__plan=plan, measure__number=2, order=1)
    builders.report(dropped, 1, state="submitted")
    book = load_workbook(io.BytesIO(exported(plan)))
    sheet = book.worksheets[0]
    del book["进度节点"]
    for row in sheet.iter_rows(min_row=5, max_col=4):
        if row[3].value and row[3].value.startswith("第三季度,草拟《重庆市专利政策框架"):
            row[3].value = "第三季度,草拟并论证《重庆市专利政策框架》。"
        if row[3].value and row[3].value.startswith("第一季度,研究国家知识产权局"):
            row[3].value = None
    revised = tmp_path / "2015调整.xlsx"
    revised.write_bytes(save(book))
    page.get_by_role("link", name="计划调整(上传修订后的计划)").click()
    page.set_input_files("#id_file", str(revised))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#changes")
    changes = page.locator("#changes").inner_text()
    assert "工作措施2修改进度节点“第三季度”" in changes
    assert "工作措施2的“第一季度”已有进展报告,调整取消(保留)" in changes
    page.screenshot(path=ARTIFACTS / "plan_intake_revision.png", full_page=True)
    page.get_by_role("button", name="确认调整").click()
    page.wait_for_selector(".messagelist")
    assert "已完成计划调整" in page.locator(".messagelist").inner_text()
    changed = Milestone.objects.get(
        measure__work_area__plan=plan, measure__number=2, label="第三季度"
    )
    assert changed.text == "草拟并论证《重庆市专利政策框架》。"
    assert PlanRevision.objects.filter(plan=plan).count() == 2

    page.goto(live_server.url + reverse("plan-document", args=[plan.pk]))
    history = page.locator("#revisions").inner_text()
    assert "计划调整" in history and "2015调整.xlsx" in history
    page.locator("#revisions").screenshot(path=ARTIFACTS / "plan_revision_history.png")
    retired = page.locator("#measure-2 li.retired")
    assert "已调整取消" in retired.inner_text()
    page.locator("#measure-2").screenshot(path=ARTIFACTS / "plan_retired_milestone.png")
