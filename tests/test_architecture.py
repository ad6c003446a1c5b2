"""Imports point down only (design.md section 2): the core and the service layer stay free of edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EDGE_LIBRARIES = {"sqlalchemy", "alembic", "litestar", "apscheduler", "uvicorn", "click", "lxml", "psycopg", "csv", "xml"}


def imported_modules(package_dir: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


def offenders(package_dir: Path, allowed_own: tuple[str, ...], forbidden_roots: set[str]) -> list[str]:
    problems = []
    for path, names in imported_modules(package_dir).items():
        for name in names:
            root = name.split(".")[0]
            if root in forbidden_roots:
                problems.append(f"{path} imports {name}")
            if root == "budget_ledger" and not name.startswith(allowed_own):
                problems.append(f"{path} imports {name}")
    return problems


def test_the_ledger_core_imports_nothing_of_ours_but_itself():
    assert offenders(REPO / "budget_ledger" / "ledger", ("budget_ledger.ledger",), EDGE_LIBRARIES) == []


def test_the_rules_import_only_the_ledger_core():
    assert offenders(REPO / "budget_ledger" / "rules", ("budget_ledger.ledger", "budget_ledger.rules"), EDGE_LIBRARIES) == []


@pytest.mark.parametrize("edge", sorted(EDGE_LIBRARIES))
def test_the_service_layer_imports_no_web_database_scheduler_or_file_format_code(edge):
    service_files = {p: n for p, n in imported_modules(REPO / "budget_ledger").items()}
    bad = [f"{p} imports {n}" for p, names in service_files.items() for n in names
           if n.split(".")[0] == edge or n.startswith("budget_ledger.adapters")]
    assert bad == []
