#!/usr/bin/env python3
"""Benchmarks at province-wide and nation-wide scale, measured as ratios in one run.

    .venv/bin/python bench/run.py                     # province: 410 plans (`make bench`)
    .venv/bin/python bench/run.py --size national     # 3,300 plans (`make bench SIZE=national`)
    .venv/bin/python bench/run.py --plans 3 --rows 200 --runs 2 --io-runs 1 \\
        --load-seconds 2 --load-rounds 1 --output /tmp/r.json   # tiny (tests/test_bench.py)

Everything runs on PostgreSQL with DEBUG off, in two databases of its own, dropped and
created again at the start and dropped at the end (--keep-db keeps them):

1. plantracker_bench ("alone"): migrate, the 2014 plan, one account per role, then
   `generate_bench_data --plans 1`: the 2014 template and one copy with a year of reports and
   their history. That copy is "the plan" whose pages are measured.
2. plantracker_bench_scale: a copy of the first (CREATE DATABASE … TEMPLATE, so the plan has
   the same ids), then `generate_bench_data` for the rest: 410 copies in all for a province,
   3,300 for the nation.
3. Pages, in-process with django.test.Client: every main page's SQL queries are counted in
   each database (CaptureQueriesContext); the plan's dashboard overview and an office's
   我的工作 are timed --runs times in each, alternating between the two databases run by run
   (so that whatever else the machine does falls on both alike), each timing after a warm-up
   request. The scale ratios are the medians at scale ÷ the medians alone.
4. Import and export (scale database): --rows (10,000) progress rows imported from an xlsx
   file through ProgressReportResource.import_data (dry_run=False; what the admin's import
   runs, file reading included) ÷ openpyxl load_workbook(read_only=True) reading every cell
   of the same file; exported through the resource and the admin's xlsx format ÷ openpyxl
   Workbook(write_only=True) writing the same cells. Each run next to its baseline, one
   warm-up run, medians of --io-runs.
5. The import's peak memory: a child process sets Django up and imports the same file; its
   peak resident set size (VmHWM: interpreter, Django, file and import together), and what it
   was before the import.
6. update_vs_trivial (scale database): scripts/loadserver.py's gunicorn, --workers threaded
   workers (gthread, --threads each) keeping connections alive, production settings (DEBUG
   off, DATABASE_CONN_MAX_AGE=60 as docs/deploy.md sets it), on 127.0.0.1. --clients threads
   each log in with their own session and keep one connection; for --load-seconds they
   GET /ping/, then for as long they save their own report (a distinct milestone each, the
   version kept in the client) through the real form view; --load-rounds rounds (15 × 2 s
   each, so that pings and saves alternate often and a slower spell of the machine falls on
   both alike). Throughput = successful requests / s; the ratio is the median of the
   rounds' ratios.

Writes --output (bench/results.json) and prints a table. Loopback only; every load loop is
bounded in requests and seconds.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import http.cookies
import importlib.util
import io
import json
import math
import os
import platform
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SIZES = {"province": 410, "national": 3300}
GOALS = {
    "dashboard_scale_ratio": ("<=", 1.3),
    "workspace_scale_ratio": ("<=", 1.3),
    "max_queries_per_page": ("<=", 12),
    "import_vs_openpyxl": ("<=", 2.0),
    "export_vs_openpyxl": ("<=", 1.5),
    "update_vs_trivial": (">=", 0.5),
    "import_peak_mb": ("<=", 150),
    "admin_preview_vs_import": ("<=", 1.5),
    "plan_import_scale_ratio": ("<=", 1.2),
}
OFFICE = "专利管理处"  # responsible for measures 3, 7, 8, 18 and 19 of the 2014 plan
MAX_REQUESTS_PER_CLIENT = 100_000  # the load loops stop at this count or at their deadline
REQUEST_TIMEOUT = 20.0


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def load_script(name: str):
    """Imports scripts/<name>.py (scripts/ is not a package)."""
    path = BASE_DIR / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"plantracker_scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def configure_django(database_url: str, media_root: str) -> None:
    """Production-like settings (DEBUG off) on the bench database, then django.setup()."""
    for key in list(os.environ):
        if key.startswith(("DJANGO_", "PLANTRACKER_", "DATABASE_")):
            del os.environ[key]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="plantracker.settings",
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_SSL_REDIRECT="false",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_MEDIA_ROOT=media_root,
    )
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


# --- Set-up -----------------------------------------------------------------------------


def set_up(quiet: bool) -> dict:
    """Schema, the 2014 plan, collected static files and one account per role."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db.models import Count

    from departments import roles
    from departments.models import Department
    from plan.models import Plan

    call_command("migrate", interactive=False, verbosity=0)
    call_command("ensure_plan", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    User = get_user_model()

    def user(name, role, *departments, **extra):
        account = User.objects.create_user(name, password=secrets.token_urlsafe(12), **extra)
        account.groups.add(Group.objects.get_or_create(name=role)[0])
        for department in departments:
            department.members.add(account)
        return account

    template = Plan.objects.get(year=2014)
    office = Department.objects.get(name=OFFICE)
    unit = (
        Department.objects.filter(generic=False, cooperating_measures__work_area__plan=template)
        .annotate(n=Count("cooperating_measures"))
        .order_by("-n", "pk")
        .first()
    )
    users = {
        # The first account: generate_bench_data writes the reports as it.
        "admin": user("bench_admin", roles.ADMIN, is_staff=True, is_superuser=True),
        "staff": user("bench_staff", roles.STAFF, office),
        "reviewer": user("bench_reviewer", roles.REVIEWER),
        "leader": user("bench_leader", roles.LEADER),
        "unit": user("bench_unit", roles.UNIT, unit),
    }
    if not quiet:
        log(f"set up: 2014 plan, accounts; cooperating unit {unit.name}")
    return users


def generate(plans: int, quiet: bool) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("generate_bench_data", plans=plans, verbosity=0 if quiet else 1)
    return time.perf_counter() - started


def counts() -> dict:
    from plan.models import Milestone, Plan
    from tasks.models import ProgressReport, ReportVersion

    return {
        "plans": Plan.objects.count(),
        "milestones": Milestone.objects.count(),
        "reports": ProgressReport.objects.count(),
        "versions": ReportVersion.objects.count(),
    }


# --- Pages ------------------------------------------------------------------------------


def page_urls(plan, users) -> dict[str, tuple[str, str]]:
    """Every main page of `plan`: name -> (account, URL). The plan is published so that its
    public page is served."""
    from django.urls import reverse

    from departments.models import Department
    from plan.models import Measure, Milestone
    from tasks.models import ProgressReport

    office = Department.objects.get(name=OFFICE)
    milestone = (
        Milestone.objects.filter(measure__work_area__plan=plan, measure__responsible_offices=office)
        .exclude(first_quarter=None)
        .order_by("measure__work_area__order", "measure__number", "order")
        .first()
    )
    report = (
        ProgressReport.objects.filter(milestone__measure__work_area__plan=plan)
        .order_by("milestone__measure__work_area__order", "milestone__measure__number", "pk")
        .first()
    )
    measure = Measure.objects.filter(work_area__plan=plan).order_by("pk").first()
    q = f"?plan={plan.pk}"
    return {
        "plan document": ("leader", reverse("plan-document", args=[plan.pk])),
        "my work": ("staff", reverse("my-work") + q),
        "report form": (
            "staff",
            reverse("report-edit", args=[milestone.pk, milestone.first_quarter]),
        ),
        "report detail": ("reviewer", reverse("report-detail", args=[report.pk])),
        "review queue": ("reviewer", reverse("review-queue") + q),
        "dashboard overview": ("leader", reverse("dashboard") + q),
        "dashboard measure": ("leader", reverse("dashboard-measure", args=[measure.pk])),
        "dashboard changes": ("leader", reverse("dashboard-changes") + q),
        "unit work": ("unit", reverse("unit-work") + q),
        "public plan": ("anonymous", reverse("public-plan", args=[plan.pk])),
        "offline template": ("staff", reverse("offline-download") + q),
    }


def clients(users) -> dict:
    from django.test import Client

    result = {"anonymous": Client()}
    for role, user in users.items():
        result[role] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        result[role].force_login(user)
    return result


def get_ok(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: status {response.status_code}")
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response


def count_queries(pages, browsers) -> dict[str, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = {}
    for name, (role, url) in pages.items():
        get_ok(browsers[role], url)  # warm: translations, templates, lazy imports
        cache.clear()  # the public page is cached: count its uncached queries
        with CaptureQueriesContext(connection) as captured:
            get_ok(browsers[role], url)
        result[name] = len(captured.captured_queries)
    return result


def use_database(name: str) -> None:
    """Points Django's default connection at another database of the same server."""
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = name


def clone_database(loadserver, pg_url: str, source: str, target: str) -> None:
    """CREATE DATABASE target TEMPLATE source: the same rows, the same ids."""
    from django.db import connections

    connections.close_all()
    loadserver.drop_database(pg_url, target)
    connection = loadserver._connect(pg_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    connection.close()


def timed_get(client, url: str) -> float:
    started = time.perf_counter()
    get_ok(client, url)
    return time.perf_counter() - started


TIMED_PAGES = {"dashboard": "dashboard overview", "workspace": "my work"}


def measure_pages(pages, browsers, databases: dict[str, str], runs: int) -> dict:
    """Query counts of every page in each database; then the timed pages, alternating
    between the databases run by run (so that whatever else the machine does falls on both
    alike), each after one warm-up request. Medians of `runs`."""
    result = {}
    for label, name in databases.items():
        use_database(name)
        for role, url in pages.values():
            for _ in range(3):
                get_ok(browsers[role], url)
        result[label] = {"queries": count_queries(pages, browsers)}
        result[label]["times"] = {key: [] for key in TIMED_PAGES}
    order = list(databases.items())
    for run in range(runs):
        for label, name in order if run % 2 == 0 else order[::-1]:
            use_database(name)
            for key, page in TIMED_PAGES.items():
                role, url = pages[page]
                get_ok(browsers[role], url)  # a new connection; warm
                result[label]["times"][key].append(timed_get(browsers[role], url))
    for label in databases:
        result[label]["median_ms"] = {
            key: round(median(values) * 1000, 2) for key, values in result[label]["times"].items()
        }
    return result


# --- Import and export ------------------------------------------------------------------

IMPORT_YEAR = 2030  # a year no generated plan has: the import finds its plan by year


def import_plan(rows: int):
    """A plan of `rows` report slots: measures of four milestones spanning the year, as
    tests/test_admin_import_export.py's big_plan."""
    from departments.models import Department
    from plan.models import Measure, Milestone, Plan, WorkArea

    office = Department.objects.get(name=OFFICE)
    plan = Plan.objects.create(year=IMPORT_YEAR, title="导入基准计划", issuer=office)
    area = WorkArea.objects.create(plan=plan, numeral="一", title="领域", order=1)
    count = math.ceil(rows / 16)
    measures = Measure.objects.bulk_create(
        Measure(
            work_area=area, number=n, title=f"措施{n}", goal="目标", executing_department=office
        )
        for n in range(1, count + 1)
    )
    Measure.responsible_offices.through.objects.bulk_create(
        Measure.responsible_offices.through(measure_id=m.pk, department_id=office.pk)
        for m in measures
    )
    Milestone.objects.bulk_create(
        Milestone(measure=m, order=o, label="全年", first_quarter=1, last_quarter=4, text="安排")
        for m in measures
        for o in range(1, 5)
    )
    return plan


def import_file(rows: int) -> bytes:
    """`rows` progress rows in the admin's import layout (xlsx)."""
    from openpyxl import Workbook

    from tasks.resources import ProgressReportResource

    quarters = ["第一季度", "第二季度", "第三季度", "第四季度"]
    measures = math.ceil(rows / 16)

    def all_rows():
        for n in range(1, measures + 1):
            for o in range(1, 5):
                for quarter in quarters:
                    yield [
                        IMPORT_YEAR,
                        n,
                        "全年",
                        o,
                        quarter,
                        "进行中",
                        (n + o) % 100,
                        f"措施{n}第{o}项:按计划推进,完成阶段目标。",
                        "",
                        "已提交",
                        "",
                        None,  # 版本号: new reports
                    ]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(ProgressReportResource().headers())
    for index, row in enumerate(all_rows()):
        if index == rows:
            break
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def reset_import(plan) -> None:
    from tasks.models import ProgressReport, ReportVersion

    ReportVersion.objects.filter(report__milestone__measure__work_area__plan=plan).delete()
    ProgressReport.objects.filter(milestone__measure__work_area__plan=plan).delete()


def run_import(content: bytes, user, rows: int) -> None:
    """What the admin's import runs: the upload read into a dataset, then import_data."""
    from spreadsheets.importing import XLSX
    from tasks.resources import ProgressReportResource

    dataset = XLSX().create_dataset(content)
    result = ProgressReportResource().import_data(dataset, dry_run=False, user=user)
    if result.has_errors() or result.has_validation_errors():
        rows_ = result.invalid_rows[:1] or result.error_rows[:1]
        raise RuntimeError(f"import failed: {rows_}")
    if result.totals["new"] != rows:
        raise RuntimeError(f"import created {result.totals['new']} reports, not {rows}")


def admin_preview(client, content: bytes, rows: int) -> None:
    """The admin's import page, "preview" step: the upload posted (xlsx) as the admin does,
    read, checked in a dry run and the page rendered, offering to confirm."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = client.post(
        reverse("admin:tasks_progressreport_import"),
        {
            "import_file": SimpleUploadedFile("import.xlsx", content),
            "format": "0",  # xlsx, the first of spreadsheets.importing's formats
            "resource": "0",
        },
    )
    page = response.content.decode()
    confirm = reverse("admin:tasks_progressreport_process_import")
    if response.status_code != 200 or confirm not in page or f"共{rows}行" not in page:
        raise RuntimeError(f"admin preview: status {response.status_code}, no confirm form")


def openpyxl_read(content: bytes) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    cells = 0
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        for _value in row:
            cells += 1
    workbook.close()
    return cells


def run_export(plan) -> tuple[bytes, object]:
    """What the admin's xlsx export runs for the plan's reports."""
    from spreadsheets.importing import XLSX
    from tasks.models import ProgressReport
    from tasks.resources import ProgressReportResource

    queryset = ProgressReport.objects.filter(milestone__measure__work_area__plan=plan)
    dataset = ProgressReportResource().export(queryset=queryset, force_native_type=True)
    return XLSX().export_data(dataset), dataset


def openpyxl_write(headers, rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed(function, *args):
    gc.collect()
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def measure_import_export(users, rows: int, runs: int, workdir: Path, database_url: str) -> dict:
    plan = import_plan(rows)
    content = import_file(rows)
    user = users["admin"]
    from django.test import Client

    admin = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    admin.force_login(user)
    imports, reads, exports, writes, previews = [], [], [], [], []
    for _ in range(runs + 1):  # the first run warms up
        reset_import(plan)
        seconds, _ = timed(admin_preview, admin, content, rows)
        previews.append(seconds)
        seconds, _ = timed(run_import, content, user, rows)
        imports.append(seconds)
        seconds, cells = timed(openpyxl_read, content)
        reads.append(seconds)
        seconds, (_exported, dataset) = timed(run_export, plan)
        exports.append(seconds)
        seconds, _written = timed(openpyxl_write, list(dataset.headers), [list(r) for r in dataset])
        writes.append(seconds)
        if dataset.height != rows:
            raise RuntimeError(f"exported {dataset.height} rows, not {rows}")
    imports, reads, exports, writes = imports[1:], reads[1:], exports[1:], writes[1:]
    previews = previews[1:]

    reset_import(plan)
    path = workdir / "import.xlsx"
    path.write_bytes(content)
    memory = import_memory(path, database_url, user.pk, rows)
    reset_import(plan)
    return {
        "rows": rows,
        "cells": cells,
        "file_kb": round(len(content) / 1024),
        "import_s": round(median(imports), 3),
        "openpyxl_read_s": round(median(reads), 3),
        "export_s": round(median(exports), 3),
        "openpyxl_write_s": round(median(writes), 3),
        "admin_preview_s": round(median(previews), 3),
        "import_rows_per_s": round(rows / median(imports)),
        "export_rows_per_s": round(rows / median(exports)),
        "times": {
            "import": imports,
            "read": reads,
            "export": exports,
            "write": writes,
            "preview": previews,
        },
        "memory": memory,
    }


def plan_workbook(parsed, times: int, title: str) -> bytes:
    """The 2014 plan `times` over, in the export layout: each work area holds its measures
    `times` times (numbers 2, 102, 202 …), merged cells as export_plan writes them."""
    from openpyxl import Workbook

    from plan.layout import PLAN_HEADERS

    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append([f"年度:2099;印发单位:{parsed.issuer};印发日期:"])
    sheet.append(PLAN_HEADERS)
    sheet.append([])
    row = 5
    for area in parsed.areas:
        sheet.cell(row=row, column=1, value=f"({area.numeral}){area.title}")
        sheet.merge_cells(start_row=row, end_row=row, start_column=1, end_column=7)
        row += 1
        for copy in range(times):
            for m in area.measures:
                height = max(len(m.actions), len(m.milestones), 1)
                own = {
                    1: f"{m.number + 100 * copy}.{m.title}",
                    2: m.goal,
                    5: m.executing,
                    6: m.cooperating,
                    7: m.responsible,
                }
                for column, value in own.items():
                    sheet.cell(row=row, column=column, value=value or None)
                    if height > 1:
                        sheet.merge_cells(
                            start_row=row,
                            end_row=row + height - 1,
                            start_column=column,
                            end_column=column,
                        )
                for offset, action in enumerate(m.actions):
                    sheet.cell(row=row + offset, column=3, value=f"{action.number}.{action.text}")
                for offset, x in enumerate(m.milestones):
                    sheet.cell(row=row + offset, column=4, value=f"{x.label},{x.text}")
                row += height
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def measure_plan_import(runs: int) -> dict:
    """plan_import_scale_ratio: loading a plan ten times the 2014 plan's size (file reading,
    department matching and the one-transaction write, plan/intake) against ten times loading
    the 2014 plan's size. Each run loads into the scale database and deletes the plan again."""
    from plan.intake.readers import read_plan
    from plan.intake.service import intake
    from plan.layout import export_plan
    from plan.models import Plan

    template = Plan.objects.filter(year=2014).order_by("pk").first()
    buffer = io.BytesIO()
    export_plan(template).save(buffer)
    parsed = read_plan(buffer.getvalue())
    files = {
        times: plan_workbook(parsed, times, f"规模测试{times}倍2099年推进计划") for times in (1, 10)
    }

    def load(times: int) -> None:
        result = intake(files[times], dry_run=False, file_name=f"{times}.xlsx")
        if not result.ok:
            raise RuntimeError(f"plan import failed: {result.problems[:3]}")
        if result.parsed.counts["measures"] != times * len(parsed.measures):
            raise RuntimeError(f"{times}x: {result.parsed.counts}")

    def remove() -> None:
        Plan.objects.filter(year=2099, title__startswith="规模测试").delete()

    ones, tens = [], []
    for _ in range(runs + 1):  # the first run warms up
        remove()
        seconds, _value = timed(load, 1)
        ones.append(seconds)
        remove()
        seconds, _value = timed(load, 10)
        tens.append(seconds)
    remove()
    ones, tens = ones[1:], tens[1:]
    return {
        "ratio": round(median(tens) / (10 * median(ones)), 2),
        "one_s": round(median(ones), 3),
        "ten_s": round(median(tens), 3),
        "measures": len(parsed.measures),
        "times": {"1x": ones, "10x": tens},
    }


def import_memory(path: Path, database_url: str, user_pk: int, rows: int) -> dict:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            __file__,
            "--import-child",
            str(path),
            "--database-url",
            database_url,
            "--child-user",
            str(user_pk),
            "--rows",
            str(rows),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=BASE_DIR,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM, /proc/self/status). Not getrusage's
    ru_maxrss: on Linux that carries the parent's peak over fork and exec, so a child
    started by a 150 MB parent reports at least 150 MB whatever it does."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def import_child(path: str, database_url: str, user_pk: int, rows: int) -> None:
    """In a child process: the peak memory of one import of the file."""
    configure_django(database_url, tempfile.mkdtemp(prefix="plantracker-bench-media-"))
    from django.contrib.auth import get_user_model

    import departments.resources  # noqa: F401 - loaded before the baseline is taken
    import tasks.resources  # noqa: F401

    user = get_user_model().objects.get(pk=user_pk)
    content = Path(path).read_bytes()
    before = peak_rss_mb()
    started = time.perf_counter()
    run_import(content, user, rows)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "method": "peak RSS (VmHWM) of a child process that sets Django up and imports",
                "before_mb": round(before, 1),
                "peak_mb": round(peak, 1),
                "import_mb": round(peak - before, 1),
                "seconds": round(seconds, 3),
            }
        )
    )


