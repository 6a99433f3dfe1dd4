"""督查通报: the quarterly bulletin's text read back with python-docx, against figures worked
out by hand for a small plan; its page set-up and fonts; the command and the download."""

import datetime
import io
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from docx import Document
from docx.enum.section import WD_ORIENT

from departments import roles
from departments.models import Department
from plan.models import Measure, Milestone, Plan, WorkArea
from supervision import bulletin, services
from tasks import services as task_services
from tasks.models import Contribution, ProgressReport

from . import builders
from .conftest import make_user

TODAY = datetime.date(2030, 7, 15)  # Q2 reports were due 2030-07-10


def late(report_or_contribution, day: str) -> None:
    """Sets when it was first submitted (the services stamp the real time)."""
    at = datetime.datetime.fromisoformat(f"{day}T10:00:00+08:00")
    type(report_or_contribution).objects.filter(pk=report_or_contribution.pk).update(
        first_submitted_at=at
    )


@pytest.fixture
def small_plan(db):
    """Two work areas, two offices, four milestones, one cooperating unit:

    (一)法规 · measure 1 (甲处; 丙局 cooperates): m1 Q1, m2 Q2
    (二)保护 · measure 2 (乙处): m3 Q1–Q2, m4 Q3

    At Q2, on 2030-07-15: m1 done (approved 100%, Q1 on time); m2 approved at 40% in Q2 but
    submitted 2030-07-12, after its due date; m3 approved at 30% in Q1, submitted late
    (2030-04-20), nothing in Q2; m4 not due. 丙局 contributed to m2 on 2030-07-08."""
    bureau = Department.objects.create(name="某市知识产权局", kind="bureau")
    office_a = Department.objects.create(name="甲处", kind="office", order=1)
    office_b = Department.objects.create(name="乙处", kind="office", order=2)
    unit = Department.objects.create(name="丙局", kind="unit")
    plan = Plan.objects.create(year=2030, title="《某市2030年推进计划》", issuer=bureau)
    areas = [
        WorkArea.objects.create(plan=plan, numeral="一", title="法规", order=1),
        WorkArea.objects.create(plan=plan, numeral="二", title="保护", order=2),
    ]
    measures = []
    for number, (area, office) in enumerate([(areas[0], office_a), (areas[1], office_b)], 1):
        measure = Measure.objects.create(
            work_area=area,
            number=number,
            title=f"措施{number}",
            goal="目标",
            executing_department=bureau,
        )
        measure.responsible_offices.add(office)
        measures.append(measure)
    measures[0].cooperating_units.add(unit)
    spans = [(measures[0], 1, 1), (measures[0], 2, 2), (measures[1], 1, 2), (measures[1], 3, 3)]
    m = [
        Milestone.objects.create(
            measure=measure, order=i, label=f"节点{i}", first_quarter=a, last_quarter=b, text="事项"
        )
        for i, (measure, a, b) in enumerate(spans, 1)
    ]
    reviewer = make_user("wang", roles.REVIEWER)
    leader = make_user("zhao", roles.LEADER)
    leader.first_name = "赵局长"
    leader.save()
    unit_user = make_user("bing", roles.UNIT, unit)

    builders.report(m[0], 1, percent=100, status="done", reviewer=reviewer)
    contribution = task_services.save_contribution(
        user=unit_user, milestone=m[1], quarter=2, base_version=0, text="配合完成", figures=""
    )
    late(contribution, "2030-07-08")
    late(builders.report(m[1], 2, percent=40, reviewer=reviewer), "2030-07-12")
    late(builders.report(m[2], 1, percent=30, reviewer=reviewer), "2030-04-20")

    answered = services.instruct(
        user=leader,
        measure=measures[0],
        milestone=None,
        text="请甲处加快推进。",
        due_on=datetime.date(2030, 7, 1),
        on=datetime.date(2030, 6, 1),
    )
    services.answer(user=builders.office_user(office_a), instruction=answered, text="已推进。")
    services.instruct(
        user=leader,
        measure=measures[1],
        milestone=m[2],
        text="请乙处7月1日前报送。",
        due_on=datetime.date(2030, 7, 1),
        on=datetime.date(2030, 6, 1),
    )
    assert ProgressReport.objects.approved().count() == 3
    assert Contribution.objects.count() == 1
    return plan


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def read(plan, quarter=2) -> Document:
    return Document(io.BytesIO(bulletin.render(plan, quarter, TODAY)))


