"""Issue 12: a cooperating unit's earlier text is never lost. Each save of a contribution
(tasks.services.save_contribution) is kept as a ContributionVersion with its channel and the
files it added; a refused save keeps none; the history is shown to the contribution's readers
by people's names, never their logins."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

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


# --- A wrongly uploaded file taken off ---------------------------------------------------


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def with_files(zhao, media):
    return contribute(
        zhao, milestone(3, 3), 4, text=FIRST, files=[pdf("错传.pdf"), pdf("签到.pdf")]
    )


def remove(client, user, stored, version):
    client.force_login(user)
    return client.post(reverse("contribution-file-remove", args=[stored.pk]), {"version": version})


def test_the_unit_removes_a_wrong_file_which_stays_in_the_history(client, zhao, qian, with_files):
    wrong = with_files.files.get(name="错传.pdf")

    response = remove(client, qian, wrong, with_files.version)  # a colleague of the same unit

    assert response.status_code == 302
    assert response.url == reverse("contribution-edit", args=[with_files.milestone_id, 4])
    contribution = Contribution.objects.get()
    wrong.refresh_from_db()
    assert (contribution.version, contribution.text, wrong.removed_in) == (2, FIRST, 2)
    assert [f.name for f in contribution.current_files()] == ["签到.pdf"]
    assert history(contribution)[-1] == (2, "quxian2", FIRST, "", "web")
    assert ContributionVersion.objects.get(version=2).removed_file == "错传.pdf"
    page = client.get(response.url).content.decode()
    assert "已从配合情况中删除" in page
    assert "删除附件“错传.pdf”" in history_section(page)  # named in the history …
    listed = re.search(r'<section class="card evidence-list">.*?</section>', page, re.S)[0]
    assert "签到.pdf" in listed and "错传.pdf" not in listed  # … no longer among the files


def test_the_office_no_longer_sees_a_removed_file_among_the_contributions(
    client, zhao, staff, with_files
):
    remove(client, zhao, with_files.files.get(name="错传.pdf"), with_files.version)

    client.force_login(staff)
    page = client.get(reverse("report-edit", args=[with_files.milestone_id, 4])).content.decode()

    article = re.search(r'<article class="contribution".*?</article>', page, re.S)[0]
    links = re.findall(r'href="/cooperation/files/\d+/">([^<]+)</a>', article)
    assert links == ["签到.pdf"]


def test_removing_a_file_on_an_old_version_is_refused_and_nothing_changes(
    client, zhao, qian, with_files
):
    contribute(qian, milestone(3, 3), 4, base_version=1, text=SECOND)

    response = remove(client, zhao, with_files.files.get(name="错传.pdf"), 1)

    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "刚修改了本单位的配合情况" in page
    contribution = Contribution.objects.get()
    assert contribution.version == 2 and len(contribution.current_files()) == 2


def test_a_closed_contribution_keeps_its_files(client, zhao, staff, reviewer, with_files):
    review(reviewer, submitted(staff, milestone(3, 3), 4), approve=True)

    remove(client, zhao, with_files.files.get(name="错传.pdf"), with_files.version)

    assert Contribution.objects.get().version == 1
    assert not with_files.files.filter(removed_in__isnull=False).exists()


@pytest.mark.parametrize(("persona", "status"), [("staff", 403), ("reviewer", 403), ("other", 404)])
def test_only_the_units_people_remove_its_files(request, client, with_files, persona, status):
    """The office and the reviewer read the file but may not change it (403); a member of
    another unit may not know it exists (404)."""
    users = {
        "other": lambda: make_user(
            "qita", roles.UNIT, Department.objects.get(name="国家知识产权培训基地")
        )
    }
    user = users[persona]() if persona in users else request.getfixturevalue(persona)

    response = remove(client, user, with_files.files.get(name="错传.pdf"), with_files.version)

    assert response.status_code == status
    assert Contribution.objects.get().version == 1
