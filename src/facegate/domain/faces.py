"""Face geometry and quality: boxes, 5-point landmarks, quality measures and the gate.

All coordinates are pixels of the original image (x to the right, y down), whatever
resolution the detector worked at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from facegate.domain.reasons import Reason


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in pixels: ``left``/``top`` inclusive, ``right``/``bottom`` exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        """Box width in pixels."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return self.bottom - self.top

    @property
    def area(self) -> int:
        """Box area in square pixels."""
        return max(self.width, 0) * max(self.height, 0)

    @property
    def center(self) -> tuple[float, float]:
        """Centre ``(x, y)`` in pixels."""
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    def as_list(self) -> list[int]:
        """``[left, top, right, bottom]``, the contract's box order."""
        return [self.left, self.top, self.right, self.bottom]

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 disjoint, 1 identical)."""
        inter = Box(
            max(self.left, other.left),
            max(self.top, other.top),
            min(self.right, other.right),
            min(self.bottom, other.bottom),
        )
        if inter.width <= 0 or inter.height <= 0:
            return 0.0
        union = self.area + other.area - inter.area
        return inter.area / union if union > 0 else 0.0


Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class FivePointLandmarks:
    """dlib's 5-point landmarks in pixels.

    dlib's order is: outer then inner corner of the eye on the image's right (the
    subject's left eye), outer then inner corner of the eye on the image's left, then the
    base of the nose.
    """

    points: tuple[Point, Point, Point, Point, Point]

    @property
    def left_eye_center(self) -> Point:
        """Centre of the eye on the image's left (the subject's right eye), pixels."""
        (x2, y2), (x3, y3) = self.points[2], self.points[3]
        return ((x2 + x3) / 2.0, (y2 + y3) / 2.0)

    @property
    def right_eye_center(self) -> Point:
        """Centre of the eye on the image's right (the subject's left eye), pixels."""
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        return ((x0 + x1) / 2.0, (y0 + y1) / 2.0)

    @property
    def nose(self) -> Point:
        """Nose base, pixels."""
        return self.points[4]

    @property
    def inter_eye_distance_px(self) -> float:
        """Distance between the two eye centres in pixels (typical door camera: 40-120)."""
        (lx, ly), (rx, ry) = self.left_eye_center, self.right_eye_center
        return math.hypot(rx - lx, ry - ly)

    @property
    def roll_deg(self) -> float:
        """In-plane head rotation in degrees (0 upright, positive clockwise in the image)."""
        (lx, ly), (rx, ry) = self.left_eye_center, self.right_eye_center
        return math.degrees(math.atan2(ry - ly, rx - lx))

    @property
    def yaw_ratio(self) -> float:
        """Sideways nose offset from the eyes' midpoint, over the inter-eye distance.

        Measured along the eye line, so roll does not change it. About 0 for a frontal
        face, around +-0.25 at 30 degrees of yaw, +-0.5 and beyond near profile.
        """
        (lx, ly), (rx, ry) = self.left_eye_center, self.right_eye_center
        distance = self.inter_eye_distance_px
        if distance <= 0.0:
            return math.inf
        ux, uy = (rx - lx) / distance, (ry - ly) / distance
        mx, my = (lx + rx) / 2.0, (ly + ry) / 2.0
        nx, ny = self.nose
        return ((nx - mx) * ux + (ny - my) * uy) / distance

    def as_lists(self) -> list[list[float]]:
        """The points as ``[[x, y], ...]`` for JSON."""
        return [[round(x, 2), round(y, 2)] for x, y in self.points]


@dataclass(frozen=True, slots=True)
class FaceQuality:
    """Quality measures of one face.

    Attributes:
        face_width_px: detector box width in original-image pixels.
        inter_eye_distance_px: distance between eye centres in original-image pixels.
        sharpness: variance of the Laplacian of the inner 100x100 pixels of the grey
            aligned chip (grey levels squared); ordinary photos score 15-600 (median about
            55 for web photos), a 110-pixel face blurred by a 1.5-pixel Gaussian about 6.
        brightness: mean grey level of the chip, 0-255.
        contrast: standard deviation of the chip's grey levels (RMS contrast), 0-128.
        roll_deg: in-plane rotation from the eye line, degrees.
        yaw_ratio: nose offset from the eyes' midpoint over the inter-eye distance
            (0 frontal, about +-0.25 at 30 degrees of yaw).
    """

    face_width_px: float
    inter_eye_distance_px: float
    sharpness: float
    brightness: float
    contrast: float
    roll_deg: float
    yaw_ratio: float

    def as_dict(self) -> dict[str, float]:
        """The measures rounded for JSON output."""
        return {name: round(float(getattr(self, name)), 3) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """The quality gate's limits; a face must meet every one to be used.

    The defaults suit a door camera that sees a cooperative person at 0.5-2 m. They
    were set from the spread of the measures over 759 ordinary photos of five public sets
    (each limit near their 1st percentile) and over Gaussian-blurred copies, so ordinary
    photos pass and blurred, dark, tiny or side-on faces do not.

    Attributes:
        min_inter_eye_distance_px: fewer pixels between the eyes than this (typical 20)
            leave too little detail for a reliable descriptor.
        min_face_width_px: smallest detector box width in pixels (typical 40).
        min_sharpness: least Laplacian variance of the grey chip (typical 10).
        min_brightness: darkest acceptable mean grey level of the chip (typical 40).
        max_brightness: brightest acceptable mean grey level of the chip (typical 220).
        min_contrast: least grey-level standard deviation of the chip (typical 15).
        max_abs_roll_deg: largest in-plane tilt in degrees (typical 35).
        max_abs_yaw_ratio: largest nose offset ratio (typical 0.35, about 40 degrees).
    """

    min_inter_eye_distance_px: float = 20.0
    min_face_width_px: float = 40.0
    min_sharpness: float = 10.0
    min_brightness: float = 40.0
    max_brightness: float = 220.0
    min_contrast: float = 15.0
    max_abs_roll_deg: float = 35.0
    max_abs_yaw_ratio: float = 0.35


@dataclass(frozen=True, slots=True)
class QualityVerdict:
    """The quality gate's answer: ``passed`` and, when not, every failed check by name."""

    passed: bool
    failures: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reason(self) -> Reason | None:
        """``low_quality`` when the face failed, else ``None``."""
        return None if self.passed else Reason.LOW_QUALITY


