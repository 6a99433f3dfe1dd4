"""Issue 12: every URL and command that writes a report, a contribution or a file goes
through tasks.services, seen from outside: each write leaves exactly one history entry of its
channel (网页, 离线表格, 管理员导入): a ReportVersion for a report, a ContributionVersion for a
contribution; and a URL or command
that is not in the list below fails the walk until someone decides what it is."""

import io
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, get_commands
from django.urls import URLResolver, get_resolver, reverse

from departments import roles
from departments.models import Department
from plan.models import Milestone
from tasks import offline
from tasks.models import (
    Contribution,
    ContributionFile,
    ContributionVersion,
    Evidence,
    ProgressReport,
    ReportVersion,
)

from .conftest import make_user
from .test_admin_import_export import REPORT_HEADERS, confirm, preview, report_row, xlsx
from .test_cooperation import contribute
from .test_report_rules import milestone, submitted, write

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REPORT_MODELS = (
    ProgressReport,
    ReportVersion,
    Evidence,
    Contribution,
    ContributionVersion,
    ContributionFile,
)


def pdf(name="佐证.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def channels() -> dict[tuple[str, str], int]:
    """{("report" or "contribution", channel): history entries}."""
    counts = {}
    for kind, history in (("report", ReportVersion), ("contribution", ContributionVersion)):
        for channel in history.objects.values_list("channel", flat=True):
            counts[kind, channel] = counts.get((kind, channel), 0) + 1
    return counts


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def unit(plan_2014):
    return make_user("quxian", roles.UNIT, Department.objects.get(name="各区县(自治县)知识产权局"))


# --- The writers: one function per URL that writes, each doing a proper write -----------


def web_report_edit(client, staff, mark, **_):
    client.force_login(staff)
    target = milestone(8, 4)
    mark()
    response = client.post(
        reverse("report-edit", args=[target.pk, 4]),
        {
            "version": 0,
            "status": "in_progress",
            "percent": 40,
            "done_text": "写了。",
            "problems_text": "",
            "evidence": pdf(),
            "save": "",
        },
    )
    assert response.status_code == 302
    return ("report", "web")


def web_report_review(client, staff, reviewer, mark, **_):
    report = submitted(staff, milestone(8, 4), 4)
    client.force_login(reviewer)
    mark()
    response = client.post(
        reverse("report-review", args=[report.pk]),
        {"version": report.version, "comment": "", "approve": ""},
    )
    assert response.status_code == 302
    return ("report", "web")


def web_report_withdraw(client, staff, mark, **_):
    report = submitted(staff, milestone(8, 4), 4)
    client.force_login(staff)
    mark()
    response = client.post(reverse("report-withdraw", args=[report.pk]), {"version": 2})
    assert response.status_code == 302 and "withdrawn" in str(report.versions.last().event)
    return ("report", "web")


def web_evidence_remove(client, staff, mark, **_):
    report = write(staff, milestone(8, 4), 4, files=[pdf()])
    client.force_login(staff)
    mark()
    response = client.post(
        reverse("evidence-remove", args=[report.evidence.get().pk]), {"version": 1}
    )
    assert response.status_code == 302 and Evidence.objects.get().removed_in == 2
    return ("report", "web")


def offline_upload(client, staff, plan_2014, mark, **_):
    book = offline.build_template(staff, plan_2014, 4)
    for cells in book.active.iter_rows(min_row=2):
        if cells[0].value == milestone(8, 4).pk:
            cells[offline.COLUMN["status"] - 1].value = "进行中"
            cells[offline.COLUMN["percent"] - 1].value = 30
            cells[offline.COLUMN["done_text"] - 1].value = "离线写的。"
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(staff)
    mark()
    response = client.post(
        reverse("offline-upload") + f"?plan={plan_2014.pk}&quarter=4",
        {"file": SimpleUploadedFile("填报表.xlsx", buffer.getvalue())},
    )
    assert response.status_code == 302
    return ("report", "offline")


def contribution_edit(client, unit, mark, **_):
    client.force_login(unit)
    target = Milestone.objects.scheduled_in(4).filter(measure__number=18).first()
    mark()
    response = client.post(
        reverse("contribution-edit", args=[target.pk, 4]),
        {"version": 0, "text": "组织了培训。", "figures": "", "files": pdf()},
    )
    assert response.status_code == 302, response.content[:300]
    return ("contribution", "web")


def contribution_file_remove(client, unit, mark, **_):
    target = Milestone.objects.scheduled_in(4).filter(measure__number=18).first()
    contribution = contribute(unit, target, 4, files=[pdf()])
    client.force_login(unit)
    mark()
    stored = contribution.files.get()
    response = client.post(reverse("contribution-file-remove", args=[stored.pk]), {"version": 1})
    stored.refresh_from_db()
    assert response.status_code == 302 and stored.removed_in == 2
    return ("contribution", "web")


def admin_import(client, admin_user, mark, **_):
    client.force_login(admin_user)
    mark()
    response = preview(client, ProgressReport, xlsx(REPORT_HEADERS, report_row()))
    assert response.context.get("confirm_form")
    assert confirm(client, ProgressReport, response).status_code == 302
    return ("report", "admin")


WRITERS = {
    "report-edit": web_report_edit,
    "report-review": web_report_review,
    "report-withdraw": web_report_withdraw,
    "evidence-remove": web_evidence_remove,
    "offline-upload": offline_upload,
    "contribution-edit": contribution_edit,
    "contribution-file-remove": contribution_file_remove,
    "admin:tasks_progressreport_process_import": admin_import,
}
#: Our URLs that take a POST but write no report, contribution or file.
OTHER_POSTS = {"login", "logout", "password_change", "set_language"}
#: Supervision's POSTs write its own append-only records (instructions, answers and their
#: files, urgings, notices), never a report or a contribution (supervision/services.py).
SUPERVISION_POSTS = {
    "instruction-new",
    "instruction-acknowledge",
    "instruction-answer",
    "urging-new",
    "urging-reply",
    "notice-open",
    "notice-read-all",
    "notice-settings",
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_each_writing_url_leaves_one_history_entry_of_its_channel(
    name,
    client,
    staff,
    reviewer,
    admin_user,
    unit,
    plan_2014,
    media,
    django_capture_on_commit_callbacks,
):
    marked = {}

    def mark():
        marked.update(channels=channels())

    with django_capture_on_commit_callbacks(execute=True):  # the signals follow the commit
        channel = WRITERS[name](
            client=client,
            staff=staff,
            reviewer=reviewer,
            admin_user=admin_user,
            unit=unit,
            plan_2014=plan_2014,
            mark=mark,
        )

    before, after = marked["channels"], channels()
    steps = {ch: n - before.get(ch, 0) for ch, n in after.items() if n != before.get(ch, 0)}
    assert steps == {channel: 1}  # exactly one history entry, of the URL's kind and channel
    # Every report's and contribution's versions run 1, 2, 3 … with no gap: no write went
    # around the history; each file names a version that exists.
    for report in ProgressReport.objects.all():
        assert list(report.versions.values_list("version", flat=True)) == list(
            range(1, report.version + 1)
        )
    for contribution in Contribution.objects.all():
        assert list(contribution.versions.values_list("version", flat=True)) == list(
            range(1, contribution.version + 1)
        )
        for stored in contribution.files.all():
            assert 1 <= stored.version <= contribution.version
    if channel[0] == "contribution":
        assert Contribution.objects.get().files.get().version == 1


def site_urls(patterns=None, namespace=None):
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            yield from site_urls(pattern.url_patterns, inner)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


def test_every_url_that_takes_a_post_is_a_known_writer_or_writes_nothing(client, admin_user):
    """POST to every URL of the site (the admin's: only those of the report models), as a
    superuser; anything but 405 takes POSTs, and must be in WRITERS or OTHER_POSTS."""
    client.force_login(admin_user)
    report_admin_prefixes = tuple(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        for model in REPORT_MODELS
        if model in admin.site._registry
    )
    taking_posts = set()
    for name, pattern in site_urls():
        if name.startswith("admin:") and not name.startswith(report_admin_prefixes):
            continue
        arguments = dict.fromkeys(pattern.pattern.converters, 999999)
        try:
            url = reverse(name, kwargs=arguments)
        except Exception:  # noqa: BLE001 - a pattern that needs other arguments
            url = reverse(name, kwargs=dict.fromkeys(pattern.pattern.converters, "1"))
        if client.post(url, {}).status_code != 405:
            taking_posts.add(name)
        client.force_login(admin_user)  # logout and password change end the session
    report_admin_writers = {
        name for name in taking_posts if name.startswith("admin:") and name not in WRITERS
    }
    # The report models' admin pages are read-only: their POSTs are refused (403) or are
    # the import-export steps that only read (the preview) or go through WRITERS.
    for name in report_admin_writers:
        assert name.endswith(
            ("_import", "_export", "_change", "_add", "_delete", "_changelist", "_history")
        ), name
    known = set(WRITERS) | OTHER_POSTS | SUPERVISION_POSTS
    assert {n for n in taking_posts if not n.startswith("admin:")} <= known
    assert {n for n in WRITERS if not n.startswith("admin:")} <= taking_posts


def test_the_report_admin_pages_cannot_add_change_or_delete(admin_user, rf):
    request = rf.get("/")
    request.user = admin_user
    for model in REPORT_MODELS:
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


# --- Commands ----------------------------------------------------------------------------


def our_commands() -> set[str]:
    root = Path(__file__).resolve().parent.parent
    return {
        name
        for name, app in get_commands().items()
        if app in ("supervision", "tasks", "plan", "departments") and (root / app).exists()
    }


def test_the_commands_are_all_known():
    """plan and departments cannot import tasks (tests/test_architecture.py), so only the
    commands of tasks and supervision could write a report; each is classified below."""
    assert our_commands() == {
        "create_demo_users",
        "ensure_plan",
        "import_plan",
        "export_plan",
        "send_reminders",
        "supervise",
        "bulletin",
        "generate_bench_data",
        "load_demo",
    }


def snapshot():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in REPORT_MODELS}


def test_export_reminder_and_supervision_commands_write_no_report(
    staff, plan_2014, tmp_path, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    write(staff, milestone(8, 4), 4)
    before = snapshot()
    call_command("export_plan", "2014", output=str(tmp_path / "plan.xlsx"), verbosity=0)
    call_command("send_reminders", date="2014-12-31", verbosity=0)
    call_command("supervise", date="2014-12-31", verbosity=0)
    call_command("bulletin", "2014", quarter=4, output=str(tmp_path / "b.docx"), verbosity=0)
    assert snapshot() == before


@pytest.mark.slow
def test_the_bench_generator_writes_only_reports_of_the_plans_it_creates(staff, plan_2014):
    """generate_bench_data fills a throw-away benchmark database with bulk inserts (it is the
    one writer that does not use the services, on purpose: hundreds of thousands of rows);
    it never touches a report of an existing plan."""
    write(staff, milestone(8, 4), 4)
    before = snapshot()
    call_command("generate_bench_data", plans=1, verbosity=0)
    existing = {row["id"] for row in before["ProgressReport"]}
    after = snapshot()
    assert [r for r in after["ProgressReport"] if r["id"] in existing] == before["ProgressReport"]
    new = ProgressReport.objects.exclude(pk__in=existing)
    assert new.exists() and not new.filter(milestone__measure__work_area__plan=plan_2014).exists()


def test_the_demo_loader_writes_every_report_through_the_services(plan_2014, settings):
    """load_demo (make run's sample year) saves, submits, returns and approves through
    tasks.services: every version of every report and contribution it leaves has its history
    entry."""
    settings.DEBUG = True
    call_command("create_demo_users", password="demo-password-1", verbosity=0)
    call_command("load_demo", date="2014-09-20", verbosity=0)
    reports = ProgressReport.objects.all()
    assert reports.count() > 20
    for report in reports:
        assert report.versions.count() == report.version, report
    contributions = Contribution.objects.all()
    assert contributions.exists()
    for contribution in contributions:
        assert contribution.versions.count() == contribution.version, contribution
