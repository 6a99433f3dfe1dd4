"""The English interface: a complete, compiled catalog, and pages that use it when English is
chosen, while Chinese (the source language) stays the default."""

import ast
import gettext
import html
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO, MO = CATALOG / "django.po", CATALOG / "django.mo"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file, the header included, each as {"msgid": …, "msgstr": …,
    "msgstr[0]": …, "flags": {…}}; obsolete (#~) entries are left out."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line or line.startswith("#~"):
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, key = (None, None) if not line else (entry, key)
            continue
        if entry is None:
            entry = {"flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _space, text = line.partition(" ")
            entry[key] = ast.literal_eval(text)
    return entries


def mo_catalog(path: Path) -> dict:
    """The messages of a compiled catalog, without its header (msgfmt rewrites that)."""
    with path.open("rb") as file:
        catalog = dict(gettext.GNUTranslations(file)._catalog)
    catalog.pop("", None)
    return catalog


def expected_catalog(entries: list[dict]) -> dict:
    """What the .mo compiled from `entries` holds, keyed as gettext keys it."""
    catalog = {}
    for entry in entries:
        msgid = entry["msgid"]
        if not msgid:
            continue  # the header
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            for index in range(2):
                catalog[(msgid, index)] = entry[f"msgstr[{index}]"]
        else:
            catalog[msgid] = entry["msgstr"]
    return catalog


def visible_text(response) -> str:
    return html.unescape(response.content.decode())


def choose_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


# --- The catalog -------------------------------------------------------------------------


def test_the_english_catalog_is_complete():
    entries = po_entries(PO)
    messages = [entry for entry in entries if entry["msgid"]]
    assert len(messages) > 300

    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    empty = [
        entry["msgid"]
        for entry in messages
        for key in (("msgstr[0]", "msgstr[1]") if "msgid_plural" in entry else ("msgstr",))
        if not entry.get(key, "").strip()
    ]
    assert fuzzy == []
    assert empty == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_the_catalog_holds_every_message_of_the_code(tmp_path, monkeypatch):
    """makemessages on a copy of the catalog finds no message the catalog lacks, and none
    it no longer needs: run `make messages` after changing UI text."""
    locale = tmp_path / "locale"
    shutil.copytree(Path(settings.BASE_DIR) / "locale", locale)
    monkeypatch.chdir(settings.BASE_DIR)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command(
            "makemessages",
            locale=["en"],
            ignore_patterns=[".venv/*", "tests/*", "staticfiles/*", "scripts/*", "bench/*"],
            verbosity=0,
        )

    def msgids(po: Path) -> set[str]:
        return {entry["msgid"] for entry in po_entries(po) if entry["msgid"]}

    assert msgids(locale / "en" / "LC_MESSAGES" / "django.po") == msgids(PO)


def test_the_english_catalog_keeps_every_placeholder():
    placeholder = re.compile(r"%\([^)]+\)[sdif]|%%|%[sdif]")
    for entry in po_entries(PO):
        if "python-format" not in entry["flags"]:
            continue
        if "msgid_plural" in entry:
            pairs = [
                (entry["msgid"], entry["msgstr[0]"]),
                (entry["msgid_plural"], entry["msgstr[1]"]),
            ]
        else:
            pairs = [(entry["msgid"], entry["msgstr"])]
        for source, translation in pairs:
            assert sorted(placeholder.findall(translation)) == sorted(
                placeholder.findall(source)
            ), source


def test_the_english_translations_have_no_chinese_left():
    """Only where a file must hold the Chinese text does a translation quote it."""
    quoted = re.compile(r"“[^”]*”")
    for entry in po_entries(PO):
        if entry["msgid"]:
            for key in ("msgstr", "msgstr[0]", "msgstr[1]"):
                assert not CJK.search(quoted.sub("", entry.get(key, ""))), entry["msgid"]


def test_the_mo_is_compiled_after_the_last_edit_of_the_po():
    """Git keeps no modification times: in a fresh clone the .mo may be written just before
    the .po, and then it must hold exactly the .po's translations."""
    assert MO.exists(), "run: manage.py compilemessages --ignore=.venv"
    newer = MO.stat().st_mtime_ns >= PO.stat().st_mtime_ns
    assert newer or mo_catalog(MO) == expected_catalog(po_entries(PO)), (
        "django.po changed after django.mo was compiled: run manage.py compilemessages"
    )


def test_the_mo_holds_every_translation_of_the_po():
    assert mo_catalog(MO) == expected_catalog(po_entries(PO))


# --- The pages ---------------------------------------------------------------------------


def test_chinese_is_the_default(client, staff, plan_2014):
    login = visible_text(client.get(reverse("login")))
    assert '<html lang="zh-hans">' in login
    assert "登录" in login
    assert "Log in" not in login

    client.force_login(staff)
    page = visible_text(client.get(reverse("my-work")))
    assert "<h1>我的工作</h1>" in page
    assert "My work" not in page


def test_the_english_login_page_has_no_chinese(client, db):
    choose_english(client)

    page = visible_text(client.get(reverse("login")))

    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert "Username" in page and "Password" in page
    assert "Simplified Chinese" in page  # the language switch names Chinese in English
    assert CJK.findall(page) == []


def test_the_english_login_page_after_a_wrong_password_has_no_chinese(client, staff):
    choose_english(client)

    page = visible_text(client.post(reverse("login"), {"username": "zhang", "password": "no"}))

    assert "Please enter a correct username and password" in page
    assert CJK.findall(page) == []


NAVIGATION = ["Work Plan Tracker", "Work plan", "Change password", "Log out", "Language"]


@pytest.mark.parametrize(
    ("persona", "url_name", "texts"),
    [
        (
            "staff",
            "my-work",
            ["<h1>My work</h1>", ">My work</a>", "Reporting quarter", "Q2 2014", "Schedule"],
        ),
        ("reviewer", "review-queue", ["<h1>Reports awaiting review</h1>", ">Review queue</a>"]),
        (
            "leader",
            "dashboard",
            [
                "<h1>Leaders' dashboard</h1>",
                ">Leaders' dashboard</a>",
                "By work area",
                "By responsible office",
                "Expected progress",
                "All milestones",
            ],
        ),
    ],
)
def test_the_main_pages_in_english(client, request, plan_2014, persona, url_name, texts):
    client.force_login(request.getfixturevalue(persona))
    choose_english(client)

    page = visible_text(client.get(reverse(url_name)))

    assert '<html lang="en">' in page
    for text in NAVIGATION + texts:
        assert text in page, text
    for chinese in ("推进计划跟踪", "我的工作", "待审核", "领导看板", "修改密码", "退出"):
        assert chinese not in page, chinese


def test_the_plan_page_in_english(client, staff, plan_2014):
    client.force_login(staff)
    choose_english(client)

    page = visible_text(client.get(reverse("plan-document", args=[plan_2014.pk])))

    headings = [
        "Measure",
        "Goal",
        "Actions",
        "Schedule",
        "Executing department",
        "Cooperating unit",
        "Responsible office",
    ]
    for heading in headings:
        assert f'<th scope="col">{heading}</th>' in page, heading
    assert ">Work plan</a>" in page
    assert "Issued April 15, 2014" in page


def test_the_admin_uses_english_too(client, admin_user):
    client.force_login(admin_user)
    choose_english(client)

    page = visible_text(client.get(reverse("admin:index")))

    assert "Work Plan Tracker · Administration" in page