def assess_quality(quality: FaceQuality, limits: QualityThresholds) -> QualityVerdict:
    """Check one face's measures against the gate's limits.

    Args:
        quality: the face's measures.
        limits: the gate's thresholds.

    Returns:
        A verdict naming each failed check (``"inter_eye_distance_px"``, ``"sharpness"``...).
    """
    checks: dict[str, bool] = {
        "inter_eye_distance_px": quality.inter_eye_distance_px >= limits.min_inter_eye_distance_px,
        "face_width_px": quality.face_width_px >= limits.min_face_width_px,
        "sharpness": quality.sharpness >= limits.min_sharpness,
        "too_dark": quality.brightness >= limits.min_brightness,
        "too_bright": quality.brightness <= limits.max_brightness,
        "contrast": quality.contrast >= limits.min_contrast,
        "roll_deg": abs(quality.roll_deg) <= limits.max_abs_roll_deg,
        "yaw_ratio": abs(quality.yaw_ratio) <= limits.max_abs_yaw_ratio,
    }
    failures = tuple(name for name, ok in checks.items() if not ok)
    return QualityVerdict(passed=not failures, failures=failures)


def primary_face_index(boxes: list[Box], image_width: int, image_height: int) -> int | None:
    """Pick the face a photo is "of".

    Among the faces at least half as large as the largest, the one whose centre is
    nearest the image centre wins.

    Args:
        boxes: the detected face boxes.
        image_width: image width in pixels.
        image_height: image height in pixels.

    Returns:
        The index into ``boxes``, or ``None`` when there are none.
    """
    if not boxes:
        return None
    largest = max(box.area for box in boxes)
    cx, cy = image_width / 2.0, image_height / 2.0

    def off_centre(index: int) -> float:
        x, y = boxes[index].center
        return math.hypot(x - cx, y - cy)

    candidates = [i for i, box in enumerate(boxes) if box.area * 2 >= largest]
    return min(candidates, key=off_centre)


@dataclass(frozen=True, slots=True)
class UploadedPhoto:
    """A photo received over the network: its encoded bytes, never written to disk.

    Attributes:
        name: the client's file name, for messages only (never used as a path).
        data: the encoded image (bounded and decoded by ``vision.images.load_image``).
    """

    name: str
    data: bytes = field(repr=False)

    def __str__(self) -> str:
        return self.name
