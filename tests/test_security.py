"""Deployment checks, login throttling, the Content-Security-Policy, and the attacks of
issue #13, each reproduced and shown refused."""

import datetime
import io
import os
import secrets
import subprocess
import sys
import tempfile
import zipfile
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from departments import roles
from departments.models import Department
from plan.layout import export_plan
from spreadsheets import reading
from spreadsheets.importing import text_of
from spreadsheets.reading import SheetError, Work, read_table
from spreadsheets.writing import safe, unsafe
from tasks import offline
from tasks.models import Evidence

from . import hostile
from . import test_workspace_views as workspace
from .conftest import PASSWORD, make_user


def test_check_deploy_is_clean_in_production_mode():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "plan.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_bad_boolean_setting_fails_loudly():
    env = {**os.environ, "DJANGO_DEBUG": "maybe"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_repeated_wrong_passwords_lock_the_login(client, staff):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "zhang", "password": "wrong"})
        assert response.status_code == 200
        assert "请输入一个正确的" in response.content.decode()
    response = client.post(reverse("login"), {"username": "zhang", "password": "wrong"})
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_clears_earlier_failures(client, staff):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "zhang", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "zhang", "password": PASSWORD}).status_code
        == 302
    )


def test_pages_carry_a_content_security_policy_without_inline_scripts(client, staff):
    client.force_login(staff)
    response = client.get(reverse("my-work"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    assert "onchange=" not in html and "onclick=" not in html
    assert response.headers["X-Frame-Options"] == "DENY"


def test_behind_the_proxy_the_lockout_is_per_real_client_address(client, staff, settings):
    settings.BEHIND_PROXY = True
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "zhang", "password": "wrong"},
            HTTP_X_REAL_IP="203.0.113.7",
        )
    from_elsewhere = client.post(
        reverse("login"),
        {"username": "zhang", "password": PASSWORD},
        HTTP_X_REAL_IP="198.51.100.2",
    )
    assert from_elsewhere.status_code == 302  # the attacker's address is locked, not the user's


def test_the_admin_group_holds_every_plan_tracker_permission(db):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="管理员")
    for codename in [
        *["change_milestone", "add_plan", "view_progressreport", "change_user"],
        "view_instruction",
    ]:
        assert group.permissions.filter(codename=codename).exists(), codename
    assert (
        group.permissions.count()
        == Permission.objects.filter(
            content_type__app_label__in=[
                *["departments", "plan", "tasks", "supervision"],
                *["auth", "axes", "admin"],
            ]
        ).count()
    )


def test_a_non_superuser_admin_reaches_the_admin_changelists(client, plan_2014):
    from departments import roles

    from .conftest import make_user

    admin = make_user("clerk", roles.ADMIN)
    client.force_login(admin)
    assert client.get(reverse("admin:plan_milestone_changelist")).status_code == 200
    assert client.get(reverse("admin:plan_plan_changelist")).status_code == 200


def test_admin_edits_are_in_the_audit_log(client, admin_user, plan_2014):
    from django.contrib.admin.models import LogEntry

    from plan.models import Milestone

    phase = Milestone.objects.unscheduled().first()
    client.force_login(admin_user)
    changelist = reverse("admin:plan_milestone_changelist")
    page = client.get(changelist, {"quarter": "none"})
    forms = page.context["cl"].formset
    data = {
        "form-TOTAL_FORMS": forms.total_form_count(),
        "form-INITIAL_FORMS": forms.initial_form_count(),
        "_save": "保存",
    }
    for index, form in enumerate(forms.forms):
        data[f"form-{index}-id"] = form.instance.pk
        quarters = ("2", "3") if form.instance.pk == phase.pk else ("", "")
        data[f"form-{index}-first_quarter"], data[f"form-{index}-last_quarter"] = quarters
    response = client.post(changelist + "?quarter=none", data)
    assert response.status_code == 302
    phase.refresh_from_db()
    assert (phase.first_quarter, phase.last_quarter) == (2, 3)  # an admin scheduled a phase
    entry = LogEntry.objects.get(object_id=str(phase.pk))
    assert entry.user == admin_user
    assert "起始季度" in entry.get_change_message()
    log = client.get(reverse("admin:admin_logentry_changelist"))
    assert log.status_code == 200
    assert str(phase)[:10] in log.content.decode()


