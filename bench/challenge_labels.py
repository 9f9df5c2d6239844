"""Independent move labels for ``bench/challenge.py``: dlib's 68 points, in degrees and ratios.

The challenge judges moves with FaceMesh (a TFLite network) in eye-distance units. To say
where a move *really* happens without asking the same measures, each frame is measured
again with another model and other definitions, with thresholds fixed before looking at
the results (from the literature or the challenge's own documented intent, not fitted):

- head yaw and pitch in degrees: dlib's HOG face box, its 68-point shape predictor (an
  ensemble of regression trees, unrelated to FaceMesh), and ``cv2.solvePnP`` of six of
  the points (nose tip, chin, eye corners, mouth corners) against a generic 3-D head;
- **blink**: the eye aspect ratio (Soukupova and Cech, 2016; both eyes' mean) falls below
  0.20 from an open-eyed reference (at least 0.25);
- **open the mouth**: the inner-lip aspect ratio (the three inner-lip gaps over the inner
  mouth width) rises from a reference below 0.25.

Two levels (:data:`LEVELS`), both fixed before any pass rate was computed:
``deliberate`` (what a person asked to move does: a turn of at least 30 degrees, the
lower end of the 30-45 degrees of a deliberate turn, see ``ChallengeSettings.turn``;
looking up at least 20 degrees; the mouth to 0.50) and ``threshold`` (the angles the
challenge's thresholds are documented to mean: a turn of 20 degrees, looking up 15
degrees; the mouth to 0.30, a speaking mouth).

The 68-point model (in ``face_recognition_models``) is licensed for non-commercial use:
it is used here, in a bench, only; the product does not load it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Level:
    """How large a move must be to count as really happening."""

    turn_deg: float
    look_up_deg: float
    mouth_open: float
    eyes_closed: float = 0.20
    eyes_open: float = 0.25
    mouth_closed: float = 0.25


LEVELS = {"deliberate": Level(30.0, 20.0, 0.50), "threshold": Level(20.0, 15.0, 0.30)}

# A generic head (mm; x right, y up, z out of the face), the points' usual model.
_HEAD = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip (30)
        (0.0, -330.0, -65.0),  # chin (8)
        (-225.0, 170.0, -135.0),  # image-left eye's outer corner (36)
        (225.0, 170.0, -135.0),  # image-right eye's outer corner (45)
        (-150.0, -150.0, -125.0),  # image-left mouth corner (48)
        (150.0, -150.0, -125.0),  # image-right mouth corner (54)
    ]
)
_HEAD_POINTS = (30, 8, 36, 45, 48, 54)

Measures = npt.NDArray[np.float64]
"""Rows of (frame index, yaw degrees, pitch degrees, eye aspect ratio, mouth ratio)."""


def _pose_deg(points: npt.NDArray[np.float64], width: int, height: int) -> tuple[float, float]:
    """Yaw (positive: the face turns towards the image's right) and pitch (up), degrees."""
    camera = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], np.float64)
    image_points = points[list(_HEAD_POINTS)].astype(np.float64)
    ok, rotation, _ = cv2.solvePnP(
        _HEAD, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return float("nan"), float("nan")
    matrix, _ = cv2.Rodrigues(rotation)
    facing = matrix @ np.array([0.0, 0.0, 1.0])  # out of the face, in camera axes
    # Facing the camera is -z; image right is +x, image up is -y.
    yaw = float(np.degrees(np.arctan2(facing[0], -facing[2])))
    pitch = float(np.degrees(np.arctan2(-facing[1], -facing[2])))
    return yaw, pitch


def _ratio(
    points: npt.NDArray[np.float64], pairs: list[tuple[int, int]], ends: tuple[int, int]
) -> float:
    gaps = [float(np.linalg.norm(points[a] - points[b])) for a, b in pairs]
    width = float(np.linalg.norm(points[ends[0]] - points[ends[1]]))
    return sum(gaps) / (len(gaps) * max(width, 1e-6))


def frame_measures(points: npt.NDArray[np.float64], width: int, height: int) -> tuple[float, ...]:
    """Yaw and pitch (degrees), eye aspect ratio, inner-mouth aspect ratio of 68 points."""
    yaw, pitch = _pose_deg(points, width, height)
    left = _ratio(points, [(37, 41), (38, 40)], (36, 39))
    right = _ratio(points, [(43, 47), (44, 46)], (42, 45))
    mouth = _ratio(points, [(61, 67), (62, 66), (63, 65)], (60, 64))
    return yaw, pitch, (left + right) / 2.0, mouth


def measures_of(path: Path, cache: Path) -> Measures:
    """The 68-point measures of every frame of the video with a face (cached)."""
    cached = cache / f"{path.stem}.dlib68.npy"
    if cached.is_file():
        return np.load(cached)
    import dlib
    import face_recognition_models

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    capture = cv2.VideoCapture(str(path))
    rows, index = [], 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        boxes = detector(rgb, 0)  # faces here are 90+ px: no upsampling needed
        if boxes:
            box = max(boxes, key=lambda b: b.area())
            shape = predictor(rgb, box)
            points = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
            rows.append((index, *frame_measures(points, rgb.shape[1], rgb.shape[0])))
        index += 1
    capture.release()
    cache.mkdir(parents=True, exist_ok=True)
    found = np.array(rows, np.float64)
    np.save(cached, found)
    print(f"{path.name}: {len(found)} frames measured with dlib 68", file=sys.stderr)
    return found


def shows(
    measures: Measures,
    fps: float,
    prompt: str,
    start_s: float,
    reference_s: float,
    within_s: float,
    level: Level,
) -> bool:
    """Whether ``prompt``'s move really happens within ``within_s`` after ``start_s``.

    The reference is the median of the measures of the ``reference_s`` before it.
    """
    times = measures[:, 0] / fps
    before = measures[(times >= start_s - reference_s) & (times < start_s)]
    after = measures[(times >= start_s) & (times <= start_s + within_s)]
    if len(before) == 0 or len(after) == 0:
        return False
    ref = np.nanmedian(before[:, 1:], axis=0)
    yaw, pitch, ear, mar = (after[:, i] for i in range(1, 5))
    if prompt == "turn_left":  # the person's own left: the image's right (not mirrored)
        return bool(np.nanmax(yaw - ref[0]) >= level.turn_deg)
    if prompt == "turn_right":
        return bool(np.nanmin(yaw - ref[0]) <= -level.turn_deg)
    if prompt == "look_up":
        return bool(np.nanmax(pitch - ref[1]) >= level.look_up_deg)
    if prompt == "blink":
        return bool(ref[2] >= level.eyes_open and np.nanmin(ear) < level.eyes_closed)
    if prompt == "open_mouth":
        return bool(ref[3] < level.mouth_closed and np.nanmax(mar) >= level.mouth_open)
    raise ValueError(prompt)
