#!/usr/bin/env python3
"""Load test of a running Plan Tracker server: concurrent office staff editing the SAME report.

Standard library only. Each client logs in (GET the login page for the CSRF token, POST the
credentials), then, until its attempt budget or the time limit runs out: loads the current
report's form, and saves it as a draft or (now and then) submits it. All clients work on one
report at a time; once a report is submitted it can no longer be edited, and the clients move
on to the next milestone of the office's list (`/work/`). A client whose form went stale is
refused ("保存未成功") and simply loads the form again on its next attempt.

Every response is recorded. Afterwards the run is checked through the site itself (the form
page and the report's history page):

- no response was a 5xx;
- every save was either accepted (302 to 我的工作) or refused as stale (200 with 保存未成功),
  so accepted + refused == attempted;
- every accepted save is in the report's history, as the version after the one its form was
  built from, by its user, with its text; no refused save's text is;
- each report's final version == its version before the run + the saves accepted on it.

Only loopback addresses (127.0.0.0/8, ::1, localhost) are accepted as targets, and the run is
bounded in clients, attempts and seconds; it stops by itself.

    python scripts/loadtest.py --base-url http://127.0.0.1:8000 \\
        --user zhuanli:PASSWORD --clients 6 --duration 15 --attempts 40

A user given without ":PASSWORD" takes the password from $LOADTEST_PASSWORD. Exit status 0
when every check passed, 1 otherwise; --json FILE writes every response and attempt.
"""

from __future__ import annotations

import argparse
import html
import http.client
import http.cookiejar
import ipaddress
import json
import os
import random
import re
import socket
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field

MAX_CLIENTS = 64
MAX_DURATION = 600.0
MAX_ATTEMPTS = 10_000
REQUEST_TIMEOUT = 20.0
MAX_CONSECUTIVE_ERRORS = 5
STALE_MESSAGE = "保存未成功"

