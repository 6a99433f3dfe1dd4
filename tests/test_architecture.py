"""The rooms of the house and which way imports point (docs/architecture.md):
spreadsheets ← departments ← plan ← tasks. A module may import only from its own room and the
rooms below it; the check reads every module's import statements, those inside functions too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["spreadsheets", "departments", "plan", "tasks", "supervision"]  # bottom first
OURS = {*LAYERS, "plantracker"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
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
