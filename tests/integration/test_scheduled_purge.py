"""``facegate purge --every``: bounded runs, each audited; SIGTERM ends it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli import app

runner = CliRunner()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))
    assert runner.invoke(app, ["site", "init", "--name", "Oak Court"]).exit_code == 0
    return tmp_path / "site"


def test_bounded_runs_print_one_json_line_each(site: Path) -> None:
    result = runner.invoke(app, ["purge", "--every", "0.01s", "--runs", "3", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["total"] for line in lines] == [0, 0, 0]
    verdict = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert (verdict["intact"], verdict["records"]) == (True, 4)  # site.init + 3 purges


def test_bad_schedules_are_refused(site: Path) -> None:
    assert runner.invoke(app, ["purge", "--every", "soon"]).exit_code == 3
    assert runner.invoke(app, ["purge", "--runs", "2"]).exit_code == 2


def test_sigterm_ends_the_loop_cleanly(site: Path) -> None:
    command = [sys.executable, "-c", "from facegate.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "purge", "--every", "1h", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["total"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