def test_the_bulletins_figures(small_plan):
    document = read(small_plan)
    paragraphs = texts(document)

    assert paragraphs[:3] == ["督查通报", "2030年第2期", "某市知识产权局　　　　2030年7月15日"]
    assert "关于《某市2030年推进计划》第二季度推进情况的通报" in paragraphs
    assert (
        "计划共有进度节点4个,截至本季度应完成3个,其中已完成1个,进行中2个,滞后0个,逾期未完成"
        "2个,尚无审核通过进展的0个。总体完成率57%,序时进度100%。本季度应报送进展的进度节点2个,"
        "尚未报送1个。"
    ) in paragraphs
    areas, offices, units = document.tables
    assert table_rows(areas) == [
        ["工作领域", "应完成", "已完成", "进行中", "滞后", "逾期", "完成率"],
        ["(一)法规", "2", "1", "1", "0", "1", "70%"],
        ["(二)保护", "1", "0", "1", "0", "1", "30%"],
    ]
    assert table_rows(offices) == [
        ["责任处室", "应完成", "已完成", "逾期", "完成率", "应报送", "按时报送", "按时报送率"],
        ["甲处", "2", "1", "1", "70%", "2", "1", "50%"],
        ["乙处", "1", "0", "1", "30%", "2", "0", "0%"],
    ]
    assert table_rows(units) == [
        ["配合单位", "应报送", "已报送", "逾期", "按时报送率"],
        ["丙局", "1", "1", "0", "100%"],
    ]
    overdue = paragraphs.index("四、逾期未完成的进度节点")
    assert paragraphs[overdue + 1 : overdue + 3] == [
        "1. 1.措施1(节点2):事项(责任处室:甲处;已完成40%)",
        "2. 2.措施2(节点3):事项(责任处室:乙处;已完成30%)",
    ]
    assert "领导共作出批示2件,已办理1件,办理中0件,逾期未办理1件。" in paragraphs
    assert any("“请甲处加快推进。”" in p and "已办理(甲处已报送办理情况)" in p for p in paragraphs)
    assert any("“请乙处7月1日前报送。”" in p and "已逾期(乙处未签收)" in p for p in paragraphs)
    assert paragraphs[-2:] == ["某市知识产权局", "2030年7月15日"]


def test_the_bulletin_is_a4_portrait_with_page_numbers_and_chinese_fonts(small_plan, tmp_path):
    path = tmp_path / "bulletin.docx"
    path.write_bytes(bulletin.render(small_plan, 2, TODAY))
    document = Document(str(path))
    section = document.sections[0]

    # Word keeps sizes in twentieths of a point: 210 mm is 11906 twips, a hair over.
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert section.orientation == WD_ORIENT.PORTRAIT
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer
    normal = document.styles["Normal"].element.xml
    assert 'w:eastAsia="仿宋"' in normal
    title = document.paragraphs[0].runs[0]
    assert title.font.name == "宋体" and title.font.bold
    assert 'w:eastAsia="宋体"' in title._r.xml


def test_the_command_writes_the_file(small_plan, tmp_path, capsys):
    out = tmp_path / "q2.docx"
    call_command("bulletin", str(small_plan.pk), quarter=2, output=str(out), date=TODAY.isoformat())
    assert "督查通报" in texts(Document(str(out)))
    assert f"Wrote {out}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No plan"):
        call_command("bulletin", "999999", quarter=2, output=str(out))
    with pytest.raises(CommandError, match=".docx"):
        call_command("bulletin", str(small_plan.pk), quarter=2, output=str(tmp_path / "x.pdf"))


def test_the_dashboard_download(client, small_plan):
    client.force_login(make_user("leader2", roles.LEADER))
    response = client.get(reverse("bulletin-download") + f"?plan={small_plan.pk}&quarter=2")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bulletin-2030-q2.docx"'
    assert response.content[:2] == b"PK"


@pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice (soffice) is not installed: the PDF conversion cannot be tried here",
)
def test_libreoffice_converts_it_to_pdf(small_plan, tmp_path):
    path = tmp_path / "bulletin.docx"
    path.write_bytes(bulletin.render(small_plan, 2, TODAY))
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run(
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert (tmp_path / "bulletin.pdf").read_bytes().startswith(b"%PDF")


def test_the_bulletin_is_chinese_for_a_reader_of_the_english_interface(small_plan):
    with translation.override("en"):
        paragraphs = texts(read(small_plan))
    assert any("已办理(甲处已报送办理情况)" in p for p in paragraphs)