VERSION_INPUT = re.compile(r'name="version"[^>]*\bvalue="(\d+)"|value="(\d+)"[^>]*name="version"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
EDIT_LINK = re.compile(r'href="(/work/milestones/(\d+)/q(\d)/)"')
DETAIL_LINK = re.compile(r'href="/reports/(\d+)/"')
VERSION_LABEL = re.compile(r"第(\d+)版")
HISTORY_ROW = re.compile(r'<tr class="version-row event-(\w+)">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TOKEN = re.compile(r"LT[0-9a-f]+-c\d+-a\d+")


def check_loopback(base_url: str) -> str:
    """The base URL without a trailing slash; refuses anything but plain http(s) on loopback."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"--base-url must be http://HOST:PORT, not {base_url!r}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    except socket.gaierror as error:
        raise SystemExit(f"cannot resolve {parts.hostname!r}: {error}") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            raise SystemExit(f"refusing to load-test {parts.hostname} ({address}): loopback only")
    return base_url.rstrip("/")


# --- Records ---------------------------------------------------------------------------


@dataclass
class Response:
    client: int
    method: str
    path: str
    status: int | None  # None: no HTTP response (connection error, time-out)
    seconds: float
    at: float
    error: str = ""


@dataclass
class Attempt:
    client: int
    user: str
    target: str  # "/work/milestones/<id>/q<quarter>/"
    base_version: int
    action: str  # save or submit
    token: str
    status: int | None
    outcome: str  # accepted, refused or error
    seconds: float
    detail: str = ""


@dataclass
class Target:
    path: str
    milestone: int
    quarter: int
    initial_version: int = 0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Result:
    base_url: str
    clients: int
    users: list[str]
    duration: float
    responses: list[Response] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    final_versions: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def count(self, outcome: str) -> int:
        return sum(1 for attempt in self.attempts if attempt.outcome == outcome)

    def summary(self) -> dict:
        statuses: dict[str, int] = {}
        for response in self.responses:
            key = str(response.status) if response.status is not None else "no response"
            statuses[key] = statuses.get(key, 0) + 1
        posts = [a.seconds for a in self.attempts if a.status is not None]
        gets = [r.seconds for r in self.responses if r.method == "GET" and r.status is not None]
        return {
            "base_url": self.base_url,
            "clients": self.clients,
            "users": self.users,
            "duration_s": round(self.duration, 2),
            "requests": len(self.responses),
            "requests_per_s": round(len(self.responses) / self.duration, 1)
            if self.duration
            else 0.0,
            "statuses": dict(sorted(statuses.items())),
            "server_errors_5xx": sum(
                1 for r in self.responses if r.status is not None and r.status >= 500
            ),
            "attempted": len(self.attempts),
            "accepted": self.count("accepted"),
            "refused": self.count("refused"),
            "other": self.count("error"),
            "submitted": sum(
                1 for a in self.attempts if a.outcome == "accepted" and a.action == "submit"
            ),
            "reports_used": len(self.final_versions),
            "save_ms": _percentiles(posts),
            "get_ms": _percentiles(gets),
            "ok": self.ok,
            "checks": [asdict(check) for check in self.checks],
        }

    def to_json(self) -> dict:
        return {
            "summary": self.summary(),
            "targets": [asdict(target) for target in self.targets],
            "final_versions": self.final_versions,
            "attempts": [asdict(attempt) for attempt in self.attempts],
            "responses": [asdict(response) for response in self.responses],
        }


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {}
    ms = sorted(value * 1000 for value in seconds)
    quantiles = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {
        "p50": round(quantiles[49], 1),
        "p95": round(quantiles[94], 1),
        "max": round(ms[-1], 1),
    }


# --- One client's browser --------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx comes back as it is (HTTPError), so it can be recorded


class Browser:
    """A cookie jar and a recorder; no proxies (loopback only), no redirects followed."""

    def __init__(self, base_url: str, client: int, result: Result, lock: threading.Lock):
        self.base_url, self.client, self.result, self.lock = base_url, client, result, lock
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        )

    def request(self, method: str, path: str, data: dict | None = None):
        """(status or None, headers, body text) for one request; records the response."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - base URL checked: http(s), loopback
            self.base_url + path,
            data=body,
            method=method,
            headers={"Accept-Language": "zh-hans", "Referer": self.base_url + path},
        )
        started = time.monotonic()
        status, headers, text, error = None, {}, "", ""
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, headers = response.status, response.headers
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as failure:
            status, headers = failure.code, failure.headers
            text = failure.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as failure:
            error = f"{type(failure).__name__}: {failure}"
        seconds = time.monotonic() - started
        with self.lock:
            self.result.responses.append(
                Response(self.client, method, path, status, seconds, started, error)
            )
        return status, headers, text

    def login(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page) if status == 200 else None
        if token is None:
            raise RuntimeError(f"login page for {username}: status {status}, no CSRF token")
        status, headers, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": html.unescape(token.group(1)),
                "username": username,
                "password": password,
                "next": "",
            },
        )
        if status != 302:
            raise RuntimeError(f"login as {username} refused (status {status})")


def parse_form(page: str) -> tuple[int, str] | None:
    """(version, CSRF token) of an editable report form; None when the page has no form (a
    submitted report's page has only small forms, such as 撤回, with versions of their own)."""
    start = page.find("report-form")
    if start < 0:
        return None
    form = page[start : page.find("</form>", start)]
    version, token = VERSION_INPUT.search(form), CSRF_INPUT.search(form)
    if version is None or token is None:
        return None
    return int(version.group(1) or version.group(2)), html.unescape(token.group(1))


def shown_version(page: str) -> int:
    """The report's version the form page states (第N版); 0 for a report not written yet."""
    form = parse_form(page)
    if form is not None:
        return form[0]
    label = VERSION_LABEL.search(page)
    return int(label.group(1)) if label else 0