# --- Issue #13: the attacks that worked, each reproduced and refused --------------------------
# 1. A workbook whose sheet claims A1:XFD1048576 made the upload checks walk 17 billion
#    cells. The reader now parses the rows and cells really present; the counted work is
#    asserted (never seconds).

TABLE_HEADERS = ["节点编号", "进展状态", "完成百分比", "完成情况"]
TABLE_ROW = ["1", "进行中", 50, "已完成初稿。"]


def test_a_workbook_lying_about_its_dimension_is_read_by_the_cells_present():
    content = hostile.lying_dimension(TABLE_HEADERS, [TABLE_ROW] * 200)
    assert len(content) < 8 * 1024
    table = read_table(content, TABLE_HEADERS, filename="lie.xlsx")
    assert len(table.rows) == 200
    assert table.work == Work(rows=201, cells=201 * 4)


def test_a_single_cell_at_xfd1048576_is_not_a_million_rows():
    content = hostile.far_cell(TABLE_HEADERS, [TABLE_ROW])
    table = read_table(content, TABLE_HEADERS, filename="far.xlsx")
    assert [number for number, _values in table.rows] == [2]
    assert table.work == Work(rows=3, cells=4 + 4 + 1)


def test_a_value_past_the_last_row_a_file_may_have_is_refused_naming_the_limit():
    content = hostile.far_row(TABLE_HEADERS, [TABLE_ROW])
    with pytest.raises(SheetError, match="表格超过50001行的上限") as refused:
        read_table(content, TABLE_HEADERS, filename="far.xlsx")
    assert refused.value.message


def test_a_value_past_the_width_the_admin_import_needs_is_refused_without_padding():
    workbook = reading.open_xlsx(hostile.far_cell(["名称"], [["专利管理处"]]))
    work = Work()
    with pytest.raises(SheetError, match="XFD列:这一列没有表头"):
        list(reading.xlsx_rows(workbook.worksheets[0], work=work))
    assert work == Work(rows=3, cells=3)


def test_more_cells_than_a_file_may_have_are_refused(settings):
    settings.IMPORT_MAX_CELLS = 100
    content = hostile.many_rows(TABLE_HEADERS, 30, TABLE_ROW)
    with pytest.raises(SheetError, match="单元格超过100个的上限"):
        read_table(content, TABLE_HEADERS, filename="many.xlsx")


# 2. A 12 MB upload unpacked a hundredfold and sat in memory whole. The zip directory is
#    checked before anything is unpacked, and the largest file accepted is read in a child
#    process whose peak resident memory (VmHWM) is measured.


def test_a_workbook_unpacking_to_more_than_forty_times_its_size_is_refused():
    with pytest.raises(SheetError, match="远超文件本身大小"):
        read_table(hostile.zip_bomb(TABLE_HEADERS), TABLE_HEADERS, filename="bomb.xlsx")


def test_a_zip_directory_that_understates_its_parts_gains_nothing():
    content = hostile.understated(hostile.many_rows(TABLE_HEADERS, 500, TABLE_ROW))
    with pytest.raises(SheetError, match="文件已损坏"):
        read_table(content, TABLE_HEADERS, filename="understated.xlsx")


