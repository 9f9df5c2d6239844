"""``facegate unit`` and ``facegate lift`` on a real SQLite site (issue 14 #2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facegate.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    payload = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, payload


def test_a_unit_gives_its_floor_and_grants_add_floors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))
    assert run("site", "init", "--name", "Oak Court")[0] == 0
    tower = run("building", "add", "--name", "Tower A")[1]["id"]
    other = run("building", "add", "--name", "Tower B")[1]["id"]
    floors = [arg for f in range(6) for arg in ("--floor", str(f))]
    run("lift", "add", "--building", tower, "--name", "A1", *floors)
    run("lift", "add", "--building", other, "--name", "B1", *floors)
    unit = run("unit", "add", "--building", tower, "--label", "4C", "--floor", "4")[1]["id"]
    ann = run("person", "add", "--name", "Ann")[1]["id"]
    assert run("unit", "assign", ann, "--unit", unit) == (0, {"person_id": ann, "unit_id": unit})
    code, rule = run("lift", "grant", "--person", ann, "--floor", "1", "--building", other)
    assert (code, rule["floors"], rule["building_id"]) == (0, [1], other)
    code, shown = run("lift", "floors", ann)
    assert (code, shown["home_floor"]) == (0, 4)
    assert {x["name"]: x["floors"] for x in shown["lifts"]} == {"A1": [4], "B1": [1]}
    assert run("lift", "grant", "--person", ann, "--floor", "1000")[0] == 3
    assert run("lift", "grant", "--floor", "1")[0] == 3  # neither person nor role
    assert run("unit", "assign", ann, "--unit", "nope")[0] == 3
