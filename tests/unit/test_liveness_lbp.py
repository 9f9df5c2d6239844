"""Local binary patterns and texture features on small hand-checked arrays."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box
from facegate.vision.liveness.features import (
    CROP_SIDE_PX,
    FEATURE_GROUPS,
    group_slices,
    scene_features,
    texture_features,
)
from facegate.vision.liveness.lbp import (
    grid_histograms,
    label_histogram,
    lbp_codes,
    uniform_label_count,
    uniform_lbp,
    uniform_table,
)


def test_uniform_tables_have_the_classic_sizes() -> None:
    assert uniform_label_count(8) == 59
    assert uniform_label_count(16) == 243
    assert uniform_table(8).max() == 58
    assert uniform_table(16).max() == 242


def test_uniform_labels_follow_transition_counts() -> None:
    table = uniform_table(8)
    assert table[0b00000000] == 0  # no transition: the first uniform code
    assert table[0b00000001] == 1  # two transitions
    assert table[0b11111111] == 57  # the last uniform code
    assert table[0b00100100] == 58  # four transitions: the non-uniform label
    assert table[0b01010101] == 58


def test_codes_of_a_ramp_match_a_hand_computation() -> None:
    # Centre 5. Right 6 (bit 0) and the three lower neighbours 8, 6.41, 7.83 (bits 5, 6, 7)
    # are >= 5; up 2, left 4 and the interpolated upper diagonals 3.59 and 2.17 are not.
    ramp = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert lbp_codes(ramp, 8, 1).tolist() == [[0b11100001]]


def test_flat_image_is_all_ones_and_a_peak_is_all_zeros() -> None:
    assert np.all(lbp_codes(np.full((5, 5), 7), 8, 1) == 255)
    peak = np.zeros((3, 3))
    peak[1, 1] = 10
    assert lbp_codes(peak, 8, 1).tolist() == [[0]]


def test_radius_two_and_sixteen_points_shapes() -> None:
    image = np.random.default_rng(0).integers(0, 255, (20, 30))
    labels = uniform_lbp(image, 16, 2)
    assert labels.shape == (16, 26)
    assert labels.min() >= 0
    assert labels.max() < 243


def test_too_small_or_colour_images_are_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        lbp_codes(np.zeros((4, 4)), 16, 2)
    with pytest.raises(ValueError, match="2-D"):
        lbp_codes(np.zeros((8, 8, 3)), 8, 1)


def test_histograms_are_normalised_per_cell() -> None:
    labels = np.array([[0, 0, 1], [2, 2, 2], [58, 0, 1]])
    histogram = label_histogram(labels, 59)
    assert histogram.sum() == pytest.approx(1.0)
    assert histogram[2] == pytest.approx(3 / 9)
    cells = grid_histograms(labels, 59, grid=3)
    assert cells.shape == (9 * 59,)
    assert cells.reshape(9, 59).sum(axis=1) == pytest.approx(np.ones(9))


def test_texture_features_have_the_documented_layout() -> None:
    crop = np.random.default_rng(1).integers(0, 255, (CROP_SIDE_PX, CROP_SIDE_PX, 3))
    scene = np.arange(12, dtype=np.float64)
    vector = texture_features(crop.astype(np.uint8), FEATURE_GROUPS, scene)
    slices = group_slices(FEATURE_GROUPS)
    assert vector.shape == (slices["scene"].stop,) == (1204,)
    assert vector[slices["scene"]] == pytest.approx(scene)
    assert vector[slices["lbp_grey"]].sum() == pytest.approx(11.0)  # 9 cells + 2 globals
    assert vector[slices["lbp_colour"]].sum() == pytest.approx(6.0)
    only_quality = texture_features(crop.astype(np.uint8), ("quality",))
    assert only_quality == pytest.approx(vector[slices["quality"]])
    with pytest.raises(ValueError, match="64x64"):
        texture_features(np.zeros((32, 32, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="scene_features"):
        texture_features(crop.astype(np.uint8))


def test_scene_features_compare_the_face_with_its_frame() -> None:
    """A blurred face in a sharp frame (a re-captured picture) is flatter than the frame."""
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 255, (240, 320, 3)).astype(np.uint8)
    box = Box(100, 60, 180, 140)
    sharp = scene_features(frame, box)
    flat = frame.copy()
    flat[60:140, 100:180] = cv2.GaussianBlur(flat[60:140, 100:180], (0, 0), 3.0)
    blurred = scene_features(flat, box)
    assert sharp.shape == blurred.shape == (12,)
    assert abs(sharp[6]) < 0.5  # same texture inside and out: a small difference
    assert blurred[6] < sharp[6] - 1.0  # log Laplacian variance, face minus frame
    with pytest.raises(ValueError, match="outside"):
        scene_features(frame, Box(400, 400, 500, 500))
