"""The plan upload in the admin: upload → preview → confirm, and 计划调整 on a plan's page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from departments.models import Department
from plan.models import Measure, Milestone, Plan, PlanRevision
from tasks.models import ProgressReport

from . import builders
from .test_plan_intake import exported, save, word_plan

TITLE_2015 = "重庆市2015年专利事业发展战略推进计划"


def word_2015(plan):
    return word_plan(
        plan,
        title=TITLE_2015,
        schedule_header="落实时间",
        offices={2: "规划发展外", 3: "局内:条法处牵头,相关部门参与"},
    )


def test_only_admins_may_load_a_plan(client, plan_2014, staff, admin_user):
    url = reverse("admin:plan_plan_load")
    client.force_login(staff)
    assert client.get(url).status_code in (302, 403)
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert "上传并预览" in response.content.decode()
    changelist = client.get(reverse("admin:plan_plan_changelist")).content.decode()
    assert url in changelist


def test_upload_preview_map_answer_confirm(
    client, plan_2014, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    upload = SimpleUploadedFile("2015计划.docx", word_2015(plan_2014))
    with django_assert_max_num_queries(60):
        response = client.post(url, {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "未识别的列“落实时间”" in page
    assert Plan.objects.count() == 1
    token = response.context["token"]
    columns = {c.header: i for i, c in enumerate(response.context["parsed"].columns, start=1)}
    answers = {"token": token, "refresh": "1"}
    for header, index in columns.items():
        answers[f"colh_{index}"] = header
        answers[f"col_{index}"] = response.context["parsed"].columns[index - 1].field or ""
    answers[f"col_{columns['落实时间']}"] = "schedule"
    response = client.post(url, answers)
    assert response.context["result"].problems == []
    page = response.content.decode()
    assert "您是不是要找:规划发展处?" in page
    questions = {q.written: q for q in response.context["questions"]}
    assert questions["规划发展外"].suggestion.name == "规划发展处"
    assert "条法处" in questions and "相关部门" in questions
    assert "工作措施18项" in page
    questions = response.context["questions"]
    assert [q.written for q in questions if q.generic_chosen] == ["相关部门"]
    for index, q in enumerate(questions, start=1):
        answers[f"deptw_{index}"] = q.written
        answers[f"dept_{index}"] = "text" if q.written == "相关部门" else q.default
        if q.written == "条法处":
            answers[f"deptg_{index}"] = "1"  # the admin says 泛指
    del answers["refresh"]
    answers["confirm"] = "1"
    response = client.post(url, answers)
    assert response.status_code == 302
    plan = Plan.objects.get(title=TITLE_2015)
    assert response["Location"] == reverse("admin:plan_plan_change", args=[plan.pk])
    m2 = Measure.objects.get(work_area__plan=plan, number=2)
    assert [o.name for o in m2.responsible_offices.all()] == ["规划发展处"]
    assert "规划发展外" in Department.objects.get(name="规划发展处").aliases
    assert Department.objects.filter(name="条法处", kind="office", generic=True).exists()
    assert not Department.objects.filter(name="相关部门").exists()
    revision = plan.revisions.get()
    assert (revision.kind, revision.by, revision.file_name) == (
        "created",
        admin_user,
        "2015计划.docx",
    )
    # The token is spent: confirming again does nothing
    response = client.post(url, answers)
    assert response.status_code == 302 and Plan.objects.filter(title=TITLE_2015).count() == 1


def test_revise_from_the_plans_page(client, plan_2014, admin_user, reviewer):
    milestone = Milestone.objects.get(measure__number=2, label="第四季度")
    builders.report(milestone, 4, reviewer=reviewer)
    book = load_workbook(io.BytesIO(exported(plan_2014)))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=5, max_col=4):
        if row[3].value and row[3].value.startswith("第四季度,召开专家论证会"):
            row[3].value = None  # measure 2's fourth quarter dropped
    client.force_login(admin_user)
    change = client.get(reverse("admin:plan_plan_change", args=[plan_2014.pk])).content.decode()
    url = reverse("admin:plan_plan_revise", args=[plan_2014.pk])
    assert url in change
    response = client.post(url, {"file": SimpleUploadedFile("调整.xlsx", save(book))})
    page = response.content.decode()
    assert "工作措施2的“第四季度”已有进展报告,调整取消(保留)" in page
    response = client.post(url, {"token": response.context["token"], "confirm": "1"})
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.retired_on is not None
    assert ProgressReport.objects.filter(milestone=milestone).exists()
    assert PlanRevision.objects.get(plan=plan_2014).kind == "revised"
    page = client.get(reverse("plan-document", args=[plan_2014.pk])).content.decode()
    assert "计划调整记录" in page and "已调整取消" in page


def test_a_bad_file_shows_its_problems_and_no_confirm(client, plan_2014, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    response = client.post(
        url, {"file": SimpleUploadedFile("x.docx", word_plan(plan_2014, table=False))}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Word文件中没有表格" in page
    assert 'name="confirm"' in page and "disabled" in page


@pytest.mark.parametrize("token", ["", "0" * 32, "../../etc/passwd"])
def test_an_unknown_token_is_a_message(client, plan_2014, admin_user, token):
    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    response = client.post(url, {"token": token, "confirm": "1"}, follow=True)
    assert "已过期" in response.content.decode()
    assert Plan.objects.count() == 1


def test_a_plan_without_a_title_gets_one_in_the_preview(client, plan_2014, admin_user):
    from .test_plan_intake import NATIONAL, xlsx

    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    response = client.post(url, {"file": SimpleUploadedFile("任务分工.xlsx", xlsx(NATIONAL[1:]))})
    problems = response.context["result"].problems
    assert any("找不到计划标题" in p for p in problems)
    assert any("找不到计划年度" in p for p in problems)
    answers = {
        "token": response.context["token"],
        "plan_title": "2015年知识产权战略实施推进计划",
        "plan_year": "2015",
    }
    preview = client.post(url, {**answers, "refresh": "1"})
    assert preview.context["result"].problems == []
    for index, q in enumerate(preview.context["questions"], start=1):
        answers[f"deptw_{index}"] = q.written
        answers[f"dept_{index}"] = q.default
    response = client.post(url, {**answers, "confirm": "1"})
    assert response.status_code == 302
    plan = Plan.objects.get(year=2015)
    assert plan.title == "2015年知识产权战略实施推进计划"
    assert plan.issuer.name == "重庆市知识产权局"  # the bureau, as the file names no issuer


def test_the_file_of_a_revision_is_for_admins(client, plan_2014, admin_user, leader):
    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    data = word_2015(plan_2014)
    response = client.post(url, {"file": SimpleUploadedFile("2015计划.docx", data)})
    answers = {"token": response.context["token"], "confirm": "1"}
    for index, column in enumerate(response.context["parsed"].columns, start=1):
        answers[f"colh_{index}"] = column.header
        answers[f"col_{index}"] = column.field or "schedule"
    assert client.post(url, answers).status_code == 302
    revision = PlanRevision.objects.get()
    page = client.get(reverse("admin:plan_plan_change", args=[revision.plan_id])).content.decode()
    link = reverse("admin:plan_plan_revision_file", args=[revision.pk])
    assert link in page
    response = client.get(link)
    assert b"".join(response.streaming_content) == data
    client.force_login(leader)
    assert client.get(link).status_code in (302, 403)


def test_an_admin_sets_a_labels_quarters_in_the_preview(client, plan_2014, admin_user):
    from .test_plan_intake import NATIONAL, xlsx

    client.force_login(admin_user)
    url = reverse("admin:plan_plan_load")
    response = client.post(url, {"file": SimpleUploadedFile("national.xlsx", xlsx(NATIONAL))})
    labels = response.context["labels"]
    index = next(i for i, x in enumerate(labels, start=1) if x["label"] == "待国务院部署")
    assert labels[index - 1]["first"] is None and not labels[index - 1]["known"]
    answers = {
        "token": response.context["token"],
        f"label_{index}": "待国务院部署",
        f"qwas_{index}": "-",
        f"qf_{index}": "4",
        f"ql_{index}": "3",
        "refresh": "1",
    }
    response = client.post(url, answers)
    assert any("起始季度不能晚于截止季度" in p for p in response.context["result"].problems)
    answers.update({f"qf_{index}": "3", f"ql_{index}": "4", f"qwas_{index}": "9" * 5000})
    response = client.post(url, answers)  # a forged value is ignored, not a 500
    assert response.status_code == 200
    answers[f"qwas_{index}"] = "-"
    response = client.post(url, answers)
    assert response.context["result"].problems == []
    waiting = next(m for m in response.context["parsed"].milestones if m.label == "待国务院部署")
    assert (waiting.first, waiting.last) == (3, 4)
    del answers["refresh"]
    assert client.post(url, {**answers, "confirm": "1"}).status_code == 302
    assert Milestone.objects.get(label="待国务院部署").quarters == range(3, 5)


def test_the_preview_in_english(client, plan_2014, admin_user):
    client.force_login(admin_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.post(
        reverse("admin:plan_plan_load"),
        {"file": SimpleUploadedFile("2015.docx", word_2015(plan_2014))},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unrecognised column “落实时间”" in page
    assert "11 work areas · 18 measures · 65 actions · 0 milestones" in page  # D unmapped
    assert "Preview again with these choices" in page
