"""Backup and restore (scripts/backup.py, `make backup` / `make restore FILE=…`).

A fresh database gets the 2014 plan and a report with evidence files; the backup is restored
into another fresh database and media folder, and every table (dumpdata of every model) and
every media file must come back equal. Restoring again over a database that has changed since
keeps a safety backup first and removes what the backup does not hold. Run on SQLite and,
when it can be reached, on a dedicated PostgreSQL database."""

import hashlib
import importlib.util
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SEED = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from departments import roles
from departments.models import Department
from tasks import services
from plan.models import Milestone

call_command("migrate", interactive=False, verbosity=0)
call_command("ensure_plan", verbosity=0)
office = Department.objects.get(name="专利管理处")
user = get_user_model().objects.create_user("zhuanli", password="correct-horse-battery")
user.groups.add(Group.objects.get_or_create(name=roles.STAFF)[0])
office.members.add(user)
scheduled = Milestone.objects.filter(first_quarter__isnull=False)
milestone = scheduled.filter(measure__responsible_offices=office).first()
files = [
    SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 minutes of the meeting\\n" * 50),
    SimpleUploadedFile("photo.png", b"\\x89PNG\\r\\n\\x1a\\n" + bytes(range(256)) * 8),
]
report = services.save_report(
    user=user, milestone=milestone, quarter=milestone.quarters[0], base_version=0,
    status="in_progress", percent=40, done_text="完成了专利导航试点", problems_text="经费不足",
    submit=True, files=files,
)
print("seeded", report.pk, report.evidence.count())
"""

CHANGE = """
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
get_user_model().objects.create_user("after-backup")
default_storage.save("evidence/after-backup.pdf", ContentFile(b"%PDF-1.4 later"))
print("changed")
"""


def load_script(name: str):
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"plantracker_scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def app_env(database_url: str, media_root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PLANTRACKER_", "DATABASE_"))
    }
    return env | {"DATABASE_URL": database_url, "DJANGO_MEDIA_ROOT": str(media_root)}


def run(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def dumpdata(env: dict[str, str]) -> list[dict]:
    rows = json.loads(run(env, "manage.py", "dumpdata", "--format", "json"))
    return sorted(rows, key=lambda row: (row["model"], str(row["pk"])))


def media(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def backup_and_restore(tmp_path: Path, source_url: str, target_url: str) -> None:
    source = app_env(source_url, tmp_path / "media-source")
    target = app_env(target_url, tmp_path / "media-target")
    backups = tmp_path / "backups"
    assert "seeded" in run(source, "manage.py", "shell", "-c", SEED)

    out = run(source, "scripts/backup.py", "backup", "--dir", str(backups))
    (file,) = backups.glob("plantracker-*.tar.gz")
    assert str(file) in out
    assert file.stat().st_mode & 0o077 == 0  # password hashes inside: owner only
    with tarfile.open(file) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest["media_files"] == 2
    assert sum(name.startswith("media/evidence/") for name in names) == 2

    run(target, "scripts/backup.py", "restore", str(file), "--yes")
    expected_rows, expected_media = dumpdata(source), media(tmp_path / "media-source")
    assert len(expected_media) == 2
    assert {row["model"] for row in expected_rows} >= {
        "tasks.progressreport",
        "tasks.reportversion",
        "tasks.evidence",
        "plan.milestone",
        "auth.user",
    }
    assert dumpdata(target) == expected_rows
    assert media(tmp_path / "media-target") == expected_media

    # Restoring over a database that changed since: a safety backup first, then exactly the
    # backup's rows and files again.
    assert "changed" in run(target, "manage.py", "shell", "-c", CHANGE)
    run(target, "scripts/backup.py", "restore", str(file), "--yes")
    assert len(list(backups.glob("plantracker-*-pre-restore.tar.gz"))) == 1
    assert dumpdata(target) == expected_rows
    assert media(tmp_path / "media-target") == expected_media


def test_sqlite_backup_restores_every_row_and_file(tmp_path):
    backup_and_restore(
        tmp_path, f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'target.db'}"
    )


def test_postgresql_backup_restores_every_row_and_file(tmp_path):
    loadserver = load_script("loadserver")
    unreachable = loadserver.pg_unreachable()
    if unreachable:
        pytest.skip(f"PostgreSQL is unreachable: {unreachable}")
    server = loadserver.server_url()
    names = [f"plantracker_backup_{secrets.token_hex(4)}_{side}" for side in ("src", "dst")]
    for name in names:
        loadserver.create_database(server, name)
    try:
        backup_and_restore(tmp_path, *(loadserver.with_database(server, name) for name in names))
    finally:
        for name in names:
            loadserver.drop_database(server, name)


def test_restore_refuses_another_engine(tmp_path):
    """A SQLite backup does not go into PostgreSQL (nor the other way round)."""
    database = tmp_path / "db.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    env = app_env(f"sqlite:///{database}", tmp_path / "media")
    run(env, "scripts/backup.py", "backup", "--dir", str(tmp_path))
    (file,) = tmp_path.glob("plantracker-*.tar.gz")
    other = app_env("postgres://nobody@127.0.0.1:1/none", tmp_path / "media")
    done = subprocess.run(
        [sys.executable, "scripts/backup.py", "restore", str(file), "--yes"],
        cwd=ROOT,
        env=other,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "holds a sqlite database" in done.stderr