# --- The shared report -----------------------------------------------------------------


class Targets:
    """The reports to work on, in order; every client works on the current one."""

    def __init__(self, paths: list[tuple[str, int, int]]):
        self.candidates = [Target(path, milestone, quarter) for path, milestone, quarter in paths]
        self.used: list[Target] = []
        self.index = -1
        self.lock = threading.Lock()

    def current(self) -> tuple[int, Target | None]:
        with self.lock:
            if 0 <= self.index < len(self.candidates):
                return self.index, self.candidates[self.index]
            return self.index, None

    def advance(self, seen: int, browser: Browser) -> None:
        """Moves on from target `seen` (if nobody has yet) to the next editable one, recording
        its version before any client may touch it."""
        with self.lock:
            if self.index != seen:
                return
            while True:
                self.index += 1
                if self.index >= len(self.candidates):
                    return
                target = self.candidates[self.index]
                status, _, page = browser.request("GET", target.path)
                if status == 200 and parse_form(page) is not None:
                    target.initial_version = parse_form(page)[0]
                    self.used.append(target)
                    return


# --- The run ---------------------------------------------------------------------------


def discover(browser: Browser, plan: int | None, quarter: int | None) -> list[tuple[str, int, int]]:
    """The report forms linked from 我的工作 for the given quarter (default: all four)."""
    seen, paths = set(), []
    for number in [quarter] if quarter else [1, 2, 3, 4]:
        query = urllib.parse.urlencode(
            {key: value for key, value in (("plan", plan), ("quarter", number)) if value}
        )
        status, _, page = browser.request("GET", f"/work/?{query}")
        if status != 200:
            raise RuntimeError(f"我的工作 page: status {status}")
        for path, milestone, quarter_ in EDIT_LINK.findall(page):
            if path not in seen:
                seen.add(path)
                paths.append((path, int(milestone), int(quarter_)))
    return paths


def client_loop(
    client: int,
    browser: Browser,
    user: str,
    targets: Targets,
    result: Result,
    lock: threading.Lock,
    stop: threading.Event,
    *,
    attempts: int,
    submit_ratio: float,
    think: float,
    run_id: str,
    seed: int,
) -> None:
    rng = random.Random(seed)
    made = errors = 0
    while made < attempts and not stop.is_set() and errors < MAX_CONSECUTIVE_ERRORS:
        index, target = targets.current()
        if target is None:
            return
        status, _, page = browser.request("GET", target.path)
        if status != 200:
            errors += 1
            stop.wait(0.2)
            continue
        form = parse_form(page)
        if form is None:  # submitted by someone: no longer editable
            targets.advance(index, browser)
            continue
        version, token = form
        made += 1
        action = "submit" if rng.random() < submit_ratio else "save"
        marker = f"LT{run_id}-c{client}-a{made}"
        started = time.monotonic()
        status, headers, page = browser.request(
            "POST",
            target.path,
            {
                "csrfmiddlewaretoken": token,
                "version": version,
                "status": "in_progress",
                "percent": rng.randint(0, 99),
                "done_text": f"{marker} 负载测试:第{made}次保存",
                "problems_text": f"客户端{client}",
                action: "",
            },
        )
        seconds = time.monotonic() - started
        location = headers.get("Location", "") if headers else ""
        if status == 302 and "/work/" in location:
            outcome, detail = "accepted", ""
        elif status == 200 and STALE_MESSAGE in page:
            outcome, detail = "refused", ""
        else:
            outcome = "error"
            detail = f"location={location!r} " + re.sub(r"\s+", " ", page)[:300]
        errors = errors + 1 if outcome == "error" else 0
        with lock:
            result.attempts.append(
                Attempt(
                    client,
                    user,
                    target.path,
                    version,
                    action,
                    marker,
                    status,
                    outcome,
                    seconds,
                    detail,
                )
            )
        if think:
            stop.wait(rng.uniform(0, think))