MEMORY_PROBE = """
import sys, django
django.setup()
from spreadsheets.importing import XLSX
from spreadsheets.reading import read_table
data = open(sys.argv[1], "rb").read()
if sys.argv[2] == "admin":
    rows = XLSX().create_dataset(data).height
else:
    rows = len(read_table(data, sys.argv[3].split(","), filename="big.xlsx").rows)
del data
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(rows, int(peak.split()[1]) * 1024)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("path", ["offline", "admin"])
def test_reading_the_largest_accepted_upload_peaks_under_250_mb(tmp_path, path):
    headers, content = hostile.largest_accepted(
        reading.MAX_UNZIPPED_BYTES - 64 * 1024,
        reading.MAX_SHARED_STRINGS_BYTES - 1024,
        rows=settings.IMPORT_MAX_ROWS + 1,
        cells=settings.IMPORT_MAX_CELLS,
    )
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    assert unzipped > 0.97 * reading.MAX_UNZIPPED_BYTES  # the largest, not a small one
    assert len(content) <= settings.IMPORT_MAX_BYTES
    path_ = tmp_path / "big.xlsx"
    path_.write_bytes(content)
    del content
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path_), path, ",".join(headers)],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "plantracker.settings"},
        cwd=settings.BASE_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows, peak = map(int, result.stdout.split())
    assert rows == settings.IMPORT_MAX_ROWS  # accepted, every row read
    assert peak < 250 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


# 5. A formula in the plan title became a live formula in plan.xlsx.


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("http://example.com","点此")',
        "=WEBSERVICE(A2)",
        "＝1+1",
        "\t=1",
        "\r+1",
        "@SUM(A1)",
    ],
)
def test_a_formula_in_the_plan_title_is_exported_as_text_and_read_back(plan_2014, title):
    plan = plan_2014
    plan.title = title
    plan.save()
    buffer = io.BytesIO()
    export_plan(plan, {}).save(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet["A1"].value == "'" + title
    assert sheet["A1"].data_type == "s"
    assert unsafe(sheet["A1"].value) == title


@pytest.mark.parametrize("text", ["＝1+1", "＋1", "－1", "＠SUM(A1)", "\t=1", "\r=1", "=1", "-1"])
def test_one_escape_and_one_inverse_for_every_cell(text):
    assert safe(text) == "'" + text
    assert unsafe(safe(text)) == text
    assert text_of(safe(text)) == text.strip()
    assert offline._unsafe(safe(text)) == text
    assert unsafe("'不是公式") == "'不是公式"


# 3. The extension was checked on the whole name but only 200 characters were kept: a
#    .pdf upload was served as …AAA.html. The name kept is the name checked (its stem is
#    shortened, never its extension) and the name served is checked again.

TRUNCATION_NAMES = [
    "A" * 195 + ".html" + "B" * 40 + ".pdf",
    "A" * 195 + ".hta" + "B" * 40 + ".pdf",
    "长" * 197 + ".bat" + "B" * 40 + ".png",
    "A" * 196 + ".svg" + "B" * 40 + ".jpg",
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize("name", TRUNCATION_NAMES, ids=["html", "hta", "bat", "svg"])
def test_a_long_file_name_keeps_the_extension_it_was_checked_by(client, staff, media, name):
    client.force_login(staff)
    head = {".pdf": b"%PDF-1.4\n", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff\xe0"}
    suffix = name[name.rindex(".") :]
    upload = SimpleUploadedFile(name, head[suffix] + b"<script>alert(1)</script>")
    response = client.post(
        workspace.edit_url(workspace.milestone(8, 1), 1), workspace.report_form(evidence=[upload])
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert len(evidence.name) == 200 and evidence.name.endswith(suffix)
    download = client.get(reverse("evidence-download", args=[evidence.pk]))
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert quote(suffix) in disposition and ".html" not in disposition.rsplit(".", 1)[-1]
    assert download["Content-Type"] != "text/html"
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("报告.html", "报告.html.bin"),
        ("a" * 200, "a" * 196 + ".bin"),
        ("../../etc/passwd", ".._.._etc_passwd.bin"),
        ("图.PNG", "图.PNG"),
        ("x" * 120 + "." + "y" * 120, "x" * 120 + "." + "y" * 75 + ".bin"),
    ],
)
def test_a_stored_name_is_checked_again_when_served(stored, served):
    """A row written before the check (or by hand) is never served under a bad name."""
    assert Evidence(name=stored).download_name() == served
    assert len(served) <= 200


# 4. An admin who was not a superuser could make himself one, and set anyone's password.


@pytest.fixture
def plain_admin(plan_2014):
    """A member of the 管理员 group with staff status, not a superuser."""
    return make_user("admin2", roles.ADMIN)


@pytest.fixture
def superuser(plan_2014):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def change_form_data(client, user, **changes) -> dict:
    """What the admin's change form for `user` posts, as the page shows it, with `changes`."""
    page = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name in ("groups", "user_permissions"):
            data[name] = [getattr(v, "pk", v) for v in value or []]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and name != "password":
            data[name] = value
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
        for index, inline in enumerate(formset.formset.forms):
            for name in inline.fields:
                value = inline.initial.get(name)
                if value is not None:
                    data[f"{formset.formset.prefix}-{index}-{name}"] = getattr(value, "pk", value)
    data["date_joined_0"], data["date_joined_1"] = "2026-01-01", "00:00:00"
    data.update(changes)
    return data


