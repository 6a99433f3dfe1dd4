"""Load test against a real server: gunicorn (3 workers) in production mode on 127.0.0.1,
a PostgreSQL database of its own, six clients saving and submitting the same report.

Every save must either be accepted and appear in the report's history, or be refused as
stale with the 保存未成功 message; the counts add up exactly and no request fails. The larger
run is `make loadtest` (same scripts). Skipped only when PostgreSQL cannot be reached."""

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _marker_registered(name: str) -> bool:
    """pytest runs with --strict-markers: use the marker only once pyproject registers it."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        options = tomllib.load(file).get("tool", {}).get("pytest", {}).get("ini_options", {})
    return any(line.split(":")[0].strip() == name for line in options.get("markers", []))


if _marker_registered("load"):
    pytestmark = pytest.mark.load


def load_script(name: str):
    """Imports scripts/<name>.py (scripts/ is not a package)."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"plantracker_scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_concurrent_edits_of_one_report_add_up(tmp_path):
    loadserver = load_script("loadserver")
    loadtest = load_script("loadtest")
    unreachable = loadserver.pg_unreachable()
    if unreachable:
        pytest.skip(f"PostgreSQL is unreachable: {unreachable}")

    with loadserver.LoadServer(workers=3, users=3, workdir=tmp_path, log=lambda *_: None) as server:
        result = loadtest.run(
            server.base_url,
            server.users,
            clients=6,
            duration=12,
            attempts=25,
            submit_ratio=0.05,
            think=0.02,
            seed=2014,
            log=lambda *_: None,
        )
        db_problems = loadserver.verify_db(server.database_url, result)
        server_log = server.log_tail(400)

    summary = result.summary()
    print(summary)  # shown with -s or on failure: the measured numbers
    assert summary["server_errors_5xx"] == 0, server_log
    assert all(response.status is not None for response in result.responses)
    assert summary["attempted"] > 0
    assert summary["accepted"] + summary["refused"] == summary["attempted"], [
        (a.status, a.detail) for a in result.attempts if a.outcome == "error"
    ][:3]
    # Six clients on one report: some saves win, many lose the race and are refused.
    assert summary["accepted"] > 0
    assert summary["refused"] > 0
    # Through the site: history pages and final versions agree with the accepted saves.
    failed = [check for check in result.checks if not check.ok]
    assert not failed, failed
    # And in the database itself.
    assert not db_problems, db_problems
    assert sum(result.final_versions.values()) == summary["accepted"] + sum(
        target.initial_version for target in result.targets
    )
    assert "[ERROR]" not in server_log, server_log
