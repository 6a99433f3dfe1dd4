"""Generated bad input (hypothesis) for everything that reads what people upload or post:
spreadsheets.reading.read_table, the plan intake (read_plan, then load), the offline upload,
the report form and the admin import.

Wrong types, huge strings (up to 100,000 characters), control characters, NUL bytes,
formulas ("=cmd|…", "+1", "-1", "@SUM"), random bytes and broken zip files go in. What must
come out: never a 500 (a page with a message, or a redirect after a save), never a partial
write (the database is as it was whenever the answer is a refusal), and always a message
(SheetError carries a Chinese sentence; the page shows an error).

Each example runs in a transaction that is rolled back, so every example starts from the
same data. The inputs that once crashed (found by these properties) have their own tests at
the end."""

import csv
import functools
import io
import operator
import re
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet import _read_only as openpyxl_read_only
from openpyxl.worksheet._reader import WorkSheetParser

from departments.models import Department
from plan.layout import PLAN_HEADERS
from plan.models import Action, Measure, Milestone, Plan, WorkArea
from spreadsheets import reading
from spreadsheets.reading import OLE_SIGNATURE, ZIP_SIGNATURE, SheetError, Work, read_table
from tasks import offline, services
from tasks.models import DONE_TEXT_MAX, Evidence, ProgressReport, ReportVersion

from . import builders, hostile

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SQLITE_MAX = 2**63 - 1

SETTINGS = hypothesis_settings(
    max_examples=50,
    deadline=None,
    database=None,  # write nothing into the tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the db is set up once; examples roll back
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FAST = hypothesis_settings(SETTINGS, max_examples=100)


# --- What goes in -----------------------------------------------------------------------

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "=1+1",
    '=HYPERLINK("http://example.com","x")',
    "+1",
    "-1",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "'=1",
]
CONTROL = "".join(map(chr, range(32))) + "\x7f\x85\u2028\u2029\ufeff\ufffe"


def huge(max_size: int = 100_000):
    """A long string cheaply: a short piece repeated, cut at up to `max_size` characters."""
    return st.builds(
        lambda piece, count: (piece * count)[:max_size],
        st.text(min_size=1, max_size=3),
        st.integers(min_value=1_000, max_value=max_size),
    )


texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL + "a中", max_size=20),
    st.builds(operator.add, st.sampled_from(FORMULAS), st.text(max_size=10)),
    st.sampled_from(["", " ", "未开始", "进行中", "已完成", "滞后", "100%", "50.5", "1e3", "--1"]),
    huge(),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
cells = st.one_of(st.none(), texts, numbers)
random_bytes = st.one_of(
    st.binary(max_size=2_000),
    st.builds(operator.add, st.sampled_from([ZIP_SIGNATURE, OLE_SIGNATURE]), st.binary()),
)


# U+FFFE, U+FFFF, and lone surrogates (st.characters() draws them; no file can hold one).
NONCHARACTERS = re.compile("[\ufffe\uffff\ud800-\udfff]")