def test_an_admin_cannot_make_himself_superuser_or_staff_or_grant_permissions(client, plain_admin):
    client.force_login(plain_admin)
    permission = Permission.objects.get(codename="add_logentry")
    data = change_form_data(
        client, plain_admin, is_superuser="on", user_permissions=[permission.pk]
    )
    response = client.post(reverse("admin:auth_user_change", args=[plain_admin.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    plain_admin.refresh_from_db()
    assert not plain_admin.is_superuser
    assert not plain_admin.user_permissions.exists()


def test_an_admin_cannot_give_anyone_the_admin_role_or_staff_status(client, plain_admin, leader):
    client.force_login(plain_admin)
    admin_group = Group.objects.get(name=roles.ADMIN)
    data = change_form_data(client, leader, groups=[admin_group.pk], is_staff="on")
    response = client.post(reverse("admin:auth_user_change", args=[leader.pk]), data)
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    leader.refresh_from_db()
    assert not leader.is_staff
    assert not leader.groups.filter(name=roles.ADMIN).exists()


def test_an_admin_cannot_edit_or_delete_a_superuser(client, plain_admin, superuser):
    client.force_login(plain_admin)
    url = reverse("admin:auth_user_change", args=[superuser.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(url, {"username": "taken-over", "is_active": ""})
    assert response.status_code == 403
    deleted = client.post(reverse("admin:auth_user_delete", args=[superuser.pk]), {"post": "yes"})
    assert deleted.status_code == 403
    bulk = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"},
    )
    assert bulk.status_code == 403  # the delete action checks each user it would delete
    superuser.refresh_from_db()
    assert superuser.username == "root" and superuser.is_active


@pytest.mark.parametrize("target", ["superuser", "other_admin"])
def test_an_admin_cannot_set_another_admins_password(client, request, plain_admin, target):
    victim = (
        request.getfixturevalue("superuser")
        if target == "superuser"
        else make_user("admin3", roles.ADMIN)
    )
    client.force_login(plain_admin)
    url = reverse("admin:auth_user_password_change", args=[victim.pk])
    response = client.post(url, {"password1": "Hijack-2026-x", "password2": "Hijack-2026-x"})
    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)


def test_an_admin_still_resets_a_colleagues_forgotten_password(client, plain_admin, leader):
    client.force_login(plain_admin)
    url = reverse("admin:auth_user_password_change", args=[leader.pk])
    response = client.post(
        url, {"password1": "Reset-2026-ok", "password2": "Reset-2026-ok", "usable_password": "true"}
    )
    assert response.status_code == 302
    leader.refresh_from_db()
    assert leader.check_password("Reset-2026-ok")


def test_a_superuser_still_grants_the_admin_role(client, superuser, leader):
    client.force_login(superuser)
    admin_group = Group.objects.get(name=roles.ADMIN)
    data = change_form_data(client, leader, groups=[admin_group.pk], is_staff="on")
    response = client.post(reverse("admin:auth_user_change", args=[leader.pk]), data)
    assert response.status_code == 302
    leader.refresh_from_db()
    assert leader.is_staff and leader.groups.filter(name=roles.ADMIN).exists()


# 7. The audit log's year filter answered ?action_time__year=1 with a 500. Every admin list
#    is walked with junk in every filter it has: a page or a redirect, never a 500.

JUNK = ["1", "9999", "+1", "abc", "２０２４", "9" * 30]


def filter_parameters(model_admin, request) -> list[str]:
    """The query parameters a changelist's filters and date hierarchy read."""
    names = []
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        names += [f"{field}__year", f"{field}__month", f"{field}__day"]
    for item in model_admin.get_list_filter(request):
        field = item[0] if isinstance(item, tuple) else item
        if isinstance(field, str):
            names += [field, f"{field}__exact", f"{field}__isnull", f"{field}__gte"]
        else:
            names += [getattr(field, "parameter_name", None) or "x"]
    return names + ["o", "p", "q", "e", "_to_field", "all"]


def test_every_admin_list_answers_junk_filter_values_without_a_500(plan_2014, superuser):
    from django.contrib import admin
    from django.test import Client, RequestFactory

    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    request = RequestFactory().get("/")
    request.user = superuser
    failures = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in filter_parameters(model_admin, request):
            for value in JUNK:
                response = client.get(url, {name: value})
                if response.status_code >= 500:
                    failures.append(f"{url}?{name}={value!r}")
    assert failures == [], "\n".join(failures)


# 8. The admin import's confirm step read (and then deleted) any file of the server's temp
#    folder named in the form. The name comes back signed for the user who uploaded it.


def department_preview(client):
    """Uploads a one-row department file; the confirm form's fields."""
    content = hostile.table(
        ["名称", "类别", "其他写法", "泛指", "排序"], [["新处室", "责任处室", "", "否", 9]]
    )
    url = reverse("admin:departments_department_import")
    response = client.post(
        url,
        {"import_file": SimpleUploadedFile("d.xlsx", content), "format": "0", "resource": "0"},
    )
    form = response.context["confirm_form"]
    fields = ("import_file_name", "original_file_name", "format", "resource")
    return {field: form.initial[field] for field in fields}


def confirm(client, data):
    return client.post(reverse("admin:departments_department_process_import"), data)


@pytest.fixture
def victim_file():
    path = os.path.join(tempfile.gettempdir(), f"plantracker-victim-{secrets.token_hex(4)}.txt")
    with open(path, "w") as file:
        file.write("SECRET_KEY=first line of someone else's file\n")
    yield path
    if os.path.exists(path):
        os.remove(path)


def test_the_confirm_step_refuses_a_file_name_it_did_not_sign(client, admin_user, victim_file):
    client.force_login(admin_user)
    data = department_preview(client)
    data["import_file_name"] = os.path.basename(victim_file)
    response = confirm(client, data)
    assert response.status_code == 200
    assert "导入确认已失效或不属于您" in response.content.decode()
    assert "SECRET_KEY" not in response.content.decode()
    assert os.path.exists(victim_file)
    assert not Department.objects.filter(name="新处室").exists()


def test_the_confirm_step_refuses_another_admins_upload(client, admin_user, superuser):
    client.force_login(admin_user)
    data = department_preview(client)
    client.force_login(superuser)
    response = confirm(client, data)
    assert response.status_code == 200
    assert "导入确认已失效或不属于您" in response.content.decode()
    assert not Department.objects.filter(name="新处室").exists()
    client.force_login(admin_user)  # the uploader still confirms his own file
    assert confirm(client, data).status_code == 302
    assert Department.objects.filter(name="新处室").exists()


# 6. Throttling per (username, address) alone let one address spray passwords over many
#    usernames, and a forged X-Real-IP gave unlimited guesses when gunicorn was reachable.


def fail_login(client, username: str, **headers):
    return client.post(reverse("login"), {"username": username, "password": "wrong"}, **headers)


@pytest.fixture
def hashing(monkeypatch):
    """Counts the password hashes computed (checks, and the dummy hash for unknown users)."""
    from django.contrib.auth import base_user, hashers

    calls = []

    def counted(function):
        def wrapper(*args, **kwargs):
            calls.append(function.__name__)
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(base_user, "check_password", counted(hashers.check_password))
    monkeypatch.setattr(base_user, "make_password", counted(hashers.make_password))
    return calls


def test_password_spraying_from_one_address_is_throttled_before_hashing(client, staff, hashing):
    for attempt in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        # Four guesses a username: under the per-username limit, so axes alone locks nothing.
        assert fail_login(client, f"user{attempt // 4}").status_code == 200
    assert hashing  # the failures before were hashed (the count works)
    hashing.clear()
    response = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert hashing == []  # refused before any password was hashed
    elsewhere = client.post(
        reverse("login"), {"username": "zhang", "password": PASSWORD}, REMOTE_ADDR="198.51.100.8"
    )
    assert elsewhere.status_code == 302


def test_a_locked_out_user_gets_in_after_the_short_cool_off(client, staff):
    from axes.models import AccessAttempt

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client, "zhang")
    locked = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert locked.status_code == 429
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    earlier = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=earlier)
    later = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert later.status_code == 302


def test_a_forged_x_real_ip_from_an_untrusted_address_is_ignored(client, staff, settings):
    settings.BEHIND_PROXY = True  # but this request reaches gunicorn directly
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client, "zhang", REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP=f"10.9.9.{attempt}")
    response = client.post(
        reverse("login"),
        {"username": "zhang", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_REAL_IP="10.9.9.200",
    )
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("remote", "headers", "expected"),
    [
        ("127.0.0.1", {"HTTP_X_REAL_IP": "198.51.100.2"}, "198.51.100.2"),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.2"}, "198.51.100.2"),
        ("127.0.0.1", {"HTTP_X_REAL_IP": "not-an-address"}, "127.0.0.1"),
        ("203.0.113.9", {"HTTP_X_REAL_IP": "198.51.100.2"}, "203.0.113.9"),
        ("203.0.113.9", {"HTTP_X_FORWARDED_FOR": "198.51.100.2"}, "203.0.113.9"),
    ],
)
def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(
    settings, remote, headers, expected
):
    from django.test import RequestFactory

    from plantracker.proxy import client_ip

    settings.BEHIND_PROXY = True
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    assert client_ip(request) == expected


