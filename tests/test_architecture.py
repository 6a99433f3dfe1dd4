"""The rooms of the house and which way imports point (docs/architecture.md):
spreadsheets ← departments ← plan ← tasks. A module may import only from its own room and the
rooms below it; the check reads every module's import statements, those inside functions too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["spreadsheets", "departments", "plan", "tasks", "supervision"]  # bottom first
OURS = {*LAYERS, "plantracker"}
# Below every room: the app's clock (plantracker/clock.py reads only Django's settings).
BASEMENT = {"plantracker.clock"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {
                alias.name.split(".")[0] for alias in node.names if alias.name not in BASEMENT
            }
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            if node.module not in BASEMENT and not names <= BASEMENT:
                found.add(node.module.split(".")[0])
    return found & OURS


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", LAYERS)
def test_imports_point_down(package):
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - allowed)
        for path in modules_of(package)
        if imported_packages(path) - allowed
    }
    assert wrong == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from tasks.models import ProgressReport\n")
    assert imported_packages(module) == {"tasks"}


def test_spreadsheets_know_no_django_app_of_ours():
    for path in modules_of("spreadsheets"):
        assert imported_packages(path) <= {"spreadsheets"}, path


def test_the_clock_is_below_every_room_but_the_rest_of_plantracker_is_not(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from plantracker import clock\nimport plantracker.clock\n")
    assert imported_packages(module) == set()
    module.write_text("from plantracker import clock, settings\n")
    assert imported_packages(module) == {"plantracker"}
