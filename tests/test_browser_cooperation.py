"""Browser journey: a district office contributes, the responsible office quotes it in its report,
the reviewer approves, and the contribution is closed."""

import pytest
from django.urls import reverse

from departments import roles
from departments.models import Department
from plan.models import Milestone
from tasks.models import Contribution, ProgressReport

from .conftest import make_user
from .test_browser_plan import ARTIFACTS
from .test_browser_workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "组织区县企业参加创新驱动政策宣讲5场。"
FIGURES = "覆盖企业120家"
QUOTE = f"各区县(自治县)知识产权局:{TEXT}({FIGURES})"


@pytest.fixture
def quxian(plan_2014):
    district = Department.objects.get(name="各区县(自治县)知识产权局")
    return make_user("quxian", roles.UNIT, district)


def test_a_contribution_is_quoted_in_the_offices_report_and_closed_on_approval(
    browser, live_server, quxian, staff, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    right, wrong = tmp_path / "宣讲签到表.pdf", tmp_path / "传错了.pdf"
    right.write_bytes(b"%PDF-1.4\n% right\n")
    wrong.write_bytes(b"%PDF-1.4\n% wrong\n")
    target = Milestone.objects.get(measure__number=3, order=3)  # 第三--四季度, 专利管理处
    unit_row = f"tr.unit-row[data-milestone='{target.pk}']"
    work_row = f"tr.work-row[data-milestone='{target.pk}']"

    # The district office lands on its cooperation page (the 2014 plan opens on the fourth
    # quarter) and contributes, with figures.
    unit = log_in(browser, live_server, "quxian")
    assert unit.locator("h1").inner_text() == "配合工作"
    assert "已逾期" in unit.locator(unit_row).inner_text()
    unit.locator(unit_row).get_by_role("link", name="填报").click()
    assert "各区县(自治县)知识产权局 · 第四季度配合情况" in unit.locator("h1").inner_text()
    unit.fill("#id_text", TEXT)
    unit.fill("#id_figures", FIGURES)
    unit.set_input_files("#id_files", [str(right), str(wrong)])
    unit.click("form.report-form button[type=submit]")
    assert "配合情况已提交" in unit.locator(".messages").inner_text()
    assert "已提交" in unit.locator(unit_row).inner_text()

    # It took a wrong file along: back on its page it removes it; the history names it.
    unit.locator(unit_row).get_by_role("link", name="修改").click()
    unit.get_by_role("button", name="删除附件“传错了.pdf”").click()
    assert "已从配合情况中删除" in unit.locator(".messages").inner_text()
    assert unit.locator(".evidence-list a").all_inner_texts() == ["宣讲签到表.pdf"]
    unit.locator("details.contribution-history > summary").click()
    unit.locator("li[data-version='2'] summary").click()
    assert "删除附件“传错了.pdf”" in unit.locator("li[data-version='2']").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    unit.screenshot(path=ARTIFACTS / "contribution_file_removed.png", full_page=True)

    # The responsible office sees it beside its form and quotes it into 完成情况.
    office = log_in(browser, live_server, "zhang")
    office.locator(work_row).get_by_role("link", name="填报").click()
    contributions = office.locator("section.contributions")
    assert TEXT in contributions.inner_text()
    assert FIGURES in contributions.inner_text()
    office.select_option("#id_status", "in_progress")
    office.fill("#id_percent", "80")
    office.fill("#id_done_text", "完成创新驱动政策落实情况梳理。")
    contributions.get_by_role("button", name="引用到完成情况").click()
    assert office.input_value("#id_done_text") == f"完成创新驱动政策落实情况梳理。\n{QUOTE}"
    # Its history, folded: opened, each version opens on its text.
    history = contributions.locator("details.contribution-history")
    assert history.locator("li").first.is_hidden()
    history.locator("summary").first.click()
    version = history.locator("li[data-version='1']")
    assert "第1版 · quxian(各区县(自治县)知识产权局) · " in version.inner_text()
    version.locator("summary").click()
    assert TEXT in version.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    office.screenshot(path=ARTIFACTS / "report_form_contribution.png", full_page=True)
    office.click("button[name=submit]")
    assert "报告已提交" in office.locator(".messages").inner_text()

    # The reviewer sees the contribution on the report page and approves.
    review = log_in(browser, live_server, "wang")
    review.get_by_role("link", name="审核").last.click()
    assert TEXT in review.locator("section.contributions").inner_text()
    assert QUOTE in review.locator("section.current").inner_text()
    review.click("button[name=approve]")
    assert "审核结果已保存" in review.locator(".messages").inner_text()
    report = ProgressReport.objects.get(milestone=target, quarter=4)
    assert report.state == ProgressReport.State.APPROVED
    assert QUOTE in report.done_text

    # The district office sees the report approved and can no longer change its part.
    unit.goto(live_server.url + reverse("unit-work"))
    row = unit.locator(unit_row)
    assert "处室报告已通过" in row.inner_text()
    assert row.get_by_role("link").count() == 0
    unit.goto(live_server.url + reverse("contribution-edit", args=[target.pk, 4]))
    assert "已审核通过,不能再修改配合情况" in unit.locator(".closed").inner_text()
    assert unit.locator("form.report-form").count() == 0
    contribution = Contribution.objects.get()
    assert (contribution.text, contribution.figures, contribution.version) == (TEXT, FIGURES, 2)
    assert [f.name for f in contribution.current_files()] == ["宣讲签到表.pdf"]
