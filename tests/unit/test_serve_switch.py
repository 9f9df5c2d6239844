"""``facegate serve`` sets the interpreter's switch interval from its setting before serving.

Kiosk frames hand the interpreter lock back and forth dozens of times each; beside a
snapshot rebuild running Python code, each hand-back waited CPython's default 5 ms
(README, "One complex under load": 25,000 residents, frame p95 254.6 -> 203.5 ms at 0.5 ms).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from facegate.cli import app


def test_serve_sets_the_switch_interval_it_is_given(
    tmp_path: Path, session_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("FACEGATE_CACHE_DIR", str(session_cache_dir))
    monkeypatch.setenv("FACEGATE_SERVER__ENVIRONMENT", "development")
    monkeypatch.setenv("FACEGATE_SERVER__SWITCH_INTERVAL_MS", "2")
    monkeypatch.setenv("FACEGATE_SERVER__AUDIT_CHECKPOINT_EVERY_S", "0")
    seen: list[float] = []

    def run(*args: Any, **kwargs: Any) -> None:
        seen.append(sys.getswitchinterval())

    before = sys.getswitchinterval()
    monkeypatch.setattr(uvicorn, "run", run)
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["site", "init", "--name", "Oak Court"]).exit_code == 0
        result = runner.invoke(app, ["serve", "--port", "8999"])
        assert result.exit_code == 0, result.output
    finally:
        sys.setswitchinterval(before)
    assert seen == [pytest.approx(0.002)]
