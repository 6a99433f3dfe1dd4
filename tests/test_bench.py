"""The benchmark (bench/run.py, `make bench`) runs: tiny sizes, every figure in results.json.

Not a performance test: the figures of a tiny run mean nothing. It runs the real script in a
subprocess (it sets Django up on its own databases, plantracker_bench_test_<random> and
…_scale, and drops them), with 3 plans, 200 rows, 2 runs and 2 s of load. Skipped only when
PostgreSQL cannot be reached."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from .test_load import load_script

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.load

KEYS = (
    "dashboard_scale_ratio",
    "workspace_scale_ratio",
    "max_queries_per_page",
    "import_vs_openpyxl",
    "export_vs_openpyxl",
    "update_vs_trivial",
    "import_peak_mb",
    "admin_preview_vs_import",
    "plan_import_scale_ratio",
)
ABSOLUTE = (
    "dashboard_ms_alone",
    "dashboard_ms_at_scale",
    "workspace_ms_alone",
    "workspace_ms_at_scale",
    "import_s",
    "import_rows_per_s",
    "openpyxl_read_s",
    "export_s",
    "export_rows_per_s",
    "openpyxl_write_s",
    "admin_preview_s",
    "save_per_s",
    "ping_per_s",
    "plan_import_1x_s",
    "plan_import_10x_s",
)


def test_bench_runs_on_tiny_sizes_and_writes_every_figure(tmp_path):
    loadserver = load_script("loadserver")
    unreachable = loadserver.pg_unreachable()
    if unreachable:
        pytest.skip(f"PostgreSQL is unreachable: {unreachable}")
    database = f"plantracker_bench_test_{secrets.token_hex(4)}"
    output = tmp_path / "results.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "bench/run.py",
            "--plans=3",
            "--rows=200",
            "--runs=2",
            "--io-runs=1",
            "--load-seconds=2",
            "--load-rounds=1",
            "--clients=3",
            "--workers=2",
            f"--database={database}",
            f"--output={output}",
            "--quiet",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text(encoding="utf-8"))

    for key in KEYS:
        assert isinstance(results[key], int | float), key
        assert key in results["goals"], key
    assert results["database"].startswith("PostgreSQL ")
    assert results["size"] == "3 plans"  # what was measured is recorded
    assert results["goals"]["max_queries_per_page"]["goal"] == "<= 12"
    for key in ABSOLUTE:
        assert results["absolute"][key] > 0, key
    assert results["data"]["at_scale"]["plans"] == 4  # the 2014 plan and 3 copies
    assert results["data"]["alone"]["plans"] == 2
    # Every main page was counted at both sizes, the same number of queries.
    assert len(results["queries"]["alone"]) == 11
    assert results["queries"]["alone"] == results["queries"]["at_scale"]
    assert results["queries_same_at_scale"] is True
    # The load ran against gunicorn and nothing failed.
    assert results["load"]["failed_requests"] == 0
    assert results["load"]["server_errors"] == []
    assert "| dashboard_scale_ratio" not in done.stdout  # a table, not markdown
    assert "dashboard_scale_ratio" in done.stdout
    # Both databases are gone.
    connection = loadserver._connect(loadserver.server_url())
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_database WHERE datname LIKE %s", [f"{database}%"]
            )
            assert cursor.fetchone()[0] == 0
    finally:
        connection.close()
