"""The 2014 plan fixture against the plan document it transcribes.

The document (fixtures/source/chongqing_2014_plan.txt) is a web page's text with the plan's
table flattened. This module reads it on its own, independently of the fixture:

* the table runs from "附件:\\n重庆市2014年专利事业发展战略推进计划" to the biography that
  follows it ("- 个人简介");
* the table's header row repeats at every page break, sometimes split over lines;
* every measure starts with its work-area heading, "(三)专利运用支撑体系建设", then
  "8.加强推进专利金融服务 开展专利质押融资和专利保险试点 1.…": number, title, goal, then
  its cells. A measure continued after a page break repeats heading, title and goal;
* within a measure, 具体措施 start with "1." (or "1. "), 进度安排 entries with a label
  (第一季度, 第二--四季度, 第一阶段 …) and a separator (, 、 :), each after a space or a line
  break; the 执行部门, 配合单位 and 责任处室 cells follow the first schedule entries;
* a page break can cut a 进度安排 entry: its line ends without a full stop, and its rest is an
  orphan piece after a 具体措施 on the next page.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models

from departments.models import Department
from plan.models import Action, Measure, Milestone, Plan, WorkArea

SOURCE = Path(settings.BASE_DIR) / "fixtures" / "source" / "chongqing_2014_plan.txt"
TABLE_START = "附件:\n重庆市2014年专利事业发展战略推进计划\n"
PLAN_END = "- 个人简介"
BUREAU = "重庆市知识产权局"

HEADER_ROW = re.compile(r"工作措施 工作目标 具体措施 进度安排 执行\s*部门 配合\s*单位 责任处室\n")
WORK_AREA = re.compile(
    r"(?m)^\((?P<numeral>[一二三四五六七八九十]+)\)(?P<title>[^\n\d]+?)。?(?=\n|\d)"
)
MEASURE_START = re.compile(WORK_AREA.pattern + r"\n?(?P<number>\d+)\.? ?")
ACTION_START = re.compile(r"(?m)(?:^|(?<= ))(\d+)\. ?")
LABEL_START = re.compile(r"(?m)(?:^|(?<= ))(第([一二三四])(?:--([一二三四]))?(?:季度|阶段))[,、:]")
CUT_ENTRY = re.compile(r"(?m)^第[一二三四][^ \n]*[^。 \n]$")
ORPHAN = re.compile(rf"(?m)(?<=。) (?!\d|第[一二三四]|{BUREAU})([^ \n]+)$")
QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}

WORK_AREA_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十三"]
MEASURE_NUMBERS = [2, 3, 4, 7, 8, 9, 10, 12, 13, 14, 15, 16, 18, 19, 22, 25, 29, 30]
# the site's header and the biography after the plan
NOT_THE_PLAN = [
    "知识产权学术与实务研究网",
    "个人简介",
    "中国政法大学",
    "邮箱",
    "sina.com",
    "咨询>>",
]


def plan_table() -> str:
    """The plan's table without the page, its biography or the repeated header rows."""
    text = SOURCE.read_text(encoding="utf-8")
    text = text[text.index(TABLE_START) + len(TABLE_START) : text.index(PLAN_END)]
    return HEADER_ROW.sub("", text)


def join_cut_entry(cells: str) -> str:
    """Put the rest of a 进度安排 entry cut by a page break back after its beginning."""
    cut, orphans = CUT_ENTRY.findall(cells), ORPHAN.findall(cells)
    assert len(cut) == len(orphans) <= 1, (cut, orphans)
    for beginning, rest in zip(cut, orphans, strict=True):
        cells = cells.replace(f" {rest}\n", "\n", 1)
        cells = cells.replace(f"{beginning}\n", f"{beginning}{rest}\n", 1)
    return cells