@pytest.mark.parametrize(("remote", "believed"), [("127.0.0.1", True), ("203.0.113.9", False)])
def test_https_is_believed_only_from_a_trusted_proxy(settings, client, remote, believed):
    """Behind nginx, X-Forwarded-Proto: https from nginx is a secure request; the same header
    from a request reaching gunicorn directly is dropped: redirected to HTTPS like any plain
    HTTP request."""
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(reverse("login"), REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https")

    if believed:
        assert response.status_code == 200
    else:
        assert response.status_code == 301 and response.url.startswith("https://")


# 9. About 2 MB of text a save, copied into the history each time. Text fields have maximum
#    lengths (完成情况 5,000 characters), in the forms and in the models' validation.


def test_a_report_text_over_5000_characters_is_refused_and_nothing_is_saved(client, staff):
    from tasks.models import ProgressReport, ReportVersion

    client.force_login(staff)
    for field in ("done_text", "problems_text"):
        form = workspace.report_form(**{field: "长" * 5001})
        response = client.post(workspace.edit_url(workspace.milestone(8, 1), 1), form)
        assert response.status_code == 200
        assert "5000" in str(response.context["form"].errors[field])
    assert not ProgressReport.objects.exists() and not ReportVersion.objects.exists()
    accepted = workspace.report_form(done_text="长" * 5000)
    response = client.post(workspace.edit_url(workspace.milestone(8, 1), 1), accepted)
    assert response.status_code == 302


def test_the_service_refuses_two_megabytes_of_text_whoever_calls_it(staff):
    from django.core.exceptions import ValidationError

    from tasks import services
    from tasks.models import ProgressReport

    with pytest.raises(ValidationError) as refused:
        services.save_report(
            user=staff,
            milestone=workspace.milestone(8, 1),
            quarter=1,
            base_version=0,
            status="in_progress",
            percent=10,
            done_text="x" * 2_000_000,
            problems_text="",
            submit=False,
        )
    assert "done_text" in refused.value.message_dict
    assert not ProgressReport.objects.exists()


# 10. Cooperating units read the structure of unpublished plans; 403 told which ids exist.


@pytest.fixture
def district_unit(plan_2014):
    return make_user("quxian", roles.UNIT, Department.objects.get(name="各区县(自治县)知识产权局"))


def test_a_unit_does_not_read_an_unpublished_plan_but_reads_a_published_one(
    client, district_unit, plan_2014
):
    client.force_login(district_unit)
    url = reverse("plan-document", args=[plan_2014.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("plan-latest")).status_code == 200  # "no plan" page
    assert plan_2014.title not in client.get(reverse("plan-latest")).content.decode()
    plan_2014.published = True
    plan_2014.save()
    assert client.get(url).status_code == 200
    assert client.get(reverse("plan-latest"))["Location"] == url


def test_the_bureaus_own_roles_read_every_plan(client, staff, plan_2014):
    client.force_login(staff)
    assert client.get(reverse("plan-document", args=[plan_2014.pk])).status_code == 200


def test_a_report_another_office_may_not_read_is_not_found_like_a_missing_one(
    client, staff, other_staff, media
):
    from tasks.models import ProgressReport

    client.force_login(staff)
    client.post(
        workspace.edit_url(workspace.milestone(8, 1), 1),
        workspace.report_form(evidence=[workspace.pdf()]),
    )
    report, evidence = ProgressReport.objects.get(), Evidence.objects.get()
    client.force_login(other_staff)
    for url in (
        reverse("report-detail", args=[report.pk]),
        reverse("evidence-download", args=[evidence.pk]),
    ):
        existing = client.get(url)
        missing = client.get(
            url.replace(f"/{report.pk}/", "/999999/").replace(f"/{evidence.pk}/", "/999999/")
        )
        assert existing.status_code == missing.status_code == 404


def test_an_offline_upload_of_many_wrong_rows_lists_200_problems_and_saves_nothing(
    client, staff, plan_2014
):
    from tasks.models import ProgressReport

    headers = offline.headers()
    rows = [[str(900_000 + n)] + [None] * (len(headers) - 1) for n in range(1000)]
    client.force_login(staff)
    response = client.post(
        f"{reverse('offline-upload')}?plan={plan_2014.pk}&quarter=4",
        {"file": SimpleUploadedFile("wrong.xlsx", hostile.table(headers, rows))},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("<li>第") == 200
    assert "另有 800 处问题未列出" in content
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("format", "99"), ("format", "x"), ("resource", "7")])
def test_the_confirm_step_refuses_a_format_or_resource_the_preview_did_not_offer(
    client, admin_user, field, value
):
    client.force_login(admin_user)
    data = department_preview(client)
    data[field] = value
    response = confirm(client, data)
    assert response.status_code == 200
    assert "导入确认已失效或不属于您" in response.content.decode()
    assert not Department.objects.filter(name="新处室").exists()


def test_a_locked_username_and_address_is_refused_before_hashing(client, staff, hashing):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        fail_login(client, "zhang")
    assert hashing  # the failures before were hashed (the count works)
    hashing.clear()
    response = client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert response.status_code == 429
    assert hashing == []


def test_an_admin_cannot_rename_or_delete_a_role(client, plain_admin):
    client.force_login(plain_admin)
    reviewers = Group.objects.get(name=roles.REVIEWER)
    url = reverse("admin:auth_group_change", args=[reviewers.pk])
    assert client.get(url).status_code == 200  # he sees it
    assert client.post(url, {"name": roles.ADMIN + "2"}).status_code == 403
    deleted = client.post(reverse("admin:auth_group_delete", args=[reviewers.pk]), {"post": "yes"})
    assert deleted.status_code == 403
    assert Group.objects.filter(name=roles.REVIEWER).exists()


@pytest.mark.parametrize("chunk", [37, 64, 101, 1 << 16])
def test_merged_ranges_are_found_once_whatever_the_chunks_cut(monkeypatch, chunk):
    """merged_refs reads a sheet's XML in chunks: a tag cut in two by a chunk is still found,
    and none is counted twice."""
    import io as _io
    import zipfile as _zipfile

    from spreadsheets import reading

    refs = [f"A{n}:B{n + 1}" for n in range(1, 200, 2)]
    xml = (
        '<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><mergeCells>'
        + "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
        + "</mergeCells></worksheet>"
    )
    buffer = _io.BytesIO()
    with _zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    monkeypatch.setattr(reading, "CHUNK", chunk)
    with _zipfile.ZipFile(buffer) as archive:
        assert reading.merged_refs(archive, "xl/worksheets/sheet1.xml") == refs
