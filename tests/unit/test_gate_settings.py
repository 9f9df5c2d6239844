"""Gate settings from the environment, and the liveness the gate builds from them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from facegate import bootstrap_gate
from facegate.bootstrap_gate import build_gate_liveness
from facegate.config import Settings
from facegate.domain.liveness import LivenessSchedule
from facegate.vision.detection import DetectorModel


def test_the_layered_check_is_the_default() -> None:
    settings = Settings()
    assert settings.gate.liveness == "layered"
    check, schedule = build_gate_liveness(settings)
    assert check is not None
    assert check.cue_names == ("frame", "motion")
    assert schedule == LivenessSchedule()


def test_a_nir_camera_adds_the_nir_cue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__NIR_CAMERA", "1")
    check, _ = build_gate_liveness(Settings())
    assert check is not None
    assert check.cue_names == ("frame", "motion", "nir")


def test_liveness_none_can_be_set_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS", "none")
    settings = Settings()
    assert settings.gate.liveness == "none"
    assert build_gate_liveness(settings) == (None, LivenessSchedule())


def test_motion_liveness_uses_the_configured_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS", "motion")
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_WINDOW_S", "0.4")
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_STEP_S", "0.2")
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_MAX_S", "2.5")
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_MIN_FRAMES", "4")
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_GROW", "true")
    check, schedule = build_gate_liveness(Settings())
    assert check is not None
    assert check.cue_names == ("motion",)
    assert schedule == LivenessSchedule(0.4, 0.2, 2.5, min_frames=4, grow=True)


def test_an_impossible_schedule_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS_WINDOW_S", "4")
    with pytest.raises(ValueError, match="window_s <= max_s"):
        build_gate_liveness(Settings())


def test_http_upstream_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_GATE__UPSTREAM", "http")
    monkeypatch.setenv("FACEGATE_GATE__SERVER_URL", "https://site.local:8000")
    monkeypatch.setenv("FACEGATE_GATE__DEVICE_KEY", "s3cret")
    gate = Settings().gate
    assert (gate.upstream, gate.server_url) == ("http", "https://site.local:8000")
    assert gate.device_key is not None
    assert "s3cret" not in repr(gate)


def test_the_stream_detector_is_blazeface_by_profile_and_hog_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().gate.stream_detector() is DetectorModel.BLAZEFACE
    monkeypatch.setenv("FACEGATE_GATE__PROFILE", "lane")
    assert Settings().gate.stream_detector() is DetectorModel.BLAZEFACE_FULL
    monkeypatch.setenv("FACEGATE_GATE__DETECTOR", "hog")
    assert Settings().gate.stream_detector() is DetectorModel.HOG
    assert Settings().detection.model is DetectorModel.HOG  # photos keep HOG


def test_the_gate_engine_gets_the_stream_detector_without_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[Settings] = []

    class Engine:
        detector = embedder = SimpleNamespace(detect=lambda image: [], embed=lambda chips: [])

    def build(settings: Settings) -> Engine:
        built.append(settings)
        return Engine()

    monkeypatch.setattr(bootstrap_gate, "build_engine", build)
    monkeypatch.setattr(bootstrap_gate, "limit_threads", lambda threads: threads)
    bootstrap_gate.build_gate_engine(Settings())
    monkeypatch.setenv("FACEGATE_GATE__DETECTOR", "hog")
    bootstrap_gate.build_gate_engine(Settings())
    assert [s.detection.model for s in built] == [DetectorModel.BLAZEFACE, DetectorModel.HOG]
    assert [s.detection.fallback for s in built] == [None, None]