def read_measures() -> dict[int, dict]:
    """Per measure number, as the document has it: work-area numeral, "title goal" head (title
    and goal are separated by a space or a line break), and its cells with page-break repeats
    dropped and cut entries joined."""
    text = plan_table()
    starts = list(MEASURE_START.finditer(text))
    measures = {}
    for start, following in zip(starts, [*starts[1:], None], strict=True):
        block = text[start.end() : following.start() if following else len(text)]
        head, cells = re.split(r"[ \n](?=\d+\.)", block.strip("\n"), maxsplit=1)
        number = int(start["number"])
        if number in measures:  # continued after a page break: heading, title, goal repeat
            assert measures[number]["head"] == head
            assert measures[number]["numeral"] == start["numeral"]
            measures[number]["cells"] += "\n" + cells
        else:
            measures[number] = {"numeral": start["numeral"], "head": head, "cells": cells}
    for measure in measures.values():
        measure["cells"] = join_cut_entry(measure["cells"])
    return measures


def whole_cell(prefix: str, text: str) -> re.Pattern:
    """A cell, `prefix` then exactly `text`, between spaces or line breaks."""
    return re.compile(rf"(?:^|(?<=[ \n])){prefix}{re.escape(text)}(?=[ \n]|$)")


def quarters_of(label: str) -> tuple[int | None, int | None]:
    match = re.fullmatch(r"第([一二三四])(?:--([一二三四]))?季度", label)
    if not match:
        return None, None
    return QUARTER[match[1]], QUARTER[match[2] or match[1]]


@pytest.fixture(scope="module")
def document():
    return read_measures()


@pytest.fixture(autouse=True)
def plan_2014(db):
    call_command("loaddata", "plan_2014", verbosity=0)


@pytest.mark.django_db
def test_the_reading_of_the_document(document):
    assert list(document) == MEASURE_NUMBERS
    joined = [n for n, m in document.items() if "项目管理、服务规范" in m["cells"]]
    assert joined == [14]


@pytest.mark.django_db
def test_plan():
    plan = Plan.objects.get()
    text = SOURCE.read_text(encoding="utf-8")
    assert (plan.year, plan.issuer.name, plan.published) == (2014, BUREAU, False)
    assert TABLE_START.endswith(f"\n{plan.title}\n")
    assert plan.issued_on == datetime.date(2014, 4, 15)
    assert f"{BUREAU}\n2014年4月15日\n" in text


@pytest.mark.django_db
def test_work_areas_as_written_in_order():
    headings = {m["numeral"]: m["title"] for m in WORK_AREA.finditer(plan_table())}
    assert list(headings) == WORK_AREA_NUMERALS
    areas = WorkArea.objects.order_by("order")
    assert [(a.numeral, a.title) for a in areas] == list(headings.items())
    assert [a.order for a in areas] == list(range(1, 12))


@pytest.mark.django_db
def test_measures_titles_and_goals(document):
    measures = Measure.objects.select_related("work_area").order_by("pk")
    assert [m.number for m in measures] == MEASURE_NUMBERS
    for measure in measures:
        written = document[measure.number]
        assert measure.work_area.numeral == written["numeral"], measure.number
        assert written["head"] in (
            f"{measure.title} {measure.goal}",
            f"{measure.title}\n{measure.goal}",
        ), measure.number


@pytest.mark.django_db
def test_action_and_schedule_counts(document):
    for measure in Measure.objects.all():
        cells = document[measure.number]["cells"]
        numbers = [int(n) for n in ACTION_START.findall(cells)]
        assert numbers == list(range(1, len(numbers) + 1)), measure.number
        assert measure.actions.count() == len(numbers), measure.number
        assert measure.milestones.count() == len(LABEL_START.findall(cells)), measure.number


@pytest.mark.django_db
def test_actions_verbatim(document):
    for action in Action.objects.select_related("measure"):
        cells = document[action.measure.number]["cells"]
        assert whole_cell(rf"{action.number}\. ?", action.text).search(cells), action
        assert action.text == action.text.strip(), action


@pytest.mark.django_db
def test_milestones_verbatim_in_order(document):
    for measure in Measure.objects.all():
        cells = document[measure.number]["cells"]
        labels = [m[1] for m in LABEL_START.finditer(cells)]
        assert [m.label for m in measure.milestones.all()] == labels, measure.number
        assert [m.order for m in measure.milestones.all()] == list(range(1, len(labels) + 1))
        for milestone in measure.milestones.all():
            prefix = re.escape(milestone.label) + "[,、:]"
            assert whole_cell(prefix, milestone.text).search(cells), milestone


