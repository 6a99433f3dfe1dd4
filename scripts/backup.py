#!/usr/bin/env python3
"""Backup and restore of Plan Tracker: the database and the evidence files (MEDIA_ROOT).

    python scripts/backup.py backup [--dir backups] [--keep N]
    python scripts/backup.py restore FILE [--yes] [--no-safety-backup]

The database and MEDIA_ROOT are the app's own settings (DATABASE_URL, DJANGO_MEDIA_ROOT, …),
so run it with the same environment as the app. One backup is one file,
`<dir>/plantracker-<UTC time>.tar.gz` (mode 0600: it holds password hashes), containing

- manifest.json: format, time, database engine and name, media file count and bytes;
- database.pgdump (PostgreSQL: `pg_dump -Fc`, a consistent snapshot) or database.sqlite3
  (SQLite: a consistent copy made with SQLite's online backup API, safe while the app runs);
- media/…: every file under MEDIA_ROOT.

The database is dumped before the media are archived. Evidence files are never deleted or
changed once uploaded, so every file the dumped database refers to is in the archive (files
uploaded in between are in it too, unreferenced and harmless).

Restore replaces the current database and MEDIA_ROOT with the backup's (PostgreSQL:
`pg_restore --clean --if-exists --no-owner --single-transaction` into the DATABASE_URL
database; SQLite: the file's content replaced through the backup API, so processes that have
it open see the restored database; media: the backup's files written, files not in the backup
removed). Before restoring it takes a backup of the current state (…-pre-restore.tar.gz)
unless --no-safety-backup. It asks for confirmation unless --yes. A backup restores only into
the same engine (PostgreSQL into PostgreSQL, SQLite into SQLite).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

BASE_DIR = Path(__file__).resolve().parent.parent
FORMAT = 1
PREFIX = "plantracker-"
SUFFIX = ".tar.gz"


def django_settings():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantracker.settings")
    import django
    from django.conf import settings

    django.setup()
    return settings


class Database:
    """The app's default database, from Django's settings."""

    def __init__(self, config: dict):
        engine = config["ENGINE"]
        if engine.endswith("postgresql"):
            self.engine = "postgresql"
        elif engine.endswith("sqlite3"):
            self.engine = "sqlite"
        else:
            raise SystemExit(f"backup supports PostgreSQL and SQLite, not {engine}")
        self.config = config
        self.name = str(config["NAME"])

    def __str__(self) -> str:
        if self.engine == "sqlite":
            return f"SQLite {self.name}"
        return f"PostgreSQL {self.config.get('HOST') or 'local'}/{self.name}"

    # PostgreSQL: libpq's environment carries the password, never the command line.
    def pg_args(self) -> list[str]:
        args = []
        for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if self.config.get(key):
                args += [option, str(self.config[key])]
        return args + ["--dbname", self.name]

    def pg_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.config.get("PASSWORD"):
            env["PGPASSWORD"] = str(self.config["PASSWORD"])
        sslmode = self.config.get("OPTIONS", {}).get("sslmode")
        if sslmode:
            env["PGSSLMODE"] = sslmode
        return env

    def exists(self) -> bool:
        if self.engine == "sqlite":
            return Path(self.name).is_file() and Path(self.name).stat().st_size > 0
        from django.db import connection

        return "django_migrations" in connection.introspection.table_names()

    def dump(self, target: Path) -> None:
        if self.engine == "postgresql":
            run(["pg_dump", "--format=custom", "--file", str(target), *self.pg_args()], self)
            return
        source = sqlite3.connect(f"file:{self.name}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # takes a consistent snapshot, even while others write
            (check,) = copy.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise SystemExit(f"the SQLite copy failed its integrity check: {check}")
        finally:
            copy.close()
            source.close()

    def load(self, dump: Path) -> None:
        from django.db import connections

        connections.close_all()  # our own connection must not hold locks or old pages
        if self.engine == "postgresql":
            run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    *self.pg_args(),
                    str(dump),
                ],
                self,
            )
            return
        Path(self.name).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        target = sqlite3.connect(self.name, timeout=60)
        try:
            source.backup(target)  # replaces every page of the live file, under its lock
        finally:
            target.close()
            source.close()


def run(command: list[str], database: Database) -> None:
    done = subprocess.run(  # noqa: S603 - fixed program names, arguments from settings
        command, env=database.pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr.strip()}")


def media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(settings, directory: Path, label: str = "", keep: int = 0) -> Path:
    database = Database(settings.DATABASES["default"])
    media_root = Path(settings.MEDIA_ROOT)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    stamp = timestamp()
    target = directory / f"{PREFIX}{stamp}{label}{SUFFIX}"
    counter = 1
    while target.exists():
        counter += 1
        target = directory / f"{PREFIX}{stamp}-{counter}{label}{SUFFIX}"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".partial-") as work:
        dump = Path(work) / (
            "database.pgdump" if database.engine == "postgresql" else "database.sqlite3"
        )
        database.dump(dump)
        files = media_files(media_root)
        manifest = {
            "format": FORMAT,
            "created": stamp,
            "engine": database.engine,
            "database": database.name,
            "media_root": str(media_root),
            "media_files": len(files),
            "media_bytes": sum(path.stat().st_size for path in files),
        }
        partial = Path(work) / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = (
                len(data),
                int(datetime.datetime.now().timestamp()),
                0o600,
            )
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
            for path in files:
                archive.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")
        os.replace(partial, target)
    print(
        f"backed up {database} and {manifest['media_files']} media files "
        f"({manifest['media_bytes']} bytes) to {target}"
    )
    if keep:
        prune(directory, keep)
    return target


def prune(directory: Path, keep: int) -> None:
    """Deletes all but the newest `keep` regular backups (pre-restore ones are left alone)."""
    backups = sorted(
        path
        for path in directory.glob(f"{PREFIX}*{SUFFIX}")
        if not path.name.endswith(f"-pre-restore{SUFFIX}")
    )
    for path in backups[:-keep]:
        path.unlink()
        print(f"removed old backup {path}")


def safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise SystemExit(f"refusing a backup with the member {name!r}")
    return path


def restore(settings, file: Path, *, yes: bool = False, safety: bool = True) -> None:
    database = Database(settings.DATABASES["default"])
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(file, mode="r:gz") as archive:
        members = {member.name: member for member in archive.getmembers()}
        if "manifest.json" not in members:
            raise SystemExit(f"{file} is not a Plan Tracker backup (no manifest.json)")
        manifest = json.load(archive.extractfile(members["manifest.json"]))
        if manifest.get("format") != FORMAT:
            raise SystemExit(f"unknown backup format {manifest.get('format')!r}")
        if manifest["engine"] != database.engine:
            raise SystemExit(
                f"{file} holds a {manifest['engine']} database; this app uses {database.engine}."
                " Restore into the same engine (or move data with dumpdata/loaddata)."
            )
        print(
            f"restoring {file} (made {manifest['created']}, {manifest['media_files']} media files)"
            f" into {database} and {media_root}"
        )
        if not yes:
            if not sys.stdin.isatty():
                raise SystemExit(
                    "restore replaces the database and media: confirm with --yes"
                    " (make restore FILE=… YES=1)"
                )
            answer = input(f"This replaces {database} and {media_root}. Type 'restore': ")
            if answer.strip() != "restore":
                raise SystemExit("not restored")
        if safety:
            if database.exists():
                backup(settings, file.parent, label="-pre-restore")
            else:
                print("no current database to keep: no safety backup needed")

        dump_name = "database.pgdump" if database.engine == "postgresql" else "database.sqlite3"
        if dump_name not in members:
            raise SystemExit(f"{file} has no {dump_name}")
        with tempfile.TemporaryDirectory(prefix="plantracker-restore-") as work:
            dump = Path(work) / dump_name
            with archive.extractfile(members[dump_name]) as source, open(dump, "wb") as out:
                shutil.copyfileobj(source, out)
            database.load(dump)

        wanted = set()
        media_root.mkdir(parents=True, exist_ok=True)
        for name, member in members.items():
            path = safe_member(name)
            if path.parts[0] != "media" or len(path.parts) < 2:
                continue
            relative = Path(*path.parts[1:])
            if member.isdir():
                continue
            if not member.isfile():
                raise SystemExit(f"refusing a backup with the non-file member {name!r}")
            wanted.add(relative)
            destination = media_root / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_name(f".{destination.name}.restoring")
            with archive.extractfile(member) as source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(partial, destination)
    removed = 0
    for path in media_files(media_root):
        if path.relative_to(media_root) not in wanted:
            path.unlink()
            removed += 1
    for directory in sorted((p for p in media_root.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    print(
        f"restored the database and {len(wanted)} media files"
        f" ({removed} files not in the backup removed)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write a backup file")
    make.add_argument("--dir", default=str(BASE_DIR / "backups"), help="default: backups/")
    make.add_argument("--keep", type=int, default=0, help="keep only the newest N backups")
    back = commands.add_parser("restore", help="restore a backup file")
    back.add_argument("file")
    back.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    back.add_argument("--no-safety-backup", action="store_true")
    args = parser.parse_args(argv)
    settings = django_settings()
    if args.command == "backup":
        backup(settings, Path(args.dir).resolve(), keep=max(args.keep, 0))
    else:
        file = Path(args.file).resolve()
        if not file.is_file():
            raise SystemExit(f"no such backup: {file}")
        restore(settings, file, yes=args.yes, safety=not args.no_safety_backup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