def writable(value):
    """A value openpyxl writes as valid XML: it refuses most control characters and lone
    surrogates, and writes U+FFFE and U+FFFF into a worksheet its own reader cannot parse (a
    worksheet that does not parse is test_a_broken_worksheet_is_a_sheet_error)."""
    if not isinstance(value, str):
        return value
    return NONCHARACTERS.sub("", ILLEGAL_CHARACTERS_RE.sub("", value))


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([writable(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    return buffer.getvalue().encode(encoding, errors="replace")


#: How to break a valid file: (kind, where as a fraction of the length, what to put there).
corruptions = st.tuples(
    st.sampled_from(["truncate", "flip", "garbage", "prefix", "member"]),
    st.floats(min_value=0, max_value=1),
    st.binary(min_size=1, max_size=64),
)
#: Parts openpyxl reads when it opens the workbook (the worksheet itself it reads lazily:
#: see test_a_broken_worksheet_is_a_sheet_error).
EAGER_PARTS = (
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/styles.xml",
    "xl/_rels/workbook.xml.rels",
    "docProps/core.xml",
)


def corrupt(data: bytes, corruption) -> bytes:
    kind, where, junk = corruption
    at = int(len(data) * where)
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes(b ^ 0xFF for b in data[at : at + len(junk)]) + data[at + 64 :]
    if kind == "garbage":
        return data[:at] + junk + data[at:]
    if kind == "prefix":
        return junk + data
    member = EAGER_PARTS[int(where * (len(EAGER_PARTS) - 1))]
    return replace_member(data, member, lambda content: content[: len(content) // 2] + junk)


def replace_member(data: bytes, member: str, change) -> bytes:
    """The zip `data` with `member` rewritten by `change` (a valid zip, bad content)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == member else content)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _site_language():
    """Messages in the site's language (Chinese), whatever a test before left active."""
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


def assert_sheet_error(error: SheetError) -> None:
    assert error.message and CHINESE.search(error.message), repr(error.message)


# --- spreadsheets.reading.read_table -------------------------------------------------------

HEADERS = ["节点编号", "进展状态", "完成百分比", "完成情况"]
TABLE_BASE = xlsx_bytes([HEADERS, [1, "进行中", 50, "已完成初稿。"]])
names = st.sampled_from(["data.xlsx", "DATA.XLSX", "data.csv", "data.CSV", "data", "data.xls"])


def read_or_refuse(content: bytes, name: str):
    try:
        table = read_table(content, HEADERS, filename=name)
    except SheetError as error:
        assert_sheet_error(error)
        return None
    assert table.headers == HEADERS
    assert table.rows
    for number, values in table.rows:
        assert number >= 2
        assert len(values) == len(HEADERS)
    return table


@FAST
@given(content=random_bytes, name=names)
def test_read_table_refuses_random_bytes_with_a_message(content, name):
    read_or_refuse(content, name)


@FAST
@given(corruption=corruptions, name=st.sampled_from(["data.xlsx", "data.csv"]))
def test_read_table_refuses_a_broken_xlsx_with_a_message(corruption, name):
    read_or_refuse(corrupt(TABLE_BASE, corruption), name)


@FAST
@given(
    header=st.one_of(st.just(HEADERS), st.lists(cells, max_size=6)),
    rows=st.lists(st.lists(cells, max_size=6), max_size=4),
    kind=st.sampled_from(["xlsx", "utf-8-sig", "gb18030", "utf-16"]),
)
def test_read_table_reads_or_refuses_generated_cells(header, rows, kind):
    if kind == "xlsx":
        table = read_or_refuse(xlsx_bytes([header, *rows]), "data.xlsx")
    else:
        table = read_or_refuse(csv_bytes([header, *rows], kind), "data.csv")
    if table and kind == "xlsx":
        # Formulas never come through as values: refused (=…) or stored as text by Excel.
        for _number, values in table.rows:
            assert not any(isinstance(v, str) and v.startswith("=") for v in values)


# --- The plan intake: read_plan, then load ----------------------------------------------

PLAN_TABLES = (Plan, WorkArea, Measure, Action, Milestone, Department)


def plan_counts() -> dict:
    return {model.__name__: model.objects.count() for model in PLAN_TABLES}


def plan_rows() -> dict:
    """A small plan in the layout export_plan writes: two measures in one work area."""
    return {
        "A1": "生成的推进计划",
        "A2": "年度:2099;印发单位:生成局;印发日期:2099-01-15",
        **{f"{chr(64 + i)}3": header for i, header in enumerate(PLAN_HEADERS, start=1)},
        "A5": "(一)生成的工作领域",
        "A6": "1.第一项措施",
        "B6": "工作目标一",
        "C6": "1.具体措施一",
        "D6": "第一季度,开展调研",
        "E6": "生成局",
        "F6": "生成协会",
        "G6": "生成处",
        "C7": "2.具体措施二",
        "D7": "第二--四季度,全面推进",
        "A8": "2.第二项措施",
        "B8": "工作目标二",
        "C8": "1.具体措施",
        "D8": "第一阶段,试点",
        "E8": "生成局",
        "G8": "生成处、另一处",
    }


def plan_workbook(changes: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    for ref, value in {**plan_rows(), **changes}.items():
        sheet[ref] = writable(value)
    sheet.merge_cells("A1:S1")
    sheet.merge_cells("A2:S2")
    sheet.merge_cells("A5:S5")
    for column in "ABEFG":
        sheet.merge_cells(f"{column}6:{column}7")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PLAN_BASE = plan_workbook({})


plan_changes = st.dictionaries(
    st.builds(
        lambda column, row: f"{column}{row}",
        st.sampled_from("ABCDEFG"),
        st.integers(min_value=1, max_value=9),
    ),
    cells,
    max_size=3,
)


def import_or_refuse(content: bytes) -> None:
    with transaction.atomic():
        before = plan_counts()
        try:
            result = builders.import_plan(content)
        except SheetError as error:
            event("refused")
            assert_sheet_error(error)
            assert plan_counts() == before, "a refused plan left rows behind"
        else:
            event("imported")
            after = plan_counts()
            assert after["Plan"] == before["Plan"] + 1
            assert after["Measure"] == before["Measure"] + result.counts["measures"]
            assert after["Milestone"] == before["Milestone"] + result.counts["milestones"]
            assert after["Action"] == before["Action"] + result.counts["actions"]
        transaction.set_rollback(True)


@SETTINGS
@given(changes=plan_changes)
def test_import_plan_creates_the_plan_or_refuses_with_a_message(db, changes):
    import_or_refuse(plan_workbook(changes))


@SETTINGS
@given(content=st.one_of(random_bytes, corruptions.map(lambda c: corrupt(PLAN_BASE, c))))
def test_import_plan_refuses_bytes_and_broken_files_with_a_message(db, content):
    """A broken file is refused (a corruption that leaves it readable imports it)."""
    import_or_refuse(content)


def test_the_generated_plan_imports(db):
    """The base the properties change is a plan import_plan takes as it is."""
    result = builders.import_plan(plan_workbook({}))
    assert result.counts == {"work_areas": 1, "measures": 2, "actions": 3, "milestones": 3}


# --- The views --------------------------------------------------------------------------


def report_state() -> dict:
    return {
        "reports": list(
            ProgressReport.objects.order_by("pk").values_list(
                "pk", "version", "state", "status", "percent", "done_text", "problems_text"
            )
        ),
        "versions": ReportVersion.objects.count(),
        "evidence": Evidence.objects.count(),
    }


def page_shows_an_error(response) -> bool:
    text = response.content.decode()
    return any(
        mark in text
        for mark in ('class="errorlist', 'class="message error', "import-errors", "errornote")
    )


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def refused_or_saved(response, allowed=(200, 302)) -> None:
    event(f"status {response.status_code}")
    assert response.status_code in allowed, (
        response.status_code,
        getattr(response, "exc_info", None) and repr(response.exc_info[1])[:500],
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# The offline upload, as 专利管理处's staff.


def q4_keys(plan) -> list[int]:
    return list(
        Milestone.objects.scheduled_in(4)
        .filter(measure__work_area__plan=plan, measure__responsible_offices__name="专利管理处")
        .order_by("measure__number", "order")
        .values_list("pk", flat=True)
    )


#: A filled-in row's cells, right (first) and wrong (second).
GOOD_TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=30)
OFFLINE_CELLS = {
    "status": (st.sampled_from(["未开始", "进行中", "滞后"]), cells),
    "percent": (st.integers(min_value=0, max_value=99), cells),
    "done_text": (GOOD_TEXT, cells),
    "problems_text": (GOOD_TEXT, cells),
}


@st.composite
def offline_row(draw, key):
    """A row of the template for `key`, with some cells (or the key) wrong."""
    broken = draw(st.sets(st.sampled_from([*OFFLINE_CELLS, "key"]), max_size=2))
    row = dict.fromkeys(offline.FIELDS)
    row["key"] = draw(cells) if "key" in broken else key
    for field, (right, wrong) in OFFLINE_CELLS.items():
        row[field] = draw(wrong if field in broken else right)
    return [row[field] for field in offline.FIELDS]


@st.composite
def offline_files(draw, keys: list[int], template: bytes):
    """(name, content) of an upload: random bytes, a broken template, or a table of the
    template's columns with generated cells, as xlsx or CSV."""
    kind = draw(st.sampled_from(["bytes", "broken", "table", "table", "table", "table"]))
    name = draw(
        st.one_of(
            st.sampled_from(["填报表.xlsx", "填报表.csv"]),
            st.sampled_from(["填报表.XLSX", "填报表", "a.xls"]),
            st.builds(operator.add, st.text(max_size=20), st.sampled_from([".xlsx", ".csv"])),
        )
    )
    if kind == "bytes":
        return name, draw(random_bytes)
    if kind == "broken":
        return name, corrupt(template, draw(corruptions))
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
    rows = [draw(offline_row(key)) for key in chosen]
    header = draw(
        st.one_of(st.just(offline.headers()), st.just(offline.headers()), st.lists(cells))
    )
    if name.lower().endswith(".csv"):
        return name, csv_bytes([header, *rows], draw(st.sampled_from(["utf-8-sig", "gb18030"])))
    return name, xlsx_bytes([header, *rows])


@SETTINGS
@given(data=st.data())
def test_offline_upload_saves_or_refuses_with_a_message(db, staff, plan_2014, data):
    keys = q4_keys(plan_2014)
    buffer = io.BytesIO()
    offline.build_template(staff, plan_2014, 4).save(buffer)
    name, content = data.draw(offline_files(keys, buffer.getvalue()), label="file")
    client = client_for(staff)
    url = f"{reverse('offline-upload')}?plan={plan_2014.pk}&quarter=4"
    with transaction.atomic():
        before = report_state()
        response = client.post(url, {"file": SimpleUploadedFile(name, content)})
        refused_or_saved(response)
        if response.status_code == 200:
            assert report_state() == before, "a refused upload saved something"
            assert page_shows_an_error(response)
        else:
            assert response["Location"].startswith(reverse("my-work"))
            for report in ProgressReport.objects.all():
                report.full_clean()
        transaction.set_rollback(True)


# The report form, as 专利管理处's staff.

CURRENT = "the version the form was built from"
#: Each field of the report form: (right, wrong).
REPORT_FIELDS = {
    "status": (
        st.sampled_from(["not_started", "in_progress", "behind"]),
        st.one_of(st.sampled_from(ProgressReport.Status.values), texts),
    ),
    "percent": (
        st.integers(min_value=0, max_value=99),
        st.one_of(st.integers(min_value=-(10**30), max_value=10**30), texts, numbers),
    ),
    "version": (
        st.just(CURRENT),
        st.one_of(st.integers(min_value=0), st.integers(max_value=-1), texts),
    ),
    "done_text": (st.one_of(GOOD_TEXT.filter(str.strip), huge()), texts),
    "problems_text": (st.one_of(GOOD_TEXT, huge()), texts),
    "evidence": (
        st.one_of(st.none(), st.just(("佐证材料.pdf", PDF))),
        st.tuples(
            st.sampled_from(
                ["a.pdf", "a.PDF", "a.png", "a.exe", "a.pdf.exe", "无扩展名", ".pdf", "../../a.pdf"]
                + ["长" * 300 + ".pdf", "a\x00.pdf", "=cmd|' /C calc'!A0.pdf"]
            ),
            st.one_of(st.just(PDF), st.binary(max_size=200)),
        ),
    ),
}


def valid_version(value) -> bool:
    try:
        return int(str(value).strip()) >= 0
    except ValueError:
        return False


@SETTINGS
@given(
    target=st.sampled_from(["new", "draft"]),
    broken=st.sets(st.sampled_from(list(REPORT_FIELDS)), max_size=3),
    submit=st.booleans(),
    data=st.data(),
)
def test_report_form_saves_or_refuses_with_a_message(
    db, staff, plan_2014, media, target, broken, submit, data
):
    fields = {
        name: data.draw(wrong if name in broken else right, label=name)
        for name, (right, wrong) in REPORT_FIELDS.items()
    }
    due = Milestone.objects.scheduled_in(4).filter(measure__work_area__plan=plan_2014)
    with transaction.atomic():
        if target == "draft":
            milestone = due.get(measure__number=7, label="第四季度")
            builders.report(milestone, 4, state="draft")
        else:
            milestone = due.get(measure__number=8, label="第四季度")
        before = report_state()
        if fields["version"] == CURRENT:
            fields["version"] = 1 if target == "draft" else 0
        evidence = fields.pop("evidence")
        form = {**fields, "submit" if submit else "save": ""}
        if evidence is not None:
            form["evidence"] = SimpleUploadedFile(*evidence)
        response = client_for(staff).post(reverse("report-edit", args=[milestone.pk, 4]), form)
        refused_or_saved(response)
        if response.status_code == 302:
            report = ProgressReport.objects.get(milestone=milestone, quarter=4)
            report.full_clean()
            assert report.done_text == fields["done_text"].strip()
            assert report.version == 1 + (1 if target == "draft" else 0)
            assert ReportVersion.objects.count() == before["versions"] + 1
            assert Evidence.objects.count() == before["evidence"] + (evidence is not None)
        else:
            assert report_state() == before, "a refused save changed the report"
            if valid_version(fields["version"]):  # else: test_a_bad_version_is_shown_on_the_form
                assert page_shows_an_error(response)
        transaction.set_rollback(True)


# Filters in the query string, on every page that reads them.

QUERY_PAGES = {
    "leader": ["dashboard", "dashboard-changes", "dashboard-xlsx", "dashboard-measure", "my-work"],
    "staff": ["my-work", "offline-download", "offline-upload", "plan-latest"],
}
query_values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["1", "4", "5", "0", "１", "١", "²", "done", "overdue", "red"]),
    texts,
)


@SETTINGS
@given(
    who=st.sampled_from(sorted(QUERY_PAGES)),
    data=st.data(),
    query=st.dictionaries(
        st.sampled_from(["plan", "quarter", "area", "office", "status", "from", "to"]),
        query_values,
        max_size=4,
    ),
)
def test_filters_in_the_query_string_never_break_a_page(
    db, staff, leader, plan_2014, who, data, query
):
    name = data.draw(st.sampled_from(QUERY_PAGES[who]), label="page")
    user = {"staff": staff, "leader": leader}[who]
    args = [Measure.objects.filter(work_area__plan=plan_2014).first().pk]
    url = reverse(name, args=args if name == "dashboard-measure" else [])
    response = client_for(user).get(url, query)
    refused_or_saved(response, allowed=(200, 302))


# Text saved through the form comes back out in every xlsx export, never as a formula.

#: What the form takes (no NUL, something to submit), without the characters that break the
#: exports (test_a_control_character_in_a_report_does_not_break_the_exports).
EXPORT_TEXT = (
    st.one_of(st.builds(operator.add, st.sampled_from(FORMULAS), st.text(max_size=10)), texts)
    .map(writable)
    .map(lambda text: text[:DONE_TEXT_MAX])  # the longest a report holds (issue #13)
    .filter(lambda text: text.strip() and "\x00" not in text)
)


def formula_cells(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    return [
        cell.coordinate
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))
    ]


@hypothesis_settings(SETTINGS, max_examples=12)  # each example builds two whole workbooks
@given(done_text=EXPORT_TEXT, problems_text=EXPORT_TEXT)
def test_exports_carry_saved_text_as_text(
    db, staff, reviewer, leader, plan_2014, done_text, problems_text
):
    milestone = Milestone.objects.get(
        measure__work_area__plan=plan_2014, measure__number=8, label="第四季度"
    )
    with transaction.atomic():
        saved = client_for(staff).post(
            reverse("report-edit", args=[milestone.pk, 4]),
            {
                "version": 0,
                "status": "in_progress",
                "percent": 50,
                "done_text": done_text,
                "problems_text": problems_text,
                "submit": "",
            },
        )
        assert saved.status_code == 302
        report = ProgressReport.objects.get(milestone=milestone, quarter=4)
        services.review_report(
            reviewer=reviewer,
            report_id=report.pk,
            base_version=report.version,
            approve=True,
            comment="",
        )
        downloads = {
            "offline": client_for(staff).get(
                reverse("offline-download"), {"plan": plan_2014.pk, "quarter": 4}
            ),
            "plan": client_for(leader).get(reverse("plan-xlsx", args=[plan_2014.pk])),
        }
        for name, response in downloads.items():
            refused_or_saved(response, allowed=(200,))
            assert formula_cells(response.content) == [], name
        transaction.set_rollback(True)


# The admin import (django-import-export), as a superuser: the preview writes nothing.


def admin_tables() -> dict:
    tables = [Department, Measure, Action, Milestone, ProgressReport, ReportVersion]
    tables += [Measure.responsible_offices.through, Measure.cooperating_units.through]
    return {model.__name__: model.objects.count() for model in tables}


@SETTINGS
@given(data=st.data())
def test_admin_import_refuses_with_a_message_and_writes_nothing(db, admin_user, plan_2014, data):
    """Uploads (the preview) of generated files, and of the admin's own export with a few
    cells changed."""
    resources = pytest.importorskip("departments.resources")
    task_resources = pytest.importorskip("tasks.resources")
    plan_resources = pytest.importorskip("plan.resources")
    models = {
        Department: resources.DepartmentResource,
        Measure: plan_resources.MeasureResource,
        Action: plan_resources.ActionResource,
        Milestone: plan_resources.MilestoneResource,
        ProgressReport: task_resources.ProgressReportResource,
    }
    if not ProgressReport.objects.exists():
        builders.report(
            Milestone.objects.get(measure__number=7, label="第四季度"), 4, state="draft"
        )
    model = data.draw(st.sampled_from(list(models)), label="model")
    resource = models[model]()
    headers = resource.headers()
    kind = data.draw(st.sampled_from(["exported", "table", "broken", "bytes", "exported"]))
    if kind == "exported":
        rows = [list(values) for values in resource.export()][:3]
        for _change in range(data.draw(st.sampled_from([0, 0, 1, 1, 2]))):
            row = data.draw(st.sampled_from(rows))
            row[data.draw(st.integers(min_value=0, max_value=len(row) - 1))] = data.draw(cells)
        header = headers
    else:
        rows = data.draw(st.lists(st.lists(cells, max_size=len(headers)), min_size=1, max_size=3))
        header = data.draw(st.one_of(st.just(headers), st.lists(cells, max_size=len(headers))))
    as_csv = data.draw(st.booleans(), label="csv")
    if kind == "bytes":
        content = data.draw(random_bytes, label="content")
    elif kind == "broken":
        content = corrupt(xlsx_bytes([headers, *rows]), data.draw(corruptions))
    elif as_csv:
        content = csv_bytes([header, *rows], data.draw(st.sampled_from(["utf-8-sig", "gbk"])))
    else:
        content = xlsx_bytes([header, *rows])
    # The format chosen on the form: mostly the file's own, sometimes the other one.
    file_format = data.draw(st.sampled_from(["1"] * 4 + ["0"] if as_csv else ["0"] * 4 + ["1"]))
    name = "data.csv" if as_csv else "data.xlsx"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_import")
    client = client_for(admin_user)
    with transaction.atomic():
        before = admin_tables()
        response = client.post(
            url,
            {
                "import_file": SimpleUploadedFile(name, content),
                "format": file_format,
                "resource": "0",
            },
        )
        refused_or_saved(response, allowed=(200,))
        assert admin_tables() == before, "the preview wrote something"
        confirm_form = response.context.get("confirm_form")
        if not confirm_form:
            assert page_shows_an_error(response)
        else:  # confirm: all rows are written, or none
            fields = ("import_file_name", "original_file_name", "format", "resource")
            done = client.post(
                url.replace("/import/", "/process_import/"),
                {field: confirm_form.initial[field] for field in fields},
            )
            event(f"confirmed: status {done.status_code}")
            assert done.status_code == 302, getattr(done, "exc_info", None)
            if not done["Location"].endswith("/import/"):  # else refused, with a message
                assert done["Location"] == url.replace("import/", "")
            else:
                assert admin_tables() == before
        transaction.set_rollback(True)


# --- Inputs that once crashed -------------------------------------------------------------


def swap_text(content: bytes, text: str, new: bytes) -> bytes:
    """`text` in sheet XML replaced by the raw bytes `new`, whether the writer wrote it as UTF-8
    or as character references (openpyxl with lxml does)."""
    reference = "".join(f"&#{ord(ch)};" for ch in text).encode()
    return content.replace(text.encode(), new).replace(reference, new)


def broken_worksheets() -> dict[str, bytes]:
    sheet = "xl/worksheets/sheet1.xml"
    return {
        "truncated-xml": replace_member(TABLE_BASE, sheet, lambda c: c[: len(c) // 2]),
        "control-character": replace_member(
            TABLE_BASE, sheet, lambda c: swap_text(c, "已完成初稿", b"\x01\x00")
        ),
        "noncharacter": replace_member(
            TABLE_BASE, sheet, lambda c: swap_text(c, "已完成初稿", "\ufffe".encode())
        ),
        "number-that-is-not": replace_member(
            TABLE_BASE, sheet, lambda c: c.replace(b"<v>50</v>", b"<v>abc</v>")
        ),
    }


@pytest.mark.parametrize("name", list(broken_worksheets()))
def test_a_broken_worksheet_is_a_sheet_error(name):
    with pytest.raises(SheetError):
        read_table(broken_worksheets()[name], HEADERS, filename="data.xlsx")


def test_a_broken_worksheet_uploaded_offline_gets_a_message(db, staff, plan_2014):
    content = broken_worksheets()["truncated-xml"]
    response = client_for(staff).post(
        f"{reverse('offline-upload')}?plan={plan_2014.pk}&quarter=4",
        {"file": SimpleUploadedFile("填报表.xlsx", content)},
    )
    assert response.status_code == 200
    assert page_shows_an_error(response)


def test_a_csv_field_over_the_csv_limit_is_a_sheet_error():
    content = csv_bytes([HEADERS, [1, "进行中", 50, "长" * 140_000]], "utf-8-sig")
    with pytest.raises(SheetError):
        read_table(content, HEADERS, filename="data.csv")


@pytest.mark.parametrize("key", ["9" * 30, "²", 10**30], ids=["long-digits", "superscript", "huge"])
def test_an_offline_key_that_is_not_a_small_number_is_a_message(db, staff, plan_2014, key):
    row = [key, None, None, None, None, "进行中", 50, "已完成初稿。", None, None]
    content = xlsx_bytes([offline.headers(), row])
    response = client_for(staff).post(
        f"{reverse('offline-upload')}?plan={plan_2014.pk}&quarter=4",
        {"file": SimpleUploadedFile("填报表.xlsx", content)},
    )
    assert response.status_code == 200
    assert "节点编号" in response.content.decode()


def test_a_plan_number_too_long_for_int_is_a_sheet_error(db):
    with pytest.raises(SheetError):
        builders.import_plan(plan_workbook({"A6": "9" * 5000 + ".措施"}))


@pytest.mark.parametrize(
    "changes",
    [{"A6": "70000.措施"}, {"A6": "1." + "长" * 400}, {"C6": "99999.具体措施"}],
    ids=["measure-number", "measure-title", "action-number"],
)
def test_a_plan_value_beyond_the_models_limits_is_a_sheet_error(db, changes):
    with pytest.raises(SheetError):
        builders.import_plan(plan_workbook(changes))


@pytest.mark.parametrize("version", ["abc", "-1", ""])
def test_a_bad_version_is_shown_on_the_form(db, staff, plan_2014, version):
    milestone = Milestone.objects.get(
        measure__work_area__plan=plan_2014, measure__number=8, label="第四季度"
    )
    response = client_for(staff).post(
        reverse("report-edit", args=[milestone.pk, 4]),
        {
            "version": version,
            "status": "in_progress",
            "percent": 50,
            "done_text": "已完成调研。",
            "problems_text": "",
            "save": "",
        },
    )
    assert response.status_code == 200
    assert not ProgressReport.objects.exists()
    assert page_shows_an_error(response)


@pytest.mark.parametrize("model", [Measure, ProgressReport], ids=["measure", "report"])
@pytest.mark.parametrize("year", [10**30, "9" * 25], ids=["number", "text"])
def test_a_huge_year_in_an_admin_import_is_a_message(db, admin_user, plan_2014, model, year):
    resources = pytest.importorskip("tasks.resources")
    resource = {
        Measure: pytest.importorskip("plan.resources").MeasureResource,
        ProgressReport: resources.ProgressReportResource,
    }
    headers = resource[model]().headers()
    row = [year if header == "年度" else None for header in headers]
    before = admin_tables()
    response = client_for(admin_user).post(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_import"),
        {
            "import_file": SimpleUploadedFile("data.xlsx", xlsx_bytes([headers, row])),
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    assert admin_tables() == before
    assert page_shows_an_error(response)


@pytest.mark.parametrize("name", ["my-work", "dashboard"])
def test_a_plan_id_too_long_for_int_is_not_a_500(db, leader, plan_2014, name):
    response = client_for(leader).get(reverse(name), {"plan": "9" * 5000})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["offline-download", "plan-xlsx"])
def test_a_control_character_in_a_report_does_not_break_the_exports(
    db, staff, reviewer, leader, plan_2014, name
):
    milestone = Milestone.objects.get(
        measure__work_area__plan=plan_2014, measure__number=8, label="第四季度"
    )
    report = builders.report(milestone, 4, text="第一行\x0b第二行", reviewer=reviewer)
    assert report.state == ProgressReport.State.APPROVED
    if name == "offline-download":
        response = client_for(staff).get(reverse(name), {"plan": plan_2014.pk, "quarter": 4})
    else:
        response = client_for(leader).get(reverse(name, args=[plan_2014.pk]))
    assert response.status_code == 200


# --- Hostile workbooks on every upload path (issue #13) -----------------------------------
# Each is uploaded through the offline upload, the admin import and the plan import. What
# must come out: read or refused with a Chinese message, never a 500, nothing written, and
# bounded work: the rows and cells the sheet parser really visits are counted (no clocks).


class CountedParser(WorkSheetParser):
    """openpyxl's sheet parser, counting the rows and cells it yields."""

    work = Work()

    def parse(self):
        for number, cells in super().parse():
            CountedParser.work.rows += 1
            CountedParser.work.cells += len(cells)
            yield number, cells


@pytest.fixture
def counted(monkeypatch):
    """The work every sheet parse does during a test, whoever parses."""
    CountedParser.work = Work()
    monkeypatch.setattr(reading, "WorkSheetParser", CountedParser)
    monkeypatch.setattr(openpyxl_read_only, "WorkSheetParser", CountedParser)
    return CountedParser.work


@functools.cache
def hostile_files(path: str) -> dict[str, bytes]:
    """Each attack, built around a table the path would otherwise accept."""
    if path == "offline":
        header, rows = (
            ["节点编号", "进展状态", "完成百分比", "完成情况"],
            [["1", "进行中", 50, "x"]],
        )
    elif path == "admin":
        header, rows = (
            ["名称", "类别", "其他写法", "泛指", "排序"],
            [["生成处", "处室", "", "否", 1]],
        )
    else:
        header = ["生成的推进计划"]
        rows = [["年度:2099;印发单位:生成局;印发日期:2099-01-15"], PLAN_HEADERS, []]
    text_over_the_limit = reading.MAX_SHARED_STRINGS_BYTES // 20 + 1000
    return {
        "lying-dimension": hostile.lying_dimension(header, rows),
        "cell-at-XFD1048576": hostile.far_cell(header, rows),
        "value-in-row-1048576": hostile.far_row(header, rows),
        "shared-strings-over-the-limit": hostile.many_strings(header, text_over_the_limit),
        "shared-strings-50000": hostile.many_strings(header, 50_000),
        "xml-50000-deep": hostile.deep_xml(header, 50_000),
        "entity-bomb": hostile.entity_bomb(header),
        "60-sheets": hostile.many_sheets(header, rows, 60),
        "3-sheets": hostile.many_sheets(header, rows, 3),
        "600-parts": hostile.many_parts(header, rows, 600),
        "zip-bomb": hostile.zip_bomb(header),
        "understated-zip-directory": hostile.understated(hostile.table(header, rows * 50)),
        "rows-past-the-limit": hostile.many_rows(header, 40, rows[0]),
    }


HOSTILE = list(hostile_files("admin"))


def upload_offline(content: bytes, staff, plan) -> None:
    client = client_for(staff)
    url = f"{reverse('offline-upload')}?plan={plan.pk}&quarter=4"
    before = report_state()
    response = client.post(url, {"file": SimpleUploadedFile("data.xlsx", content)})
    assert response.status_code == 200, getattr(response, "exc_info", None)
    assert page_shows_an_error(response)
    assert CHINESE.search(response.content.decode())
    assert report_state() == before


def upload_admin(content: bytes, admin, plan) -> None:
    client = client_for(admin)
    before = admin_tables()
    response = client.post(
        reverse("admin:departments_department_import"),
        {"import_file": SimpleUploadedFile("data.xlsx", content), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200, getattr(response, "exc_info", None)
    assert admin_tables() == before
    if not response.context.get("confirm_form"):
        assert page_shows_an_error(response)


def upload_plan(content: bytes, user, plan) -> None:
    before = plan_counts()
    with pytest.raises(SheetError) as refused:
        builders.import_plan(content, dry_run=True)
    assert_sheet_error(refused.value)
    assert plan_counts() == before


@pytest.mark.parametrize("attack", HOSTILE)
@pytest.mark.parametrize("path", ["offline", "admin", "plan"])
def test_a_hostile_workbook_is_read_or_refused_with_bounded_work(
    db, staff, admin_user, plan_2014, settings, counted, path, attack
):
    settings.IMPORT_MAX_ROWS = 20  # "rows-past-the-limit" has 40
    content = hostile_files(path)[attack]
    upload = {"offline": upload_offline, "admin": upload_admin, "plan": upload_plan}[path]
    upload(content, {"offline": staff, "admin": admin_user, "plan": None}[path], plan_2014)
    # The rows and cells really in the file, not the 17 billion a dimension claims; a row
    # past the limit stops the read.
    assert counted.rows <= 60, counted
    assert counted.cells <= 250, counted


@st.composite
def sparse_sheets(draw):
    """A sheet of a few cells anywhere in the grid (row up to 1,048,576, column up to XFD),
    under a header row, with a <dimension> that may claim anything."""
    cells = draw(
        st.lists(
            st.tuples(
                st.one_of(st.integers(2, 40), st.integers(2, 1_048_576)),
                st.one_of(st.integers(1, 6), st.integers(1, 16_384)),
                st.one_of(st.integers(0, 100), st.text(max_size=10), st.just("=1+1")),
            ),
            max_size=12,
            unique_by=lambda cell: cell[:2],
        )
    )
    by_row: dict[int, dict[int, object]] = {}
    for row, column, value in cells:
        by_row.setdefault(row, {})[column] = value
    rows = [(1, list(HEADERS))]
    for row in sorted(by_row):
        width = max(by_row[row])
        rows.append((row, [by_row[row].get(c) for c in range(1, width + 1)]))
    dimension = draw(st.sampled_from([None, "A1:XFD1048576", "A1:D2", "B3:A1", "ZZZ9"]))
    return len(cells), hostile.workbook([hostile.sheet_xml(hostile.rows_xml(rows), dimension)])


@FAST
@given(sheet=sparse_sheets())
def test_a_sparse_sheet_anywhere_in_the_grid_costs_only_its_cells(sheet):
    """Work is the cells present, whatever rows, columns and dimension the sheet has."""
    count, content = sheet
    work = Work()
    try:
        workbook = reading.open_xlsx(content)
        for _values in reading.xlsx_rows(workbook.worksheets[0], width=len(HEADERS), work=work):
            pass
    except SheetError as error:
        assert_sheet_error(error)
    assert work.cells <= count + len(HEADERS)
    assert work.rows <= count + 1
    read_or_refuse(content, "sparse.xlsx")
