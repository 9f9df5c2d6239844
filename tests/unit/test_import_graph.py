"""The layers' import rules, read from the source (no import runs)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "facegate"


def imported_modules(package: str) -> dict[str, set[str]]:
    """For each module file under ``facegate.<package>``, the facegate modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(SRC))] = {n for n in names if n.startswith("facegate")}
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("api", ("facegate.web", "facegate.app")),
        ("web", ("facegate.api", "facegate.app")),
        ("http", ("facegate.api", "facegate.web", "facegate.app")),
        ("domain", ("facegate.",)),
    ],
)
def test_package_does_not_import(package: str, forbidden: tuple[str, ...]) -> None:
    allowed_domain = ("facegate.domain",)
    offenders = [
        f"{module} imports {name}"
        for module, names in imported_modules(package).items()
        for name in names
        if name.startswith(forbidden)
        and not (package == "domain" and name.startswith(allowed_domain))
    ]
    assert offenders == []


def test_the_graph_reader_sees_imports() -> None:
    """The checker itself finds a known import (a reader that saw nothing would pass)."""
    assert "facegate.http.deps" in imported_modules("api")["api/routes/doors.py"]
