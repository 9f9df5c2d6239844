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
   (a plane leaves only noise; a blink or a gaze shift leaves more);
5. with a FaceMesh model (:mod:`facegate.vision.liveness.face_mesh`), measures on each
   frame the eyes' openness (lid gap over eye width) and the mouth's (inner-lip gap over
   mouth width): the *blink* is the smaller of the two eyes' relative drop over the
   window, the *speech* the mouth's range. Both are ratios within the face, which a
   moved photo keeps (up to a few per cent of foreshortening and the model's jitter).

The cue's score is the largest of each measure over its threshold, over the window:
live when at least 1 (any sign of life suffices; each threshold is set on planar attacks
alone, see :class:`MotionSettings`). A window with too few frames or trackable points is
not live (fail closed). A live person who holds perfectly still without blinking also
fails that window: :class:`facegate.domain.liveness.LivenessSchedule` gives such a face
more windows before refusing it.
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
from facegate.vision.liveness.face_mesh import (
    PRESENCE_LOGIT_MIN,
    FaceMeshModel,
    eye_openness,
    mouth_openness,
)

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
            width) at which the face counts as not flat (unitless).
        eye_change_threshold: eye-region change (mean absolute difference over
            contrast) at which the eyes count as moving (unitless).
        blink_threshold: relative drop of eye openness (the smaller of the two eyes')
            at which the eyes count as blinking (unitless).
        speech_threshold: range of mouth openness (inner-lip gap over mouth width) at
            which the mouth counts as moving (unitless).

    The four thresholds come from planar attacks alone (no live data, no photo that is
    reported): ``bench/liveness_motion.py --calibrate`` moves each Yale and TV-cast photo
    as a plane for one presentation (50 frames), once slowly (one move) and once fast (four
    moves) (408 presentations),
    takes each measure's largest value over the presentation's windows, and puts every
    threshold at the same percentile, the lowest at which at most 1 % of those attacks
    pass (99.8th: 0.0145, 0.1786, 0.2797, 0.1420; calibration APCER 0.98 %), rounded up.
    """

    min_frames: int = 6
    max_points: int = 200
    min_points: int = 20
    max_fb_error_px: float = 1.0
    parallax_threshold: float = 0.0145
    eye_change_threshold: float = 0.179
    blink_threshold: float = 0.28
    speech_threshold: float = 0.142


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


def face_changes(frames: Sequence[FaceFrame], mesh: FaceMeshModel) -> dict[str, float]:
    """The window's ``blink`` and ``speech`` measures from FaceMesh points (unitless).

    ``blink``: for each eye, (largest - smallest openness) over the largest; the smaller of
    the two eyes' values (a blink closes both). ``speech``: largest - smallest mouth
    openness. Frames where FaceMesh does not see a face are left out.

    Raises:
        ValueError: FaceMesh saw a face on fewer than two frames.
    """
    eyes, mouths = [], []
    for frame in frames:
        found = mesh.mesh(frame.image, frame.box, frame.landmarks)
        if found.presence_logit < PRESENCE_LOGIT_MIN:
            continue
        eyes.append(eye_openness(found))
        mouths.append(mouth_openness(found))
    if len(eyes) < 2:
        raise ValueError(f"FaceMesh found the face on {len(eyes)} of {len(frames)} frames")
    openness = np.asarray(eyes, dtype=np.float64)
    largest = np.maximum(openness.max(axis=0), 1e-6)
    blink = float(np.min((largest - openness.min(axis=0)) / largest))
    return {"blink": blink, "speech": float(np.ptp(np.asarray(mouths, dtype=np.float64)))}


def motion_cue(
    frames: Sequence[FaceFrame], settings: MotionSettings, mesh: FaceMeshModel | None = None
) -> CueResult:
    """The multi-frame cue on ``frames`` of one face (oldest first); never raises.

    Args:
        frames: the window, each frame with its own face box and landmarks.
        settings: thresholds and limits.
        mesh: FaceMesh for the blink and speech measures; without it only parallax and
            eye change are measured.
    """
    try:
        return _measure(frames, settings, mesh)
    except (ValueError, cv2.error) as err:
        return _failed(f"could not measure motion ({err})", settings)


def _failed(message: str, settings: MotionSettings) -> CueResult:
    return CueResult(CUE_NAME, 0.0, 1.0, {}, message, (0.0, 3.0))


def _measure(
    frames: Sequence[FaceFrame], settings: MotionSettings, mesh: FaceMeshModel | None
) -> CueResult:
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
    measures = {"parallax": best_parallax, "eye_change": best_eye}
    if mesh is not None:
        measures.update(face_changes(frames, mesh))
    score = max(value / measure_threshold(name, settings) for name, value in measures.items())
    details = {**measures, "motion": motion, "points": float(len(paths[0]))}
    return CueResult(CUE_NAME, float(score), 1.0, details, None, (0.0, 3.0))


def measure_threshold(measure: str, settings: MotionSettings) -> float:
    """The threshold of one of the cue's measures, by its name in the details."""
    return {
        "parallax": settings.parallax_threshold,
        "eye_change": settings.eye_change_threshold,
        "blink": settings.blink_threshold,
        "speech": settings.speech_threshold,
    }[measure]
