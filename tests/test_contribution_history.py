"""Issue 12: a cooperating unit's earlier text is never lost. Each save of a contribution
(tasks.services.save_contribution) is kept as a ContributionVersion with its channel and the
files it added; a refused save keeps none; the history is shown to the contribution's readers
by people's names, never their logins."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from departments import roles
from departments.models import Department
from tasks.models import Contribution, ContributionVersion
from tasks.services import StaleEdit

from .conftest import make_user
from .test_cooperation import contribute
from .test_report_rules import milestone, review, submitted

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DISTRICT = "各区县(自治县)知识产权局"
FIRST, SECOND = "组织企业参加专利政策宣讲。", "组织企业参加专利政策宣讲3场,走访企业20家。"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def named(username: str, family: str, given: str):
    """A member of the district offices' unit with a Chinese name."""
    user = make_user(username, roles.UNIT, Department.objects.get(name=DISTRICT))
    user.last_name, user.first_name = family, given
    user.save()
    return user


@pytest.fixture
def zhao(plan_2014):
    return named("quxian", "赵", "一")


@pytest.fixture
def qian(plan_2014):
    return named("quxian2", "钱", "二")


def history(contribution: Contribution) -> list[tuple]:
    return list(
        ContributionVersion.objects.filter(contribution=contribution)
        .order_by("version")
        .values_list("version", "by__username", "text", "figures", "channel")
    )


def test_two_saves_keep_both_texts_in_the_history_with_the_files_each_added(zhao, qian, media):
    target = milestone(3, 3)
    first = contribute(zhao, target, 4, text=FIRST, figures="1场")
    second = contribute(
        qian,
        target,
        4,
        base_version=first.version,
        text=SECOND,
        figures="3场",
        files=[SimpleUploadedFile("签到表.pdf", PDF, content_type="application/pdf")],
    )

    assert (second.pk, second.version, second.text) == (first.pk, 2, SECOND)
    assert history(second) == [
        (1, "quxian", FIRST, "1场", "web"),
        (2, "quxian2", SECOND, "3场", "web"),
    ]
    assert [(v.version, [f.name for f in v.added]) for v in second.history()] == [
        (2, ["签到表.pdf"]),
        (1, []),
    ]


def test_a_stale_save_writes_no_version(client, zhao, qian):
    target = milestone(3, 3)
    contribute(zhao, target, 4, text=FIRST)
    contribute(qian, target, 4, base_version=1, text=SECOND)

    with pytest.raises(StaleEdit):
        contribute(zhao, target, 4, base_version=1, text="赵一的旧版本上改的。")
    client.force_login(zhao)  # the same through the form: the newer text shown, nothing saved
    response = client.post(
        reverse("contribution-edit", args=[target.pk, 4]),
        {"version": 1, "text": "又一次旧版本上改的。", "figures": ""},
    )

    assert response.status_code == 200
    assert SECOND in response.content.decode()
    contribution = Contribution.objects.get()
    assert (contribution.version, contribution.text) == (2, SECOND)
    assert [row[:3] for row in history(contribution)] == [
        (1, "quxian", FIRST),
        (2, "quxian2", SECOND),
    ]


def test_a_save_after_the_offices_report_is_approved_writes_no_version(zhao, staff, reviewer):
    target = milestone(3, 3)
    contribute(zhao, target, 4, text=FIRST)
    review(reviewer, submitted(staff, target, 4), approve=True)

    with pytest.raises(ValidationError):
        contribute(zhao, target, 4, base_version=1, text=SECOND)

    assert history(Contribution.objects.get()) == [(1, "quxian", FIRST, "", "web")]


def history_section(page: str) -> str:
    found = re.search(r'<details class="contribution-history">.*?</ol>\s*</details>', page, re.S)
    assert found, "no contribution history on the page"
    return found.group(0)


def test_the_history_shows_names_not_logins_to_the_unit_the_office_and_the_reviewer(
    client, zhao, qian, staff, reviewer
):
    target = milestone(3, 3)
    contribute(zhao, target, 4, text=FIRST)
    contribute(qian, target, 4, base_version=1, text=SECOND)
    report = submitted(staff, target, 4)
    pages = {
        zhao: reverse("contribution-edit", args=[target.pk, 4]),
        staff: reverse("report-edit", args=[target.pk, 4]),
        reviewer: reverse("report-detail", args=[report.pk]),
    }

    for reader, url in pages.items():
        client.force_login(reader)
        section = history_section(client.get(url).content.decode())

        assert "修改记录(共2版)" in section
        assert f"第2版 · 钱二({DISTRICT}) · " in section
        assert f"第1版 · 赵一({DISTRICT}) · " in section
        assert section.index("第2版") < section.index("第1版")  # newest first
        assert FIRST in section and SECOND in section
        assert "quxian" not in section


def test_the_admin_shows_the_versions_read_only(admin_client, zhao, qian):
    target = milestone(3, 3)
    contribution = contribute(zhao, target, 4, text=FIRST)
    contribute(qian, target, 4, base_version=1, text=SECOND)

    page = admin_client.get(
        reverse("admin:tasks_contribution_change", args=[contribution.pk])
    ).content.decode()

    assert FIRST in page and SECOND in page
    assert 'name="versions-0-text"' not in page  # shown, not editable
