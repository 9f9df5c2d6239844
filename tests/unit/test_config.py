"""Unit tests of :mod:`facegate.config`: environment variables and the match policy."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from facegate.config import (
    CALIBRATION_FILE,
    MatchSettings,
    Settings,
    read_calibration,
    write_calibration,
)
from facegate.domain.calibration import Calibration
from facegate.domain.errors import BadInputError
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD, DEFAULT_MIN_MARGIN, MatchPolicy
from facegate.vision.detection import DetectorModel

MODEL = "dlib_face_recognition_resnet_model_v1@abc123"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FACEGATE_* variable of the caller's shell leaks in; XDG paths point to tmp."""
    for name in list(os.environ):
        if name.upper().startswith("FACEGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _calibration(model_id: str = MODEL, threshold: float = 0.47) -> Calibration:
    return Calibration(
        model_id=model_id,
        threshold=threshold,
        target_fmr=1e-3,
        fmr=0.0008,
        fmr_upper_95=0.0011,
        fnmr=0.04,
        impostor_comparisons=50_000,
        genuine_comparisons=2_000,
        supported=True,
        source="/data/site-faces",
        created_at="2026-01-01T00:00:00Z",
    )


# --- settings from the environment -----------------------------------------------------


def test_defaults_follow_xdg(tmp_path: Path) -> None:
    settings = Settings()

    assert settings.data_dir == tmp_path / "xdg-data" / "facegate"
    assert settings.cache_dir == tmp_path / "xdg-cache" / "facegate"
    assert settings.calibration_path == settings.data_dir / CALIBRATION_FILE
    assert settings.matching == MatchSettings()
    assert settings.detection.fallback is DetectorModel.CNN


def test_data_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "site"))

    settings = Settings()

    assert settings.data_dir == tmp_path / "site"
    assert settings.calibration_path == tmp_path / "site" / "calibration.json"


def test_nested_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_QUALITY__MIN_SHARPNESS", "30")
    monkeypatch.setenv("FACEGATE_DETECTION__FALLBACK", "none")
    monkeypatch.setenv("FACEGATE_MATCHING__MIN_MARGIN", "0.03")

    settings = Settings()

    assert settings.quality.min_sharpness == 30.0
    assert settings.quality.min_brightness == 40.0  # the others keep their defaults
    assert settings.detection.fallback is None
    assert settings.detection.model is DetectorModel.HOG
    assert settings.matching.min_margin == 0.03
    assert settings.matching.threshold is None


def test_the_face_and_card_cohort_rule_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FACEGATE_MATCHING__COHORT_MARGIN", "0.05")
    monkeypatch.setenv("FACEGATE_MATCHING__COHORT_SHARE", "0.05")
    policy, _ = Settings(data_dir=tmp_path).match_policy(MODEL)
    assert (policy.cohort_margin, policy.cohort_share) == (0.05, 0.05)
    monkeypatch.setenv("FACEGATE_MATCHING__COHORT_MARGIN", "none")
    assert Settings(data_dir=tmp_path).match_policy(MODEL)[0].cohort_margin is None
    monkeypatch.setenv("FACEGATE_MATCHING__COHORT_SHARE", "0")
    with pytest.raises(ValueError, match="cohort_share"):
        Settings(data_dir=tmp_path)


def test_detection_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_DETECTION__MODEL", "cnn")

    assert Settings().detection.model is DetectorModel.CNN


def test_values_passed_by_the_caller_beat_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "from-env"))

    assert Settings(data_dir=tmp_path / "explicit").data_dir == tmp_path / "explicit"


# --- match_policy ---------------------------------------------------------------------


def test_match_policy_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    policy, source = settings.match_policy(MODEL)

    assert policy == MatchPolicy(DEFAULT_MATCH_THRESHOLD, DEFAULT_MIN_MARGIN)
    assert source == "default"


def test_calibration_for_the_same_model_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    write_calibration(settings.calibration_path, _calibration(threshold=0.47))

    policy, source = settings.match_policy(MODEL)

    assert policy == MatchPolicy(0.47, DEFAULT_MIN_MARGIN)
    assert source == str(tmp_path / "calibration.json")


def test_calibration_found_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    write_calibration(site / CALIBRATION_FILE, _calibration(threshold=0.52))
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(site))
    monkeypatch.setenv("FACEGATE_MATCHING__MIN_MARGIN", "0.02")

    policy, source = Settings().match_policy(MODEL)

    assert policy == MatchPolicy(0.52, 0.02)
    assert source == str(site / CALIBRATION_FILE)


def test_calibration_for_another_model_is_ignored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    write_calibration(settings.calibration_path, _calibration(model_id="other-model@999"))

    policy, source = settings.match_policy(MODEL)

    assert policy.threshold == DEFAULT_MATCH_THRESHOLD
    assert source == "default"


def test_explicit_threshold_wins_over_the_calibration(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, matching=MatchSettings(threshold=0.5, min_margin=0.04))
    write_calibration(settings.calibration_path, _calibration(threshold=0.47))

    policy, source = settings.match_policy(MODEL)

    assert policy == MatchPolicy(0.5, 0.04)
    assert source == "settings"


