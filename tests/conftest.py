"""Shared fixtures: the 2014 plan, personas for every role, and Playwright on Debian's chromium."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import translation

from departments import roles
from departments.models import Department

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts in the site's language and leaves it so: a request in English
    activates English in the thread (LocaleMiddleware), which would otherwise leak into the
    next test's direct calls."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def plan_2014(db):
    call_command("loaddata", "plan_2014", verbosity=0)
    from plan.models import Plan

    return Plan.objects.get(year=2014)


def make_user(username: str, role: str, *departments: Department):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=role == roles.ADMIN
    )
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for department in departments:
        department.members.add(user)
    return user


@pytest.fixture
def patent_office(plan_2014):
    """专利管理处: responsible for measures 3, 7, 8, 18 and 19 of the 2014 plan."""
    return Department.objects.get(name="专利管理处")


@pytest.fixture
def legal_office(plan_2014):
    """法律事务处: responsible for other measures (9, 10, 22, 30)."""
    return Department.objects.get(name="法律事务处")


@pytest.fixture
def staff(patent_office):
    """A member of the responsible office."""
    return make_user("zhang", roles.STAFF, patent_office)


@pytest.fixture
def other_staff(legal_office):
    """A member of another office."""
    return make_user("li", roles.STAFF, legal_office)


@pytest.fixture
def reviewer(plan_2014):
    return make_user("wang", roles.REVIEWER)


@pytest.fixture
def leader(plan_2014):
    return make_user("zhao", roles.LEADER)


@pytest.fixture
def admin_user(plan_2014):
    user = make_user("admin1", roles.ADMIN)
    user.is_superuser = True
    user.save()
    return user


# --- Browser tests -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1440, "height": 900}}
