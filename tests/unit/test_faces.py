"""Face geometry (boxes, 5-point landmarks) and the quality gate."""

from __future__ import annotations

import dataclasses
import math

import pytest

from facegate.domain.faces import (
    Box,
    FaceQuality,
    FivePointLandmarks,
    Point,
    QualityThresholds,
    assess_quality,
)
from facegate.domain.reasons import Reason

# ------------------------------------------------------------------------------------ Box


def test_box_dimensions() -> None:
    box = Box(left=10, top=20, right=50, bottom=80)
    assert box.width == 40
    assert box.height == 60
    assert box.area == 2400
    assert box.center == (30.0, 50.0)
    assert box.as_list() == [10, 20, 50, 80]


def test_inverted_box_has_no_area() -> None:
    assert Box(50, 20, 10, 80).area == 0
    assert Box(10, 80, 50, 20).area == 0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Box(0, 0, 10, 10), Box(0, 0, 10, 10), 1.0),
        (Box(0, 0, 10, 10), Box(20, 20, 30, 30), 0.0),
        # right/bottom are exclusive: boxes sharing an edge do not overlap
        (Box(0, 0, 10, 10), Box(10, 0, 20, 10), 0.0),
        (Box(0, 0, 10, 10), Box(0, 10, 10, 20), 0.0),
        # 5x5 overlap of two 10x10 boxes: 25 / (100 + 100 - 25) = 1/7
        (Box(0, 0, 10, 10), Box(5, 5, 15, 15), 1 / 7),
        # half overlap side by side: 50 / 150
        (Box(0, 0, 10, 10), Box(5, 0, 15, 10), 1 / 3),
        # contained: 25 / 100
        (Box(0, 0, 10, 10), Box(2, 2, 7, 7), 0.25),
        (Box(0, 0, 10, 10), Box(10, 10, 5, 5), 0.0),
    ],
)
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert a.iou(b) == pytest.approx(expected)
    assert b.iou(a) == pytest.approx(expected)


# ------------------------------------------------------------------------------ landmarks

# Frontal face: eye on the image's left centred at (30, 40), eye on the image's right
# centred at (70, 40), 40 px apart; nose base straight below the midpoint at (50, 70).
# dlib order: 0,1 = outer,inner corner of the image-right eye; 2,3 = outer,inner corner
# of the image-left eye; 4 = nose base.
FRONTAL: tuple[Point, Point, Point, Point, Point] = (
    (80.0, 40.0),
    (60.0, 40.0),
    (20.0, 40.0),
    (40.0, 40.0),
    (50.0, 70.0),
)
EYES = 40.0


def landmarks(
    points: tuple[Point, ...] = FRONTAL, nose_dx: float = 0.0, nose_dy: float = 0.0
) -> FivePointLandmarks:
    *eyes, (nx, ny) = points
    return FivePointLandmarks((*eyes, (nx + nose_dx, ny + nose_dy)))  # type: ignore[arg-type]