def run(
    base_url: str,
    users: list[tuple[str, str]],
    *,
    clients: int = 6,
    duration: float = 15.0,
    attempts: int = 40,
    submit_ratio: float = 0.05,
    think: float = 0.05,
    plan: int | None = None,
    quarter: int | None = None,
    seed: int | None = None,
    log=print,
) -> Result:
    """Runs the load and the checks; returns the Result (see Result.ok and .summary())."""
    base_url = check_loopback(base_url)
    if not users:
        raise SystemExit("give at least one --user")
    if not 1 <= clients <= MAX_CLIENTS:
        raise SystemExit(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 < duration <= MAX_DURATION:
        raise SystemExit(f"--duration must be 0..{MAX_DURATION:.0f} seconds")
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise SystemExit(f"--attempts must be 1..{MAX_ATTEMPTS}")
    seed = random.randrange(1 << 30) if seed is None else seed
    run_id = f"{seed:x}"
    result = Result(base_url, clients, sorted({user for user, _ in users}), 0.0)
    lock = threading.Lock()

    browsers = []
    for client in range(clients):
        user, password = users[client % len(users)]
        browser = Browser(base_url, client, result, lock)
        browser.login(user, password)
        browsers.append((browser, user))
    targets = Targets(discover(browsers[0][0], plan, quarter))
    if not targets.candidates:
        raise RuntimeError("no report to edit on 我的工作 for the first user")
    targets.advance(-1, browsers[0][0])
    if targets.current()[1] is None:
        raise RuntimeError("none of the office's reports is editable")
    log(
        f"{clients} clients as {', '.join(result.users)}; {len(targets.candidates)} reports "
        f"available; up to {attempts} saves each within {duration:g} s (run {run_id})"
    )

    stop = threading.Event()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(client, browser, user, targets, result, lock, stop),
            kwargs={
                "attempts": attempts,
                "submit_ratio": submit_ratio,
                "think": think,
                "run_id": run_id,
                "seed": seed + client,
            },
            name=f"load-client-{client}",
            daemon=True,
        )
        for client, (browser, user) in enumerate(browsers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    deadline = started + duration
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    for thread in threads:  # a request under way finishes or times out
        thread.join(REQUEST_TIMEOUT + 5)
    result.duration = time.monotonic() - started
    result.targets = list(targets.used)
    if any(thread.is_alive() for thread in threads):
        result.checks.append(Check("clients stopped", False, "a client did not stop in time"))
    verify_over_http(result, browsers[0][0])
    return result


def history(browser: Browser, report_pk: int) -> list[dict]:
    status, _, page = browser.request("GET", f"/reports/{report_pk}/")
    if status != 200:
        raise RuntimeError(f"history of report {report_pk}: status {status}")
    rows = []
    for event, row in HISTORY_ROW.findall(page):
        cells = CELL.findall(row)
        rows.append(
            {
                "event": event,
                "version": int(cells[0].strip()),
                # people are shown as "name(office)": the name is the load users' login
                "by": html.unescape(re.sub(r"<[^>]+>", "", cells[2]).strip()).split("(")[0],
                "text": html.unescape(cells[-1]),
            }
        )
    return rows


def verify_over_http(result: Result, browser: Browser) -> None:
    """The checks of the module docstring, through the form and history pages."""
    attempted, accepted = len(result.attempts), result.count("accepted")
    refused = result.count("refused")
    fivexx = [r for r in result.responses if r.status is not None and r.status >= 500]
    no_answer = [r for r in result.responses if r.status is None]
    result.checks.append(
        Check("no 5xx", not fivexx, f"{len(fivexx)} responses with 5xx" if fivexx else "")
    )
    result.checks.append(
        Check(
            "every request answered",
            not no_answer,
            "; ".join(sorted({r.error for r in no_answer}))[:300],
        )
    )
    others = [a for a in result.attempts if a.outcome == "error"]
    result.checks.append(
        Check(
            "accepted + refused == attempted",
            accepted + refused == attempted,
            f"{accepted} + {refused} of {attempted}"
            + (f"; first other: {others[0].status} {others[0].detail}" if others else ""),
        )
    )
    result.checks.append(Check("some saves accepted", accepted > 0, f"{accepted} accepted"))

    problems: list[str] = []
    for target in result.targets:
        mine = [a for a in result.attempts if a.target == target.path]
        won = [a for a in mine if a.outcome == "accepted"]
        lost = {a.token for a in mine if a.outcome == "refused"}
        status, _, page = browser.request("GET", target.path)
        final = shown_version(page) if status == 200 else -1
        result.final_versions[target.path] = final
        if final != target.initial_version + len(won):
            problems.append(
                f"{target.path}: version {final} != {target.initial_version} + {len(won)} accepted"
            )
        if not won:
            continue
        link = DETAIL_LINK.search(page)
        if link is None:
            problems.append(f"{target.path}: no history link")
            continue
        rows = [
            r for r in history(browser, int(link.group(1))) if r["version"] > target.initial_version
        ]
        if len(rows) != len(won):
            problems.append(f"{target.path}: {len(rows)} new history rows, {len(won)} accepted")
        by_version = {row["version"]: row for row in rows}
        for attempt in won:
            row = by_version.get(attempt.base_version + 1)
            event = "submitted" if attempt.action == "submit" else "saved"
            if row is None or attempt.token not in TOKEN.findall(row["text"]):
                problems.append(f"{attempt.token}: not in history as v{attempt.base_version + 1}")
            elif row["by"] != attempt.user or row["event"] != event:
                problems.append(f"{attempt.token}: history says {row['by']} {row['event']}")
        for row in rows:
            leaked = lost & set(TOKEN.findall(row["text"]))
            if leaked:
                problems.append(f"refused {min(leaked)} is in the history (v{row['version']})")
    result.checks.append(
        Check(
            "history holds exactly the accepted saves; final version = initial + accepted",
            not problems,
            "; ".join(problems[:5])
            + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
        )
    )


# --- Command line ----------------------------------------------------------------------


def parse_users(values: list[str]) -> list[tuple[str, str]]:
    users = []
    for value in values:
        name, colon, password = value.partition(":")
        if not colon:
            password = os.environ.get("LOADTEST_PASSWORD", "")
            if not password:
                raise SystemExit(f"no password for {name}: use NAME:PASSWORD or $LOADTEST_PASSWORD")
        users.append((name, password))
    return users


def print_summary(summary: dict, out=sys.stdout) -> None:
    skip = ("checks", "users", "base_url")
    for key, value in summary.items():
        if key not in skip:
            print(f"  {key:<18} {value}", file=out)
    for check in summary["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"  {mark} {check['name']}" + (f": {check['detail']}" if check["detail"] else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000 (loopback)")
    parser.add_argument("--user", action="append", default=[], help="NAME[:PASSWORD], repeatable")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds, at most 600")
    parser.add_argument("--attempts", type=int, default=40, help="saves per client, at most")
    parser.add_argument("--submit-ratio", type=float, default=0.05)
    parser.add_argument("--think", type=float, default=0.05, help="max pause between saves (s)")
    parser.add_argument("--plan", type=int, help="plan id (default: the newest)")
    parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))
    parser.add_argument("--seed", type=int)
    parser.add_argument("--json", help="write the summary, every attempt and response here")
    args = parser.parse_args(argv)
    result = run(
        args.base_url,
        parse_users(args.user),
        clients=args.clients,
        duration=args.duration,
        attempts=args.attempts,
        submit_ratio=args.submit_ratio,
        think=args.think,
        plan=args.plan,
        quarter=args.quarter,
        seed=args.seed,
    )
    summary = result.summary()
    print_summary(summary)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result.to_json(), out, ensure_ascii=False, indent=1)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
