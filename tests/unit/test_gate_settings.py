"""Gate settings from the environment, and the liveness the gate builds from them."""

from __future__ import annotations

import pytest

from facegate.bootstrap_gate import build_gate_liveness
from facegate.config import Settings


def test_no_liveness_is_the_default() -> None:
    settings = Settings()
    assert settings.gate.liveness == "none"
    assert build_gate_liveness(settings) == (None, 1)


def test_liveness_none_can_be_set_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS", "none")
    assert Settings().gate.liveness == "none"


def test_motion_liveness_uses_the_configured_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS", "motion")
    monkeypatch.setenv("FACEGATE_GATE__MOTION_FRAMES", "12")
    check, frames = build_gate_liveness(Settings())
    assert check is not None
    assert check.cue_names == ("motion",)
    assert frames == 12


def test_http_upstream_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__UPSTREAM", "http")
    monkeypatch.setenv("FACEGATE_GATE__SERVER_URL", "https://site.local:8000")
    monkeypatch.setenv("FACEGATE_GATE__DEVICE_KEY", "s3cret")
    gate = Settings().gate
    assert (gate.upstream, gate.server_url) == ("http", "https://site.local:8000")
    assert gate.device_key is not None
    assert "s3cret" not in repr(gate)