@pytest.mark.django_db
def test_every_cell_is_a_whole_sentence():
    """A cell that does not end in a full stop was cut by a page break and not joined."""
    actions = Action.objects.values_list("text", flat=True)
    milestones = Milestone.objects.values_list("text", flat=True)
    for text in [*actions, *milestones]:
        assert text.endswith("。"), text
    cut = Milestone.objects.get(measure__number=14, label="第二--四季度")
    assert "制定完善项目管理、服务规范、绩效考核等中心内部管理制度;开展新能源" in cut.text


@pytest.mark.django_db
def test_quarters():
    for milestone in Milestone.objects.all():
        span = (milestone.first_quarter, milestone.last_quarter)
        assert span == quarters_of(milestone.label), milestone
    unscheduled = Milestone.objects.unscheduled()
    assert unscheduled.exists()
    assert all(m.label.endswith("阶段") for m in unscheduled)
    assert not Milestone.objects.filter(label__endswith="阶段", first_quarter__isnull=False)
    spanning = Milestone.objects.get(measure__number=3, label="第三--四季度")
    assert spanning.quarters == range(3, 5)
    assert Milestone.objects.get(measure__number=14, label="第一--四季度").quarters == range(1, 5)


@pytest.mark.django_db
def test_schedule_entries_with_phases_and_other_separators():
    first, _, last = Milestone.objects.filter(measure__number=18)
    assert (first.label, first.text[:5]) == ("第一季度", "启动阶段。")
    assert (last.label, last.text[:7]) == ("第四季度", "验收总结阶段。")
    assert Milestone.objects.get(measure__number=30, order=1).text.startswith("筹备成立")
    labels = Milestone.objects.filter(measure__number=19).values_list("label", flat=True)
    assert list(labels) == ["第一阶段", "第二阶段", "第三阶段"]


@pytest.mark.django_db
def test_departments_cells(document):
    spellings = Department.objects.by_spelling()
    for measure in Measure.objects.all():
        offices = list(measure.responsible_offices.all())
        assert offices, measure.number
        assert measure.executing_department.name == BUREAU
        assert measure.executing_department.kind == Department.Kind.BUREAU
        assert all(o.kind == Department.Kind.OFFICE for o in offices), measure.number
        units = {spellings[name] for name in measure.cooperating_text.split("、") if name}
        assert units == set(measure.cooperating_units.all()), measure.number
        assert all(u.kind == Department.Kind.UNIT for u in units), measure.number
        columns = re.escape(BUREAU) + r"[ \n]"
        if measure.cooperating_text:
            columns += re.escape(measure.cooperating_text) + r"[ \n]"
        columns += re.escape("、".join(o.name for o in offices)) + r"(?=\n|$)"
        assert re.search(columns, document[measure.number]["cells"]), measure.number


@pytest.mark.django_db
def test_departments_unique():
    names = []
    for department in Department.objects.all():
        names += [department.name, *department.aliases]
    assert len(names) == len(set(names))
    district = Department.objects.get(name="各区县(自治县)知识产权局")
    assert not district.generic
    assert set(Department.objects.filter(generic=True).values_list("name", flat=True)) == {
        "相关处室",
        "市级相关部门",
        "有关行业协会",
        "局各处室",
        "下属机构",
        "咨询辅导机构",
    }
    used = Department.objects.filter(
        models.Q(executed_measures__isnull=False)
        | models.Q(cooperating_measures__isnull=False)
        | models.Q(responsible_measures__isnull=False)
    )
    assert used.distinct().count() == Department.objects.count()


@pytest.mark.django_db
def test_nothing_from_outside_the_plan():
    for model in (Department, Plan, WorkArea, Measure, Action, Milestone):
        fields = [
            f.name
            for f in model._meta.fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        for row in model.objects.values_list(*fields):
            for value in row:
                for words in NOT_THE_PLAN:
                    assert words not in str(value), (model.__name__, value)
