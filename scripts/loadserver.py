#!/usr/bin/env python3
"""A throw-away Plan Tracker server for the load test, and the database-side checks.

`LoadServer` creates a dedicated PostgreSQL database (plantracker_load_<random>), migrates it,
loads the 2014 plan, collects static files, creates office staff accounts in 专利管理处 with a
known random password, and serves the app with gunicorn on 127.0.0.1 (a free port) in
production mode (DJANGO_DEBUG=false; plain http, so secure cookies and the SSL redirect are
off). Leaving the `with` block stops gunicorn and drops the database.

`verify_db` checks a loadtest.Result against the database itself: the ReportVersion rows
written during the run are exactly the accepted saves, and each report's version is its
initial version plus its accepted saves.

Run directly (what `make loadtest` does), it serves, runs scripts/loadtest.py against the
server, checks the database too, prints the summary and cleans up:

    .venv/bin/python scripts/loadserver.py --clients 24 --duration 60 --workers 3

The PostgreSQL server is $LOADTEST_PG_URL, else $DATABASE_URL when that is postgres://,
else postgres://postgres@127.0.0.1:5432/postgres; only its host, port and user are used.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
OFFICE = "专利管理处"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"

SETUP = """
import os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from departments import roles
from departments.models import Department

call_command("migrate", interactive=False, verbosity=0)
call_command("ensure_plan", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
office = Department.objects.get(name=os.environ["LOADTEST_OFFICE"])
staff = Group.objects.get_or_create(name=roles.STAFF)[0]
for name in os.environ["LOADTEST_USERS"].split(","):
    user = get_user_model().objects.create_user(name, password=os.environ["LOADTEST_PASSWORD"])
    user.groups.add(staff)
    office.members.add(user)
print("ready")
"""


def load_script(name: str):
    """Imports scripts/<name>.py (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"plantracker_scripts_{name}", SCRIPTS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def server_url() -> str:
    url = os.environ.get("LOADTEST_PG_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_PG


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _connect(url: str, dbname: str = "postgres"):
    import psycopg2

    parts = urllib.parse.urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password or "") or None,
        dbname=dbname,
        connect_timeout=3,
    )


def pg_unreachable(url: str | None = None) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        _connect(url or server_url()).close()
    except Exception as error:  # noqa: BLE001 - any failure means: skip
        return f"PostgreSQL at {urllib.parse.urlsplit(url or server_url()).netloc}: {error}"
    return None


def create_database(url: str, name: str) -> None:
    connection = _connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(url: str, name: str) -> None:
    connection = _connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


class LoadServer:
    def __init__(self, *, workers: int = 3, users: int = 3, workdir: Path | None = None, log=print):
        self.workers, self.log = workers, log
        self.pg = server_url()
        self.db_name = f"plantracker_load_{secrets.token_hex(4)}"
        self.database_url = with_database(self.pg, self.db_name)
        password = secrets.token_urlsafe(12)
        self.users = [(f"load{index + 1}", password) for index in range(users)]
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="plantracker-load-")
        self.workdir = Path(workdir or self._tmp.name)
        self.log_path = self.workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PLANTRACKER_", "DATABASE_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_COOKIES="false",
            DJANGO_SSL_REDIRECT="false",
            DJANGO_MEDIA_ROOT=str(self.workdir / "media"),
            PYTHONUNBUFFERED="1",
        )
        return env

    def __enter__(self) -> LoadServer:
        create_database(self.pg, self.db_name)
        try:
            self._setup()
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _setup(self) -> None:
        started = time.monotonic()
        env = self.env() | {
            "LOADTEST_OFFICE": OFFICE,
            "LOADTEST_USERS": ",".join(name for name, _ in self.users),
            "LOADTEST_PASSWORD": self.users[0][1],
        }
        done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "shell", "-c", SETUP],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or "ready" not in done.stdout:
            raise RuntimeError(f"setting up {self.db_name} failed:\n{done.stdout}\n{done.stderr}")
        self.log(f"database {self.db_name} ready in {time.monotonic() - started:.1f} s")

    def _start(self) -> None:
        started = time.monotonic()
        log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self._logfile = log
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            [
                sys.executable,
                "-m",
                "gunicorn",
                "plantracker.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                "127.0.0.1:0",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                *self.gunicorn_options(),
            ],
            cwd=BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not self.base_url:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}")
            for line in self.log_path.read_text(errors="replace").splitlines():
                if "Listening at: http://127.0.0.1:" in line:
                    self.base_url = line.split("Listening at: ")[1].split()[0]
            time.sleep(0.1)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            try:
                with opener.open(self.base_url + "/accounts/login/", timeout=10) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn does not answer:\n{self.log_tail()}")
            time.sleep(0.2)
        self.log(
            f"gunicorn ({self.workers} workers) at {self.base_url} "
            f"in {time.monotonic() - started:.1f} s"
        )

    def gunicorn_options(self) -> list[str]:
        """Worker options beyond --workers (the load test: gunicorn's sync workers)."""
        return []

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own session: gunicorn + workers
            self.process.wait(5)

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            if getattr(self, "_logfile", None):
                self._logfile.close()
            drop_database(self.pg, self.db_name)
            if self._tmp:
                self._tmp.cleanup()