def test_threshold_from_the_environment_wins_over_the_calibration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_calibration(tmp_path / CALIBRATION_FILE, _calibration(threshold=0.47))
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FACEGATE_MATCHING__THRESHOLD", "0.55")

    policy, source = Settings().match_policy(MODEL)

    assert policy.threshold == 0.55
    assert source == "settings"


def test_explicit_threshold_does_not_read_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / CALIBRATION_FILE).write_text("{broken", encoding="utf-8")
    settings = Settings(data_dir=tmp_path, matching=MatchSettings(threshold=0.5))

    assert settings.match_policy(MODEL) == (MatchPolicy(0.5, DEFAULT_MIN_MARGIN), "settings")


@pytest.mark.parametrize(
    "content",
    [
        "{broken",
        "",
        "[1, 2, 3]",
        "null",
        json.dumps({"model_id": MODEL, "threshold": 0.5}),
        json.dumps({**asdict(_calibration()), "unexpected": 1}),
        json.dumps({**asdict(_calibration()), "threshold": "0.5"}),
        json.dumps({**asdict(_calibration()), "threshold": None}),
        json.dumps({**asdict(_calibration()), "threshold": True}),
        json.dumps({**asdict(_calibration()), "threshold": float("nan")}),
    ],
)
def test_corrupt_calibration_file_is_bad_input(tmp_path: Path, content: str) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.calibration_path.write_text(content, encoding="utf-8")

    with pytest.raises(BadInputError, match="not a valid calibration file"):
        settings.match_policy(MODEL)


def test_non_utf8_calibration_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / CALIBRATION_FILE
    path.write_bytes(b"\xff\xfe{}")

    with pytest.raises(BadInputError):
        read_calibration(path)


# --- read_calibration / write_calibration ------------------------------------------------


def test_calibration_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / CALIBRATION_FILE
    calibration = _calibration()

    write_calibration(path, calibration)

    assert read_calibration(path) == calibration
    assert json.loads(path.read_text(encoding="utf-8"))["threshold"] == 0.47
    # The atomic write leaves no partial file behind.
    assert sorted(p.name for p in path.parent.iterdir()) == [CALIBRATION_FILE]


def test_write_calibration_replaces_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / CALIBRATION_FILE
    write_calibration(path, _calibration(threshold=0.47))
    newer = replace(_calibration(), threshold=0.41)

    write_calibration(path, newer)

    assert read_calibration(path) == newer


def test_absent_calibration_reads_as_none(tmp_path: Path) -> None:
    assert read_calibration(tmp_path / CALIBRATION_FILE) is None
    (tmp_path / "folder.json").mkdir()
    assert read_calibration(tmp_path / "folder.json") is None


def test_the_default_margin_refuses_two_people_with_the_same_face(tmp_path: Path) -> None:
    # Before: min_margin 0.0, and identify silently picked one of two people enrolled
    # from the same photos. The measured default (0.06) refuses with below_margin.
    import numpy as np

    from facegate.domain.matching import Gallery
    from facegate.domain.reasons import Reason

    policy, _ = Settings(data_dir=tmp_path).match_policy(MODEL)
    face = np.full(128, 0.05, dtype=np.float32)
    gallery = Gallery()
    gallery.add("first", [face])
    gallery.add("second", [face + 0.001])
    found = gallery.identify(face, policy.threshold, policy.min_margin)
    assert (found.person_id, found.reason) == (None, Reason.BELOW_MARGIN)
    assert Settings(data_dir=tmp_path).matching.duplicate_threshold == 0.35


# --- the 1:N FPIR cap ------------------------------------------------------------------


def test_max_fpir_defaults_to_1e_2_and_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings(data_dir=tmp_path).match_policy(MODEL)[0].max_fpir == 1e-2
    monkeypatch.setenv("FACEGATE_MATCHING__MAX_FPIR", "0.05")
    assert Settings(data_dir=tmp_path).match_policy(MODEL)[0].max_fpir == 0.05


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "nan"])
def test_max_fpir_outside_0_1_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("FACEGATE_MATCHING__MAX_FPIR", bad)
    with pytest.raises(ValueError, match="max_fpir"):
        Settings()


def test_a_calibrated_impostor_curve_round_trips_and_caps_1_to_n(tmp_path: Path) -> None:
    from facegate.domain.impostors import ImpostorCurve, shipped_impostor_curve

    settings = Settings(data_dir=tmp_path)
    curve = ImpostorCurve((0.4, 0.5), (0, 0), 10_000_000, source="site")
    write_calibration(settings.calibration_path, replace(_calibration(), impostor_curve=curve))

    calibration = read_calibration(settings.calibration_path)
    assert calibration is not None
    assert calibration.impostor_curve == curve
    policy, _ = settings.match_policy(MODEL)
    assert policy.impostors == curve
    assert policy.identification_threshold(2000) == 0.47  # 10 million clean comparisons
    assert shipped_impostor_curve() != curve


def test_a_calibration_file_with_a_broken_curve_is_bad_input(tmp_path: Path) -> None:
    raw = asdict(_calibration())
    raw["impostor_curve"] = {"points": [[0.4, 9], [0.5, 1]], "comparisons": 100}
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(BadInputError, match="impostor curve"):
        read_calibration(tmp_path / CALIBRATION_FILE)
