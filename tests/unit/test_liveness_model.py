"""Training, scoring, saving and checked loading of the texture model; the fused check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from facegate.domain.errors import BadInputError, DataSetError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import CueResult, FaceFrame, SensorFrame
from facegate.domain.reasons import Reason
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.features import FEATURE_GROUPS, group_slices
from facegate.vision.liveness.texture_model import (
    TextureModel,
    columns_of,
    load_texture_model,
    manifest_path,
    save_texture_model,
    train_texture_model,
)

WIDTH = group_slices(FEATURE_GROUPS)["scene"].stop


def blobs(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bona fide and attack vectors that differ in the scene columns only."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (2 * per_class, WIDTH))
    scene = group_slices(FEATURE_GROUPS)["scene"]
    x[:per_class, scene] += 2.0
    y = np.array([1] * per_class + [0] * per_class)
    subjects = [f"s{i % 4}" for i in range(per_class)] * 2
    return x, y, subjects


@pytest.fixture(scope="module")
def model() -> TextureModel:
    x, y, subjects = blobs(60, seed=0)
    return train_texture_model(x, y, subjects, summary={"source": "synthetic"})


def test_training_picks_the_informative_groups_and_separates_new_samples(
    model: TextureModel,
) -> None:
    assert "scene" in model.groups
    assert model.manifest.training["subjects"] == 4
    assert model.manifest.training["source"] == "synthetic"
    x, y, _ = blobs(40, seed=1)
    columns = np.concatenate(
        [np.arange(group_slices()[g].start, group_slices()[g].stop) for g in model.groups]
    )
    scores = model.scores(x[:, columns])
    assert scores.min() > 0.0
    assert scores.max() < 1.0
    accepted_attacks = np.mean(scores[y == 0] >= model.threshold)
    rejected_live = np.mean(scores[y == 1] < model.threshold)
    assert accepted_attacks < 0.1
    assert rejected_live < 0.1


def test_training_refuses_too_few_samples() -> None:
    x, y, subjects = blobs(4, seed=0)
    with pytest.raises(DataSetError, match="at least 6"):
        train_texture_model(x, y, subjects)


def test_save_and_load_round_trip(model: TextureModel, tmp_path: Path) -> None:
    path = tmp_path / "models" / "pad.joblib"
    save_texture_model(model, path)
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["format"] == model.manifest.format
    assert len(manifest["sha256"]) == 64
    loaded = load_texture_model(path)
    assert loaded.threshold == model.threshold
    assert loaded.groups == model.groups
    x = np.random.default_rng(2).normal(size=(5, len(loaded.pipeline[0].mean_)))
    assert loaded.scores(x) == pytest.approx(model.scores(x))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate_model", "SHA-256"),
        ("drop_manifest", "no manifest"),
        ("garble_manifest", "not a valid"),
        ("other_feature_version", "train the model again"),
        ("other_format", "format"),
        ("text_threshold", "not a number"),
    ],
)
def test_damaged_models_are_refused(
    model: TextureModel, tmp_path: Path, damage: str, message: str
) -> None:
    path = tmp_path / "pad.joblib"
    save_texture_model(model, path)
    side = manifest_path(path)
    manifest = json.loads(side.read_text())
    if damage == "truncate_model":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "drop_manifest":
        side.unlink()
    elif damage == "garble_manifest":
        side.write_text("{not json")
    else:
        key, value = {
            "other_feature_version": ("feature_version", "lbp/0"),
            "other_format": ("format", "something-else/9"),
            "text_threshold": ("threshold", "0.5"),
        }[damage]
        side.write_text(json.dumps({**manifest, key: value}))
    with pytest.raises(BadInputError, match=message):
        load_texture_model(path)


def test_a_missing_model_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such"):
        load_texture_model(tmp_path / "absent.joblib")


def face_frame(seed: int) -> FaceFrame:
    image = np.random.default_rng(seed).integers(0, 255, (120, 120, 3), dtype=np.uint8)
    landmarks = FivePointLandmarks(
        points=((80.0, 50.0), (70.0, 50.0), (40.0, 50.0), (50.0, 50.0), (60.0, 70.0))
    )
    return FaceFrame(image, Box(20, 20, 100, 100), landmarks)


class ExplodingSensorCue:
    name = "nir"
    kind = "nir"

    def measure(self, frames: Sequence[FaceFrame], sensor: Sequence[SensorFrame]) -> CueResult:
        raise RuntimeError("sensor driver crashed")


def test_the_fused_check_runs_the_configured_cues(model: TextureModel) -> None:
    check = FusedLivenessCheck(texture=model)
    assert check.cue_names == ("texture",)
    verdict = check.check([face_frame(0)])
    assert set(verdict.cues) == {"texture"}
    assert verdict.live == verdict.cues["texture"].live
    assert (verdict.reason is None) == verdict.live


def test_the_fused_check_fails_closed(model: TextureModel) -> None:
    assert FusedLivenessCheck(texture=model).check([]).reason is Reason.SPOOF_SUSPECTED
    sensor_check = FusedLivenessCheck(texture=model, sensor_cues=[ExplodingSensorCue()])
    assert sensor_check.cue_names == ("texture", "nir")
    without_frame = sensor_check.check([face_frame(0)])
    assert not without_frame.live
    assert "no nir frame" in without_frame.note
    nir = SensorFrame("nir", np.zeros((120, 120), dtype=np.float32))
    crashed = sensor_check.check([face_frame(0)], [nir])
    assert not crashed.live
    assert crashed.reason is Reason.SPOOF_SUSPECTED
    assert "sensor driver crashed" in crashed.note
    outside = FaceFrame(face_frame(0).image, Box(500, 500, 600, 600), face_frame(0).landmarks)
    verdict = FusedLivenessCheck(texture=model).check([outside])
    assert not verdict.live
    assert verdict.cues["texture"].error is not None


def test_columns_follow_the_vector_order_whatever_the_order_asked() -> None:
    assert list(columns_of(("scene", "quality"))) == list(columns_of(("quality", "scene")))
    slices = group_slices(FEATURE_GROUPS)
    assert columns_of(("scene", "quality"))[0] == slices["quality"].start