# --- Save vs ping under gunicorn --------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="version"[^>]*\bvalue="(\d+)"|value="(\d+)"[^>]*name="version"')


class HttpClient:
    """One logged-in browser: a cookie dict and one kept-alive http.client connection (a new
    one when the server closed it or a request failed). Loopback only."""

    def __init__(self, base_url: str):
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise SystemExit(f"refusing {base_url}: loopback (127.0.0.1) only")
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Accept-Language": "zh-hans", "Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=REQUEST_TIMEOUT
            )
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()  # a new connection for the next request
            raise
        if response.will_close:
            self.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def login(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page.decode())
        if status != 200 or token is None:
            raise RuntimeError(f"login page: status {status}")
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username}: status {status}")

    def form(self, path: str) -> tuple[int, str]:
        status, _, page = self.request("GET", path)
        text = page.decode()
        version, token = VERSION_INPUT.search(text), CSRF_INPUT.search(text)
        if status != 200 or version is None or token is None:
            raise RuntimeError(f"report form {path}: status {status}, no editable form")
        return int(version.group(1) or version.group(2)), token.group(1)


class Saver:
    """A client saving its own report again and again (a draft, never submitted)."""

    def __init__(self, client: HttpClient, path: str, index: int):
        self.client, self.path, self.index = client, path, index
        self.version, self.token = client.form(path)
        self.saves = 0

    def save(self) -> bool:
        self.saves += 1
        status, headers, _ = self.client.request(
            "POST",
            self.path,
            {
                "csrfmiddlewaretoken": self.token,
                "version": self.version,
                "status": "in_progress",
                "percent": self.saves % 100,
                "done_text": f"基准测试客户端{self.index}第{self.saves}次保存",
                "problems_text": "",
                "save": "",
            },
        )
        # A browser would follow the redirect and the page would show (and so consume) the
        # "草稿已保存" message; without that the messages cookie would pile up, spill into
        # the session and make every save write the session too. Dropping it stands in.
        self.client.cookies.pop("messages", None)
        if status == 302 and "/work/" in (headers.get("Location") or ""):
            self.version += 1
            return True
        self.version, self.token = self.client.form(self.path)  # resynchronise
        return False


