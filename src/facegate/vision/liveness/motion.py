"""The multi-frame cue: motion a flat photo cannot make. No training.

A printed photo or a screen moved in front of the camera is a plane, and every view of
a plane is related to every other by a homography. A live head is not flat (nose, eyes,
cheeks and outline lie at different depths: parallax), it deforms (speech, expression)
and its eyes blink. The cue:

1. picks corners inside the face box of the first frame (``goodFeaturesToTrack``);
2. follows them through the window with pyramidal Lucas-Kanade, keeping points whose
   forward-backward error stays under :attr:`MotionSettings.max_fb_error_px`;
3. for each later frame fits a homography from the first frame's points (RANSAC) and
   measures the *parallax*: the 90th percentile of the points' reprojection errors,
   over the face width (unitless; a plane leaves only tracking noise, about 0.002-0.006);
4. registers each frame's eye regions to the first frame by that homography and
   measures the *eye change*: mean absolute grey difference over the region's contrast
   (a plane leaves only noise; a blink or a gaze shift leaves more).

The cue's score is ``max(parallax / parallax_threshold, eye_change / eye_threshold)``
over the window: live when at least 1. A window with too few frames or trackable points
is not live (fail closed). A live person who holds perfectly still without blinking
also fails: the cue needs a little motion or a blink.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import CueResult, FaceFrame

Grey = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """Settings of the multi-frame cue.

    Attributes:
        min_frames: fewest frames a window needs (default 6; 12 at 25 fps is 0.48 s).
        max_points: most corners tracked (default 200).
        min_points: fewest corners that must survive the window (default 20).
        max_fb_error_px: largest forward-backward tracking error kept, in pixels of a
            face 100 pixels wide (default 1.0).
        parallax_threshold: parallax (90th-percentile homography residual over face
            width) at which the face counts as not flat (default 0.010: the 99th
            percentile, 0.0095, of 204 synthetic planar attacks made from the Yale and
            TV-cast photos by ``bench/liveness_motion.py --calibrate``, rounded up; no
            live data and no reported photo was used to set it).
        eye_change_threshold: eye-region change (mean absolute difference over
            contrast) at which the eyes count as moving (default 0.11: the same
            calibration's 99th percentile, 0.110).
    """

    min_frames: int = 6
    max_points: int = 200
    min_points: int = 20
    max_fb_error_px: float = 1.0
    parallax_threshold: float = 0.010
    eye_change_threshold: float = 0.11


CUE_NAME = "motion"
_LK_WINDOW_PX = (15, 15)
_LK_LEVELS = 3


def _grey(frame: FaceFrame) -> Grey:
    return np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _corners(grey: Grey, box: Box, max_points: int) -> Points:
    """Corners inside the inner 80% of ``box`` (away from the background)."""
    mask = np.zeros_like(grey)
    pad_x, pad_y = box.width // 10, box.height // 10
    mask[
        max(box.top + pad_y, 0) : max(box.bottom - pad_y, 0),
        max(box.left + pad_x, 0) : max(box.right - pad_x, 0),
    ] = 255
    spacing = max(box.width / 40.0, 2.0)
    found = cv2.goodFeaturesToTrack(grey, max_points, 0.005, spacing, mask=mask)
    if found is None:
        return np.zeros((0, 1, 2), dtype=np.float32)
    return np.asarray(found, dtype=np.float32)


def _lucas_kanade(
    previous: Grey, current: Grey, points: Points
) -> tuple[Points, npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    found, status, error = cv2.calcOpticalFlowPyrLK(
        previous,
        current,
        points,
        np.empty_like(points),
        winSize=_LK_WINDOW_PX,
        maxLevel=_LK_LEVELS,
    )
    return (
        np.asarray(found, dtype=np.float32),
        np.asarray(status, dtype=np.uint8),
        np.asarray(error, dtype=np.float32),
    )


def track(greys: Sequence[Grey], start: Points, max_fb_error_px: float) -> list[Points]:
    """Follow ``start`` through ``greys``; only points tracked in every frame are kept.

    Returns:
        One ``(n, 1, 2)`` array per frame (the first is ``start``'s survivors).
    """
    paths = [start]
    alive = np.ones(len(start), dtype=bool)
    for previous, current in itertools.pairwise(greys):
        forward, ok_f, _ = _lucas_kanade(previous, current, paths[-1])
        backward, ok_b, _ = _lucas_kanade(current, previous, forward)
        error = np.linalg.norm((backward - paths[-1]).reshape(-1, 2), axis=1)
        alive &= (ok_f.ravel() == 1) & (ok_b.ravel() == 1) & (error <= max_fb_error_px)
        paths.append(forward)
    return [p[alive] for p in paths]


def parallax(
    first: Points, later: Points, face_width_px: float
) -> tuple[float, npt.NDArray[np.float64]]:
    """90th-percentile homography residual over face width, and the homography.

    Raises:
        ValueError: no homography fits (degenerate points).
    """
    threshold = max(0.01 * face_width_px, 0.5)
    homography, _ = cv2.findHomography(first, later, cv2.RANSAC, threshold)
    if homography is None:
        raise ValueError("no homography fits the tracked points")
    projected = cv2.perspectiveTransform(first, homography)
    residual = np.linalg.norm((projected - later).reshape(-1, 2), axis=1)
    return float(np.percentile(residual, 90)) / face_width_px, np.asarray(homography, np.float64)


def eye_boxes(landmarks: FivePointLandmarks) -> list[tuple[int, int, int, int]]:
    """``(x, y, width, height)`` of a region around each eye, from its two corners."""
    boxes = []
    for outer, inner in ((0, 1), (2, 3)):
        (x0, y0), (x1, y1) = landmarks.points[outer], landmarks.points[inner]
        span = max(math.hypot(x1 - x0, y1 - y0), 4.0)
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        width, height = 1.6 * span, 1.0 * span
        boxes.append((int(cx - width / 2), int(cy - height / 2), int(width), int(height)))
    return boxes


def eye_change(
    first: Grey, later: Grey, homography: npt.NDArray[np.float64], landmarks: FivePointLandmarks
) -> float:
    """Mean absolute grey difference of the eye regions after registration, over contrast."""
    changes = []
    for x, y, width, height in eye_boxes(landmarks):
        reference = first[max(y, 0) : y + height, max(x, 0) : x + width].astype(np.float64)
        if reference.size < 16:
            continue
        shift = np.array([[1, 0, max(x, 0)], [0, 1, max(y, 0)], [0, 0, 1]], dtype=np.float64)
        size = (reference.shape[1], reference.shape[0])
        warped = cv2.warpPerspective(
            later, homography @ shift, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        ).astype(np.float64)
        contrast = float(reference.std()) + 8.0
        changes.append(float(np.mean(np.abs(warped - reference))) / contrast)
    return max(changes, default=0.0)


def motion_cue(frames: Sequence[FaceFrame], settings: MotionSettings) -> CueResult:
    """The multi-frame cue on ``frames`` of one face (oldest first); never raises."""
    try:
        return _measure(frames, settings)
    except (ValueError, cv2.error) as err:
        return _failed(f"could not measure motion ({err})", settings)


def _failed(message: str, settings: MotionSettings) -> CueResult:
    return CueResult(CUE_NAME, 0.0, 1.0, {}, message, (0.0, 3.0))


def _measure(frames: Sequence[FaceFrame], settings: MotionSettings) -> CueResult:
    if len(frames) < settings.min_frames:
        return _failed(f"needs {settings.min_frames} frames, got {len(frames)}", settings)
    greys = [_grey(frame) for frame in frames]
    box, width = frames[0].box, float(frames[0].box.width)
    start = _corners(greys[0], box, settings.max_points)
    if len(start) < settings.min_points:
        return _failed(f"only {len(start)} trackable points in the face", settings)
    paths = track(greys, start, settings.max_fb_error_px * width / 100.0)
    if len(paths[0]) < settings.min_points:
        return _failed(f"only {len(paths[0])} points tracked through the window", settings)
    best_parallax, best_eye, motion = 0.0, 0.0, 0.0
    for grey, points in zip(greys[1:], paths[1:], strict=True):
        value, homography = parallax(paths[0], points, width)
        best_parallax = max(best_parallax, value)
        best_eye = max(best_eye, eye_change(greys[0], grey, homography, frames[0].landmarks))
        shift = np.median(np.linalg.norm((points - paths[0]).reshape(-1, 2), axis=1))
        motion = max(motion, float(shift) / width)
    score = float(
        max(best_parallax / settings.parallax_threshold, best_eye / settings.eye_change_threshold)
    )
    details = {
        "parallax": best_parallax,
        "eye_change": best_eye,
        "motion": motion,
        "points": float(len(paths[0])),
    }
    return CueResult(CUE_NAME, score, 1.0, details, None, (0.0, 3.0))
