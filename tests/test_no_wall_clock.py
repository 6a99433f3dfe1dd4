"""Speed is measured in make bench, never in tests: a wall-clock assertion fails on a busy
machine. No test module reads a clock to time code."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCKS = {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time"}


def clock_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in CLOCKS
    ]


def test_no_test_times_code_with_a_clock():
    found = {
        path.name: clock_calls(path)
        for path in sorted(TESTS.glob("test_*.py"))
        if clock_calls(path)
    }
    assert found == {}
