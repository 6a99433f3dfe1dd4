"""Deployment checks, login throttling and the Content-Security-Policy."""

import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.urls import reverse

from .conftest import PASSWORD


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