def rotated(
    marks: FivePointLandmarks, degrees: float, centre: Point = (47.0, 55.0)
) -> FivePointLandmarks:
    """Rotate every point by ``degrees`` about ``centre``; positive is clockwise on screen
    because the image's y axis points down."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = centre
    return FivePointLandmarks(
        tuple(  # type: ignore[arg-type]
            (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)
            for x, y in marks.points
        )
    )


def test_eye_centres_follow_dlib_order() -> None:
    marks = landmarks()
    assert marks.left_eye_center == (30.0, 40.0)
    assert marks.right_eye_center == (70.0, 40.0)
    assert marks.nose == (50.0, 70.0)


def test_frontal_upright_face() -> None:
    marks = landmarks()
    assert marks.inter_eye_distance_px == pytest.approx(EYES)
    assert marks.roll_deg == pytest.approx(0.0)
    assert marks.yaw_ratio == pytest.approx(0.0)


def test_roll_is_positive_when_the_image_right_eye_is_lower() -> None:
    # Image-right eye 10 px lower (y down): the head is tipped clockwise on screen.
    points = list(FRONTAL)
    points[0] = (80.0, 50.0)
    points[1] = (60.0, 50.0)
    marks = FivePointLandmarks(tuple(points))  # type: ignore[arg-type]
    assert marks.roll_deg == pytest.approx(math.degrees(math.atan2(10.0, 40.0)))
    assert marks.roll_deg == pytest.approx(14.036, abs=1e-3)
    assert marks.inter_eye_distance_px == pytest.approx(math.hypot(40.0, 10.0))


@pytest.mark.parametrize("degrees", [-89.0, -45.0, -20.0, -5.0, 0.0, 7.5, 30.0, 60.0, 120.0])
def test_rotation_shows_as_roll_only(degrees: float) -> None:
    for nose_dx in (0.0, 10.0, -6.0):
        upright = landmarks(nose_dx=nose_dx)
        turned = rotated(upright, degrees)
        assert turned.roll_deg == pytest.approx(degrees, abs=1e-9)
        assert turned.inter_eye_distance_px == pytest.approx(EYES)
        assert turned.yaw_ratio == pytest.approx(upright.yaw_ratio, abs=1e-12)


def test_upside_down_face_reads_as_180_roll() -> None:
    assert abs(rotated(landmarks(), 180.0).roll_deg) == pytest.approx(180.0)


@pytest.mark.parametrize(("nose_dx", "expected"), [(10.0, 0.25), (-10.0, -0.25), (20.0, 0.5)])
def test_sideways_nose_gives_yaw_ratio(nose_dx: float, expected: float) -> None:
    # A shift of 0.25 * 40 px = 10 px towards the image-right eye is +0.25.
    assert landmarks(nose_dx=nose_dx).yaw_ratio == pytest.approx(expected)
    assert rotated(landmarks(nose_dx=nose_dx), 25.0).yaw_ratio == pytest.approx(expected)


def test_nose_moving_along_the_face_axis_is_not_yaw() -> None:
    assert landmarks(nose_dy=-25.0).yaw_ratio == pytest.approx(0.0)
    assert landmarks(nose_dy=40.0).yaw_ratio == pytest.approx(0.0)


def test_yaw_ratio_does_not_depend_on_face_size() -> None:
    small = FivePointLandmarks(tuple((x / 4.0, y / 4.0) for x, y in FRONTAL))  # type: ignore[arg-type]
    big = landmarks(nose_dx=10.0)
    small_shifted = FivePointLandmarks((*small.points[:4], (small.nose[0] + 2.5, small.nose[1])))
    assert small.inter_eye_distance_px == pytest.approx(EYES / 4.0)
    assert small_shifted.yaw_ratio == pytest.approx(big.yaw_ratio)


def test_coincident_eyes_give_infinite_yaw() -> None:
    same = (50.0, 40.0)
    marks = FivePointLandmarks((same, same, same, same, (50.0, 70.0)))
    assert marks.inter_eye_distance_px == 0.0
    assert marks.yaw_ratio == math.inf
    assert not assess_quality(good_quality(yaw_ratio=marks.yaw_ratio), QualityThresholds()).passed


def test_landmarks_as_lists_rounds_to_hundredths() -> None:
    marks = FivePointLandmarks(
        ((1.234, 2.0), (3.0, 4.005001), (5.0, 6.0), (7.0, 8.0), (9.999, 10.0))
    )
    assert marks.as_lists() == [[1.23, 2.0], [3.0, 4.01], [5.0, 6.0], [7.0, 8.0], [10.0, 10.0]]


# --------------------------------------------------------------------------- quality gate


def good_quality(**changes: float) -> FaceQuality:
    quality = FaceQuality(
        face_width_px=120.0,
        inter_eye_distance_px=50.0,
        sharpness=250.0,
        brightness=128.0,
        contrast=45.0,
        roll_deg=3.0,
        yaw_ratio=0.05,
    )
    return dataclasses.replace(quality, **changes)


def test_a_good_face_passes() -> None:
    verdict = assess_quality(good_quality(), QualityThresholds())
    assert verdict.passed
    assert verdict.failures == ()
    assert verdict.reason is None


@pytest.mark.parametrize(
    ("field", "value", "failure"),
    [
        ("inter_eye_distance_px", 19.9, "inter_eye_distance_px"),
        ("face_width_px", 39.0, "face_width_px"),
        ("sharpness", 9.5, "sharpness"),
        ("brightness", 39.0, "too_dark"),
        ("brightness", 221.0, "too_bright"),
        ("contrast", 14.9, "contrast"),
        ("roll_deg", 35.1, "roll_deg"),
        ("roll_deg", -35.1, "roll_deg"),
        ("yaw_ratio", 0.36, "yaw_ratio"),
        ("yaw_ratio", -0.36, "yaw_ratio"),
        ("sharpness", math.nan, "sharpness"),
        ("roll_deg", math.nan, "roll_deg"),
    ],
)
def test_each_violated_limit_is_named(field: str, value: float, failure: str) -> None:
    verdict = assess_quality(good_quality(**{field: value}), QualityThresholds())
    assert not verdict.passed
    assert verdict.failures == (failure,)
    assert verdict.reason is Reason.LOW_QUALITY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inter_eye_distance_px", 20.0),
        ("face_width_px", 40.0),
        ("sharpness", 10.0),
        ("brightness", 40.0),
        ("brightness", 220.0),
        ("contrast", 15.0),
        ("roll_deg", 35.0),
        ("roll_deg", -35.0),
        ("yaw_ratio", 0.35),
        ("yaw_ratio", -0.35),
    ],
)
def test_values_exactly_at_a_limit_pass(field: str, value: float) -> None:
    assert assess_quality(good_quality(**{field: value}), QualityThresholds()).passed


def test_every_failure_is_listed_in_a_fixed_order() -> None:
    bad = FaceQuality(
        face_width_px=10.0,
        inter_eye_distance_px=5.0,
        sharpness=1.0,
        brightness=10.0,
        contrast=2.0,
        roll_deg=-80.0,
        yaw_ratio=0.9,
    )
    verdict = assess_quality(bad, QualityThresholds())
    assert verdict.failures == (
        "inter_eye_distance_px",
        "face_width_px",
        "sharpness",
        "too_dark",
        "contrast",
        "roll_deg",
        "yaw_ratio",
    )


def test_custom_limits_are_used() -> None:
    strict = QualityThresholds(min_sharpness=300.0, max_abs_roll_deg=2.0)
    assert assess_quality(good_quality(), strict).failures == ("sharpness", "roll_deg")
    lenient = QualityThresholds(max_abs_yaw_ratio=1.0)
    assert assess_quality(good_quality(yaw_ratio=0.9), lenient).passed


def test_quality_as_dict_is_rounded_and_complete() -> None:
    quality = good_quality(sharpness=123.45678, yaw_ratio=-0.12345)
    assert quality.as_dict() == {
        "face_width_px": 120.0,
        "inter_eye_distance_px": 50.0,
        "sharpness": 123.457,
        "brightness": 128.0,
        "contrast": 45.0,
        "roll_deg": 3.0,
        "yaw_ratio": -0.123,
    }
