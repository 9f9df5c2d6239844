"""Locating and checking FaceMesh's model file; the crop geometry; the openness ratios."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.vision.liveness import face_mesh
from facegate.vision.liveness.face_mesh import (
    INPUT_PX,
    FaceMesh,
    crop_transform,
    eye_openness,
    mesh_model_path,
    mouth_openness,
)


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    mesh_model_path.cache_clear()
    yield
    mesh_model_path.cache_clear()


def test_a_missing_wheel_names_the_install_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match="install-face-mesh"):
        mesh_model_path()


def test_an_altered_model_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / face_mesh.MESH_FILE
    model.parent.mkdir(parents=True)
    model.write_bytes(b"not the model")
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        mesh_model_path()
    model.unlink()
    with pytest.raises(ModelUnavailableError, match="missing"):
        mesh_model_path()


def test_the_crop_is_centred_on_the_box_and_levels_the_eyes() -> None:
    box = Box(100, 100, 200, 200)
    tilted = FivePointLandmarks(((180, 140), (160, 135), (130, 125), (110, 120), (150, 170)))
    transform = crop_transform(box, tilted)
    centre = transform @ np.array([INPUT_PX / 2, INPUT_PX / 2, 1.0])
    assert centre == pytest.approx([150.0, 150.0])
    side = np.linalg.norm(transform[:, :2] @ np.array([INPUT_PX, 0.0]))
    assert side == pytest.approx(150.0)  # 1.5 x the box side
    (lx, ly), (rx, ry) = tilted.left_eye_center, tilted.right_eye_center
    direction = transform[:, :2] @ np.array([1.0, 0.0])
    assert np.degrees(np.arctan2(direction[1], direction[0])) == pytest.approx(
        np.degrees(np.arctan2(ry - ly, rx - lx))
    )


def _mesh_with(points: dict[int, tuple[float, float]]) -> FaceMesh:
    grid = np.zeros((468, 2))
    for index, point in points.items():
        grid[index] = point
    return FaceMesh(grid, 10.0)


def test_openness_is_lid_gap_over_eye_width_and_lip_gap_over_mouth_width() -> None:
    right = {33: (0, 0), 133: (30, 0), 160: (10, -5), 144: (10, 5), 158: (20, -4), 153: (20, 4)}
    left = {362: (60, 0), 263: (90, 0), 385: (70, -1), 380: (70, 1), 387: (80, -1), 373: (80, 1)}
    mouth = {78: (20, 50), 308: (70, 50), 13: (45, 45), 14: (45, 55)}
    mesh = _mesh_with({**right, **left, **mouth})
    assert eye_openness(mesh) == pytest.approx(((10 + 8) / 2 / 30, 2 / 30))
    assert mouth_openness(mesh) == pytest.approx(10 / 50)
