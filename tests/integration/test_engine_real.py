"""The face engine on real photographs from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegate.domain import metrics
from facegate.services.acquisition import find_identities
from facegate.services.evaluation import comparison_scores
from facegate.vision.alignment import CHIP_SIZE_PX
from facegate.vision.engine import FaceEngine, descriptor_of
from facegate.vision.images import load_image
from facegate.vision.imglab import labelled_images


@pytest.mark.parametrize("xml_name", ["testing.xml", "training.xml"])
def test_finds_exactly_the_labelled_faces(
    shared_data: Path, engine: FaceEngine, xml_name: str
) -> None:
    for path, truth in labelled_images(shared_data / "detection" / "dlib-faces" / xml_name):
        found = [d.box for d in engine.detector.detect(load_image(path))]
        assert len(found) == len(truth), f"{path.name}: {len(found)} faces, labelled {len(truth)}"
        for box in truth:
            best = max(box.iou(f) for f in found)
            assert best >= 0.5, f"{path.name}: labelled face {box} found only at IoU {best:.2f}"


def test_finds_no_face_where_there_is_none(shared_data: Path, engine: FaceEngine) -> None:
    paths = sorted((shared_data / "detection" / "noface").rglob("*.jpg"))
    assert paths
    for path in paths:
        assert engine.detector.detect(load_image(path)) == [], path.name


@pytest.mark.parametrize("face_set", ["att", "yale", "tvcast", "johns", "lfw10"])
def test_every_ordinary_photo_yields_a_face(
    shared_data: Path, engine: FaceEngine, face_set: str
) -> None:
    people = find_identities(shared_data / "faces" / face_set)
    missed = []
    for paths in people.values():
        for path in paths:
            if engine.primary_face(load_image(path), describe=False) is None:
                missed.append(str(path))
    assert missed == []


def test_chip_landmarks_and_descriptor_shapes(shared_data: Path, engine: FaceEngine) -> None:
    image = load_image(shared_data / "faces" / "lfw10" / "Tony_Blair" / "Tony_Blair_0001.jpg")
    face = engine.primary_face(image)
    assert face is not None
    assert face.chip.shape == (CHIP_SIZE_PX, CHIP_SIZE_PX, 3)
    descriptor = descriptor_of(face)
    assert descriptor.shape == (128,)
    assert np.all(np.isfinite(descriptor))
    for x, y in face.landmarks.points:
        assert face.box.left - 10 <= x <= face.box.right + 10
        assert face.box.top - 10 <= y <= face.box.bottom + 10
    assert face.verdict.passed, face.verdict.failures


def test_batch_of_faces_matches_one_by_one(shared_data: Path, engine: FaceEngine) -> None:
    image = load_image(shared_data / "detection" / "group" / "bbt4.jpg")
    faces = engine.analyze(image)
    assert len(faces) >= 4
    alone = engine.embedder.embed([faces[1].chip])[0]
    assert np.max(np.abs(descriptor_of(faces[1]) - alone)) < 1e-5


def test_genuine_pairs_are_closer_than_impostor_pairs(
    shared_data: Path, engine: FaceEngine
) -> None:
    people = find_identities(shared_data / "faces" / "lfw10")
    descriptors: dict[str, list[np.ndarray]] = {}
    for person, paths in people.items():
        for path in paths:
            face = engine.primary_face(load_image(path))
            assert face is not None, path
            descriptors.setdefault(person, []).append(descriptor_of(face))
    scores = comparison_scores(descriptors)
    assert scores.genuine.size == 10 * 45
    assert scores.impostor.size == 100 * 99 // 2 - 450
    # Probability that a random genuine pair is closer than a random impostor pair (AUC).
    closer = (scores.genuine[:, None] < scores.impostor[None, :]).mean()
    assert closer > 0.99
    eer, _ = metrics.equal_error_rate(scores.genuine, scores.impostor)
    assert eer < 0.03
    assert metrics.false_match_rate(scores.impostor, 0.6) < 0.01


def test_a_gate_engine_runs_one_onnx_thread_unless_told_otherwise(tmp_path: Path) -> None:
    from facegate.bootstrap_gate import build_gate_engine
    from facegate.config import Settings
    from facegate.vision.embedding import EmbeddingSettings

    default = build_gate_engine(Settings(data_dir=tmp_path))
    if default.embedder.backend != "onnx":
        pytest.skip("ONNX Runtime is not installed")
    assert getattr(default.embedder, "threads", None) == 1
    told = Settings(data_dir=tmp_path, embedding=EmbeddingSettings(threads=2))
    assert getattr(build_gate_engine(told).embedder, "threads", None) == 2
