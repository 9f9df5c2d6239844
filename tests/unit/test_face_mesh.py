"""Locating and checking the MediaPipe model files; the crop geometry; the openness ratios."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.vision.liveness import face_mesh
from facegate.vision.liveness.face_mesh import (
    EYE_INPUT_PX,
    INPUT_PX,
    FaceMesh,
    crop_transform,
    eye_crop_transform,
    eye_openness,
    iris_model_path,
    mesh_model_path,
    mouth_openness,
)


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    mesh_model_path.cache_clear()
    iris_model_path.cache_clear()
    yield
    mesh_model_path.cache_clear()
    iris_model_path.cache_clear()


def test_a_missing_wheel_names_the_install_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match="install-face-mesh"):
        mesh_model_path()


@pytest.mark.parametrize(
    ("relative", "lookup"),
    [(face_mesh.MESH_FILE, mesh_model_path), (face_mesh.IRIS_FILE, iris_model_path)],
)
def test_an_altered_model_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, relative: Path, lookup: Callable[[], Path]
) -> None:
    model = tmp_path / relative
    model.parent.mkdir(parents=True)
    model.write_bytes(b"not the model")
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        lookup()
    model.unlink()
    with pytest.raises(ModelUnavailableError, match="missing"):
        lookup()


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


def test_an_eye_crop_is_centred_on_its_corners_and_levels_them() -> None:
    start, end = np.array([100.0, 200.0]), np.array([130.0, 210.0])
    plain = eye_crop_transform(start, end, mirrored=False)
    centre = plain @ np.array([EYE_INPUT_PX / 2, EYE_INPUT_PX / 2, 1.0])
    assert centre == pytest.approx((start + end) / 2)
    across = plain[:, :2] @ np.array([EYE_INPUT_PX, 0.0])
    assert np.linalg.norm(across) == pytest.approx(2.3 * 30)  # 2.3 x the larger side
    assert across / np.linalg.norm(across) == pytest.approx(
        (end - start) / np.linalg.norm(end - start)
    )
    mirrored = eye_crop_transform(start, end, mirrored=True)
    # The crop's left edge lies at the image-right corner's side: mirrored left to right.
    assert mirrored @ np.array([0.0, 32.0, 1.0]) == pytest.approx(
        plain @ np.array([64.0, 32.0, 1.0])
    )


def _mesh_with(
    points: dict[int, tuple[float, float]], eyes: tuple[dict[int, tuple[float, float]], ...]
) -> FaceMesh:
    grid = np.zeros((468, 2))
    for index, point in points.items():
        grid[index] = point
    contours = [np.zeros((71, 2)), np.zeros((71, 2))]
    for contour, eye in zip(contours, eyes, strict=True):
        for index, point in eye.items():
            contour[index] = point
    return FaceMesh(grid, 10.0, (contours[0], contours[1]))


def test_openness_is_lid_gap_over_eye_width_and_lip_gap_over_mouth_width() -> None:
    # Contour indices: corners 0 and 8, lower lid 3-5 under upper lid 11-13.
    right = {0: (0, 0), 8: (30, 0), 11: (8, -5), 3: (8, 5), 12: (15, -6), 4: (15, 6)}
    right |= {13: (22, -3), 5: (22, 3)}
    left = {0: (90, 0), 8: (60, 0), 11: (80, -1), 3: (80, 1), 12: (75, -1), 4: (75, 1)}
    left |= {13: (70, -1), 5: (70, 1)}
    mouth = {78: (20, 50), 308: (70, 50), 13: (45, 45), 14: (45, 55)}
    mesh = _mesh_with(mouth, (right, left))
    assert eye_openness(mesh) == pytest.approx(((10 + 12 + 6) / 3 / 30, 2 / 30))
    assert mouth_openness(mesh) == pytest.approx(10 / 50)