def verify_db(database_url: str, result) -> list[str]:
    """Problems found comparing the run's attempts with the database (empty: all agree)."""
    problems = []
    connection = _connect(database_url, urllib.parse.urlsplit(database_url).path.lstrip("/"))
    try:
        with connection.cursor() as cursor:
            for target in result.targets:
                mine = [a for a in result.attempts if a.target == target.path]
                won = [a for a in mine if a.outcome == "accepted"]
                lost = {a.token for a in mine if a.outcome == "refused"}
                cursor.execute(
                    "SELECT id, version FROM tasks_progressreport"
                    " WHERE milestone_id = %s AND quarter = %s",
                    (target.milestone, target.quarter),
                )
                row = cursor.fetchone()
                report_id, version = row if row else (None, 0)
                if version != target.initial_version + len(won):
                    problems.append(
                        f"{target.path}: version {version} in the database, "
                        f"{target.initial_version} + {len(won)} accepted"
                    )
                cursor.execute(
                    "SELECT v.version, u.username, v.event, v.done_text"
                    " FROM tasks_reportversion v JOIN auth_user u ON u.id = v.by_id"
                    " WHERE v.report_id = %s AND v.version > %s ORDER BY v.version",
                    (report_id, target.initial_version),
                )
                found = {
                    (number, user, event, text.split()[0] if text else "")
                    for number, user, event, text in cursor.fetchall()
                }
                expected = {
                    (
                        a.base_version + 1,
                        a.user,
                        "submitted" if a.action == "submit" else "saved",
                        a.token,
                    )
                    for a in won
                }
                if found != expected:
                    problems.append(
                        f"{target.path}: history rows {sorted(found - expected)[:3]} not accepted,"
                        f" accepted saves {sorted(expected - found)[:3]} missing"
                    )
                leaked = lost & {token for *_, token in found}
                if leaked:
                    problems.append(
                        f"{target.path}: refused saves in history: {sorted(leaked)[:3]}"
                    )
    finally:
        connection.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a throw-away copy and load-test it.")
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--attempts", type=int, default=1000, help="saves per client, at most")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=6, help="staff accounts in 专利管理处")
    parser.add_argument("--submit-ratio", type=float, default=0.02)
    parser.add_argument("--think", type=float, default=0.05)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--json", help="write the summary, every attempt and response here")
    args = parser.parse_args(argv)
    loadtest = load_script("loadtest")
    reason = pg_unreachable()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with LoadServer(workers=args.workers, users=args.users) as server:
        result = loadtest.run(
            server.base_url,
            server.users,
            clients=args.clients,
            duration=args.duration,
            attempts=args.attempts,
            submit_ratio=args.submit_ratio,
            think=args.think,
            seed=args.seed,
        )
        problems = verify_db(server.database_url, result)
        result.checks.append(
            loadtest.Check(
                "database agrees (ReportVersion rows, versions)",
                not problems,
                "; ".join(problems[:5]),
            )
        )
        errors = [line for line in server.log_tail(400).splitlines() if "[ERROR]" in line]
    summary = result.summary()
    summary["workers"] = args.workers
    loadtest.print_summary(summary)
    if errors:
        print(f"  gunicorn logged {len(errors)} errors, e.g. {errors[0]}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result.to_json() | {"summary": summary}, out, ensure_ascii=False, indent=1)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