def process_cpu(select) -> float:
    """CPU seconds (user + system) of the processes whose command line `select` accepts;
    0 where /proc is not there."""
    total = 0.0
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read()
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if select(int(pid), command):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load_phase(actions, seconds: float, accounts: dict | None = None) -> dict:
    """Each action (one per client thread) is called until the deadline or the request
    cap; returns successes per second, and the CPU time per successful request of the load
    generator and of each process group in `accounts` (name -> select for process_cpu)."""
    accounts = accounts or {}
    before = {name: process_cpu(select) for name, select in accounts.items()}
    stop = threading.Event()
    ok = [0] * len(actions)
    failed = [0] * len(actions)

    def loop(index, action):
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set():
                return
            try:
                if action():
                    ok[index] += 1
                else:
                    failed[index] += 1
            except (OSError, http.client.HTTPException, RuntimeError):
                failed[index] += 1

    threads = [
        threading.Thread(target=loop, args=(i, a), daemon=True) for i, a in enumerate(actions)
    ]
    cpu = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    cpu = {"load generator": time.process_time() - cpu}
    cpu |= {name: process_cpu(select) - before[name] for name, select in accounts.items()}
    done = max(sum(ok), 1)
    return {
        "ok": sum(ok),
        "failed": sum(failed),
        "seconds": round(elapsed, 2),
        "per_s": round(sum(ok) / elapsed, 1),
        "cpu_ms_per_request": {name: round(value / done * 1000, 2) for name, value in cpu.items()},
        "stuck": any(thread.is_alive() for thread in threads),
    }


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return int(file.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def save_targets(count: int) -> list[tuple[int, int]]:
    """(milestone, quarter) of distinct milestones the office reports on, editable or not
    written yet: the 2014 plan's first (it has no reports), then drafts of the copies."""
    from django.db.models import Q

    from departments.models import Department
    from plan.models import Milestone
    from tasks.models import ProgressReport

    office = Department.objects.get(name=OFFICE)
    targets = []
    milestones = (
        Milestone.objects.filter(measure__responsible_offices=office)
        .exclude(first_quarter=None)
        .exclude(measure__work_area__plan__year=IMPORT_YEAR)
        .order_by("measure__work_area__plan__year", "pk")
    )
    for milestone in milestones.iterator():
        taken = set(
            ProgressReport.objects.filter(milestone=milestone)
            .filter(~Q(state__in=ProgressReport.EDITABLE_STATES))
            .values_list("quarter", flat=True)
        )
        free = [q for q in milestone.quarters if q not in taken]
        if free:
            targets.append((milestone.pk, free[0]))
        if len(targets) == count:
            return targets
    raise RuntimeError(f"only {len(targets)} editable milestones for {count} clients")


def measure_load(pg_url: str, db_name: str, database_url: str, args, workdir: Path) -> dict:
    loadserver = load_script("loadserver")

    class BenchServer(loadserver.LoadServer):
        """LoadServer on the bench database, which exists already: not created nor dropped.
        Workers keep their database connection (DATABASE_CONN_MAX_AGE=60, as docs/deploy.md
        sets it in production)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.pg, self.db_name, self.database_url = pg_url, db_name, database_url

        def env(self):
            return super().env() | {"DATABASE_CONN_MAX_AGE": str(args.conn_max_age)}

        def gunicorn_options(self):
            # Keep-alive connections, as a browser behind nginx has them: gunicorn's threaded
            # workers keep a connection open between requests (its sync workers close it).
            return [
                "--worker-class",
                "gthread",
                "--threads",
                str(args.threads),
                "--keep-alive",
                "30",
            ]

        def __enter__(self):
            try:
                self._setup()
                self._start()
            except BaseException:
                self.__exit__(None, None, None)
                raise
            return self

        def __exit__(self, *exc):
            try:
                self.stop()
            finally:
                if getattr(self, "_logfile", None):
                    self._logfile.close()
                if self._tmp:
                    self._tmp.cleanup()

    targets = save_targets(args.clients)
    (workdir / "server").mkdir(exist_ok=True)
    with BenchServer(
        workers=args.workers, users=args.clients, workdir=workdir / "server", log=log
    ) as server:
        savers, pingers = [], []
        for index, ((name, password), (milestone, quarter)) in enumerate(
            zip(server.users, targets, strict=True)
        ):
            client = HttpClient(server.base_url)
            client.login(name, password)
            savers.append(Saver(client, f"/work/milestones/{milestone}/q{quarter}/", index))

            def ping(client=client):
                status, _, body = client.request("GET", "/ping/")
                return status == 200 and body == b"ok"

            pingers.append(ping)
        saves = [saver.save for saver in savers]
        master = server.process.pid
        database = f" {db_name} ".encode()
        accounts = {
            # gunicorn's master and workers (the workers' parent is the master)
            "gunicorn": lambda pid, command: pid == master or parent_of(pid) == master,
            # the PostgreSQL backends serving this database ("postgres: user db host …")
            "postgres": lambda pid, command: (
                command.startswith(b"postgres:") and database in command.replace(b"\0", b" ")
            ),
        }
        warm = min(2.0, args.load_seconds)
        load_phase(pingers, warm)
        load_phase(saves, warm)
        rounds = []
        for _ in range(args.load_rounds):
            rounds.append({"ping": load_phase(pingers, args.load_seconds, accounts)})
            rounds[-1]["save"] = load_phase(saves, args.load_seconds, accounts)
        errors = [line for line in server.log_tail(400).splitlines() if "[ERROR]" in line]
    ping = round(median([r["ping"]["per_s"] for r in rounds]), 1)
    save = round(median([r["save"]["per_s"] for r in rounds]), 1)
    for r in rounds:  # each round's pings and saves ran one after the other: alike machine
        r["ratio"] = round(r["save"]["per_s"] / r["ping"]["per_s"], 3) if r["ping"]["per_s"] else 0
    failed = sum(r["ping"]["failed"] + r["save"]["failed"] for r in rounds)
    cpu = {
        phase: {
            name: median([r[phase]["cpu_ms_per_request"][name] for r in rounds])
            for name in rounds[0][phase]["cpu_ms_per_request"]
        }
        for phase in ("ping", "save")
    }
    return {
        "cpu_ms_per_request": cpu,
        "workers": args.workers,
        "conn_max_age": args.conn_max_age,
        "clients": args.clients,
        "seconds_per_phase": args.load_seconds,
        "rounds": rounds,
        "ping_per_s": ping,
        "save_per_s": save,
        "ratio": median([r["ratio"] for r in rounds]),
        "failed_requests": failed,
        "server_errors": errors[:5],
    }


# --- Report -----------------------------------------------------------------------------


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
    return f"PostgreSQL {version}"


def met(key: str, value) -> bool:
    op, goal = GOALS[key]
    return value <= goal if op == "<=" else value >= goal


def table(results: dict) -> str:
    a = results["absolute"]
    lines = [
        f"{'measure':<24} {'value':>9}  {'goal':<8} {'met':<4} absolute",
        "-" * 100,
    ]
    details = {
        "dashboard_scale_ratio": f"{a['dashboard_ms_alone']} ms alone, "
        f"{a['dashboard_ms_at_scale']} ms at scale",
        "workspace_scale_ratio": f"{a['workspace_ms_alone']} ms alone, "
        f"{a['workspace_ms_at_scale']} ms at scale",
        "max_queries_per_page": "same at 1x and at scale: "
        + ("yes" if results["queries_same_at_scale"] else "NO"),
        "import_vs_openpyxl": f"{a['import_s']} s ({a['import_rows_per_s']} rows/s) vs "
        f"{a['openpyxl_read_s']} s",
        "export_vs_openpyxl": f"{a['export_s']} s ({a['export_rows_per_s']} rows/s) vs "
        f"{a['openpyxl_write_s']} s",
        "update_vs_trivial": f"{a['save_per_s']} saves/s vs {a['ping_per_s']} pings/s (medians"
        f" of {results['runs']['load_rounds']} rounds; the ratio: the rounds' median)",
        "import_peak_mb": f"peak RSS of the importing process; {a['process_mb_at_start']} MB "
        "before the import",
        "admin_preview_vs_import": f"{a['admin_preview_s']} s the admin's preview page vs "
        f"{a['import_s']} s the import",
        "plan_import_scale_ratio": f"{a['plan_import_10x_s']} s for 10x vs "
        f"{a['plan_import_1x_s']} s for the 2014 plan's size",
    }
    for key, (op, goal) in GOALS.items():
        value = results[key]
        ok = results["goals"][key]["met"]
        lines.append(
            f"{key:<24} {value:>9}  {op.replace('<=', '≤').replace('>=', '≥')} {goal:<5} "
            f"{'yes' if ok else 'NO':<4} {details[key]}"
        )
    lines.append("")
    lines.append(f"{'queries per page':<24} {'alone':>6} {'at scale':>9}")
    for name, alone in results["queries"]["alone"].items():
        lines.append(f"{name:<24} {alone:>6} {results['queries']['at_scale'][name]:>9}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="province")
    parser.add_argument("--plans", type=int, help="copies of the plan in all (overrides --size)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows imported and exported")
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each page (≥7)")
    parser.add_argument("--io-runs", type=int, default=5, help="runs of import and export")
    parser.add_argument("--load-seconds", type=float, default=2.0, help="per phase, ≤ 120")
    parser.add_argument("--load-rounds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=8, help="load client threads, ≤ 32")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="the workers' DATABASE_CONN_MAX_AGE"
    )
    parser.add_argument("--database", default="plantracker_bench")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default=str(BASE_DIR / "bench" / "results.json"))
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--import-child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-user", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_child:
        import_child(args.import_child, args.database_url, args.child_user, args.rows)
        return 0
    if not 0 < args.load_seconds <= 120 or not 1 <= args.clients <= 32:
        parser.error("--load-seconds must be 0..120 and --clients 1..32")
    if not re.fullmatch(r"plantracker_bench\w*", args.database):
        parser.error("--database must start with plantracker_bench (it is dropped)")
    plans = args.plans or SIZES[args.size]
    size = args.size if not args.plans else f"{plans} plans"

    started = time.perf_counter()
    loadserver = load_script("loadserver")
    pg_url = loadserver.server_url()
    reason = loadserver.pg_unreachable(pg_url)
    if reason:
        log(f"cannot run: {reason}")
        return 2
    alone_db, scale_db = args.database, f"{args.database}_scale"
    alone_url = loadserver.with_database(pg_url, alone_db)
    database_url = loadserver.with_database(pg_url, scale_db)
    loadserver.drop_database(pg_url, alone_db)
    loadserver.create_database(pg_url, alone_db)
    workdir = Path(tempfile.mkdtemp(prefix="plantracker-bench-"))
    try:
        configure_django(alone_url, str(workdir / "media"))
        from django import db

        from plan.models import Plan

        log(f"databases {alone_db}, {scale_db} on {urllib.parse.urlsplit(pg_url).netloc}")
        users = set_up(args.quiet)
        generated = generate(1, args.quiet)
        plan = Plan.objects.exclude(year=2014).get()  # the one copy
        plan.published = True
        plan.save(update_fields=["published"])
        alone_counts = counts()
        pages = page_urls(plan, users)
        browsers = clients(users)  # their sessions are copied with the database

        log(f"{alone_db} copied to {scale_db}; generating {plans - 1} more copies there")
        clone_database(loadserver, pg_url, alone_db, scale_db)
        use_database(scale_db)
        generated += generate(plans - 1, args.quiet)
        scale_counts = counts()
        log(f"alone: {alone_counts}\nat scale: {scale_counts}\ntiming pages ({args.runs} runs)")
        measured = measure_pages(
            pages, browsers, {"alone": alone_db, "at_scale": scale_db}, args.runs
        )
        alone, scaled = measured["alone"], measured["at_scale"]
        log(f"  alone {alone['median_ms']}, at scale {scaled['median_ms']}")
        use_database(scale_db)
        if not args.keep_db:
            loadserver.drop_database(pg_url, alone_db)

        log(f"import and export of {args.rows} rows ({args.io_runs} runs)")
        io_results = measure_import_export(users, args.rows, args.io_runs, workdir, database_url)
        log(
            f"  import {io_results['import_s']} s, read {io_results['openpyxl_read_s']} s, "
            f"export {io_results['export_s']} s, write {io_results['openpyxl_write_s']} s, "
            f"peak {io_results['memory']['peak_mb']} MB"
        )

        log(
            f"load: {args.clients} clients, {args.workers} gunicorn workers, "
            f"{args.load_rounds} × {args.load_seconds:g} s per phase"
        )
        log(f"plan import at 1x and 10x the 2014 plan ({args.io_runs} runs)")
        plan_import = measure_plan_import(args.io_runs)
        log(f"  1x {plan_import['one_s']} s, 10x {plan_import['ten_s']} s")
        db.connections.close_all()
        load = measure_load(pg_url, scale_db, database_url, args, workdir)
        log(f"  {load['save_per_s']} saves/s, {load['ping_per_s']} pings/s")
        database = database_version()
        db.connections.close_all()
    finally:
        if not args.keep_db:
            for name in (alone_db, scale_db):
                loadserver.drop_database(pg_url, name)
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)

    dashboard_ratio = scaled["times"]["dashboard"], alone["times"]["dashboard"]
    results = {
        "database": database,
        "size": size,
        "command": "make bench" + ("" if args.size == "province" else f" SIZE={args.size}"),
        "dashboard_scale_ratio": round(median(dashboard_ratio[0]) / median(dashboard_ratio[1]), 2),
        "workspace_scale_ratio": round(
            median(scaled["times"]["workspace"]) / median(alone["times"]["workspace"]), 2
        ),
        "max_queries_per_page": max(scaled["queries"].values()),
        "import_vs_openpyxl": round(io_results["import_s"] / io_results["openpyxl_read_s"], 2),
        "export_vs_openpyxl": round(io_results["export_s"] / io_results["openpyxl_write_s"], 2),
        "update_vs_trivial": round(load["ratio"], 2),
        "import_peak_mb": io_results["memory"]["peak_mb"],
        "admin_preview_vs_import": round(io_results["admin_preview_s"] / io_results["import_s"], 2),
        "plan_import_scale_ratio": plan_import["ratio"],
        "queries_same_at_scale": alone["queries"] == scaled["queries"],
        "absolute": {
            "dashboard_ms_alone": alone["median_ms"]["dashboard"],
            "dashboard_ms_at_scale": scaled["median_ms"]["dashboard"],
            "workspace_ms_alone": alone["median_ms"]["workspace"],
            "workspace_ms_at_scale": scaled["median_ms"]["workspace"],
            "import_s": io_results["import_s"],
            "import_rows_per_s": io_results["import_rows_per_s"],
            "openpyxl_read_s": io_results["openpyxl_read_s"],
            "export_s": io_results["export_s"],
            "export_rows_per_s": io_results["export_rows_per_s"],
            "openpyxl_write_s": io_results["openpyxl_write_s"],
            "admin_preview_s": io_results["admin_preview_s"],
            "save_per_s": load["save_per_s"],
            "ping_per_s": load["ping_per_s"],
            "process_mb_at_start": io_results["memory"]["before_mb"],
            "import_mb_over_start": io_results["memory"]["import_mb"],
            "plan_import_1x_s": plan_import["one_s"],
            "plan_import_10x_s": plan_import["ten_s"],
        },
        "plan_import": plan_import,
        "queries": {"alone": alone["queries"], "at_scale": scaled["queries"]},
        "data": {"alone": alone_counts, "at_scale": scale_counts},
        "runs": {
            "page_runs": args.runs,
            "io_runs": args.io_runs,
            "rows": args.rows,
            "load_rounds": args.load_rounds,
            "load_seconds": args.load_seconds,
            "clients": args.clients,
            "workers": args.workers,
        },
        "load": {k: v for k, v in load.items() if k != "rounds"} | {"rounds": load["rounds"]},
        "import_memory": io_results["memory"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "generate_s": round(generated, 1),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    results["goals"] = {
        key: {
            "goal": f"{op} {goal}",
            "met": met(key, results[key])
            and (key != "max_queries_per_page" or results["queries_same_at_scale"]),
        }
        for key, (op, goal) in GOALS.items()
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\n{results['database']}, {size}: {scale_counts}")
    print(table(results))
    print(f"\nwrote {output} in {results['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
