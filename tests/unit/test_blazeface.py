"""BlazeFace's anchors, decoding, weighted NMS and the map to dlib's box (no model file)."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.vision.blazeface import (
    SPECS,
    BlazeDetection,
    BlazeRange,
    DlibBoxMap,
    anchors,
    decode,
    tile_origins,
    to_dlib_box,
    weighted_nms,
)


def test_anchors_follow_mediapipes_layout() -> None:
    short, full = anchors(SPECS[BlazeRange.SHORT]), anchors(SPECS[BlazeRange.FULL])
    assert short.shape == (896, 2)  # 16x16 cells x 2 + 8x8 cells x 6
    assert full.shape == (2304, 2)  # 48x48 cells x 1
    # First cell of the stride-8 map: centre (0.5 / 16), twice; then x moves first.
    assert short[0] == pytest.approx([1 / 32, 1 / 32])
    assert short[1] == pytest.approx([1 / 32, 1 / 32])
    assert short[2] == pytest.approx([3 / 32, 1 / 32])
    # The stride-16 map starts after 512 anchors, 6 per cell.
    assert short[512] == pytest.approx([1 / 16, 1 / 16])
    assert short[517] == pytest.approx([1 / 16, 1 / 16])
    assert short[518] == pytest.approx([3 / 16, 1 / 16])
    assert full[-1] == pytest.approx([95 / 96, 95 / 96])


def test_decoding_offsets_the_anchor_and_keeps_confident_ones() -> None:
    spec = SPECS[BlazeRange.SHORT]
    regressors = np.zeros((896, 16), np.float32)
    logits = np.full(896, -5.0, np.float32)
    k = 518  # anchor centre (3/16, 1/16) = (24, 8) input pixels
    regressors[k, :4] = [4.0, 8.0, 32.0, 16.0]  # centre offset (4, 8), size 32x16 px
    regressors[k, 4:6] = [-6.0, -2.0]  # first key point relative to the anchor
    logits[k] = 3.0
    boxes, points, scores = decode(regressors, logits, spec)
    assert boxes.shape == (1, 4)
    assert points.shape == (1, 6, 2)
    assert boxes[0] * 128 == pytest.approx([12.0, 8.0, 44.0, 24.0])
    assert points[0, 0] * 128 == pytest.approx([18.0, 6.0])
    assert points[0, 1] * 128 == pytest.approx([24.0, 8.0])  # zero offset: the anchor
    assert scores[0] == pytest.approx(1 / (1 + np.exp(-3.0)))


def test_decoding_survives_extreme_logits() -> None:
    spec = SPECS[BlazeRange.FULL]
    logits = np.full(2304, -1e6, np.float32)
    logits[0] = 1e6
    with np.errstate(over="raise"):
        boxes, _, scores = decode(np.zeros((2304, 16), np.float32), logits, spec)
    assert len(boxes) == 1
    assert scores[0] == pytest.approx(1.0)


def test_weighted_nms_merges_a_cluster_by_score_and_keeps_a_far_face() -> None:
    boxes = np.array(
        [[0.10, 0.10, 0.30, 0.30], [0.12, 0.10, 0.32, 0.30], [0.60, 0.60, 0.80, 0.80]],
        np.float32,
    )
    points = np.zeros((3, 6, 2), np.float32)
    points[:, 0] = [[0.2, 0.2], [0.22, 0.2], [0.7, 0.7]]
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    merged = weighted_nms(boxes, points, scores)
    assert [round(score, 2) for _, _, score in merged] == [0.9, 0.7]
    box, keypoints, _ = merged[0]
    left = (0.10 * 0.6 + 0.12 * 0.9) / 1.5
    assert box == pytest.approx([left, 0.10, left + 0.2, 0.30], abs=1e-6)
    assert keypoints[0] == pytest.approx([(0.2 * 0.6 + 0.22 * 0.9) / 1.5, 0.2], abs=1e-6)
    assert merged[1][0] == pytest.approx(boxes[2])


def test_the_dlib_box_is_a_square_placed_from_eyes_and_mouth() -> None:
    keypoints = np.array(
        [[90.0, 100.0], [130.0, 100.0], [110.0, 120.0], [110.0, 140.0], [70, 110], [150, 110]]
    )
    found = BlazeDetection((60.0, 60.0, 160.0, 170.0), keypoints, 0.9)
    box = to_dlib_box(found, DlibBoxMap(side=2.0, dx=0.1, dy=0.5))
    # eyes' midpoint (110, 100), eye-to-mouth 40 px: centre (114, 120), side 80.
    assert (box.left, box.top, box.right, box.bottom) == (74, 80, 154, 160)
    twice = BlazeDetection(found.box, keypoints * 2.0, 0.9)
    assert to_dlib_box(twice, DlibBoxMap(2.0, 0.1, 0.5)).width == 2 * box.width


def test_only_elongated_frames_are_tiled_into_two_end_squares() -> None:
    assert tile_origins(1920, 1080) == [(0, 0), (840, 0)]
    assert tile_origins(1080, 1920) == [(0, 0), (0, 840)]
    assert tile_origins(640, 480) == []  # 4:3: one pass
    assert tile_origins(400, 300) == []
