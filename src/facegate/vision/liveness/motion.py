"""The multi-frame cue: motion a flat photo cannot make. No training.

A printed photo or a screen moved in front of the camera is a plane, and every view of
a plane is related to every other by a homography. A live head is not flat (nose, eyes,
cheeks and outline lie at different depths: parallax), it deforms (speech, expression)
and its eyes blink. The cue:

1. picks corners inside the face box of the first frame (``goodFeaturesToTrack``);
2. follows them through the window with pyramidal Lucas-Kanade, keeping points whose
   forward-backward error stays under :attr:`MotionSettings.max_fb_error_px`;
3. for each later frame fits a homography from the first frame's points (RANSAC) and
   *rectifies* the frame with it: brings it back into the first frame's geometry, so
   that a moved plane (a print or a screen, any rigid motion: shift, roll, zoom, tilt)
   lands on the same pixels again;
4. measures the *parallax*: the motion left after rectifying, by dense optical flow
   (DIS) in the inner face box, less the best homography of that flow, smoothed, its
   90th-percentile length over the face width (unitless; the window's value is the
   median over its later half), and the *eye change*: the eye regions of the first and
   the rectified frame, each standardised, their mean absolute difference (the
   window's second largest);
5. with a FaceMesh model (:mod:`facegate.vision.liveness.face_mesh`), measures on each
   rectified frame (cropped where the first frame's face is) the eyes' openness (lid
   gap over eye width) and the mouth's (inner-lip gap over mouth width): the *blink*
   is the smaller of the two eyes' relative drop over the window, the *speech* the
   mouth's range. Both are ratios within the face, which a rectified plane keeps (up
   to the model's jitter).

The cue's score is the largest of each measure over its threshold, over the window:
live when at least 1 (any sign of life suffices; each threshold is set on planar attacks
alone, see :class:`MotionSettings`). A window with too few frames or trackable points is
not live (fail closed). The gate's :class:`facegate.domain.liveness.LivenessSchedule`
gives it the whole presentation so far (up to 3 s, at most 12 frames spread in time),
so a head that drifts in depth slowly shows it by the later checks. A live person who
holds perfectly still without blinking or speaking still fails: nothing here tells such
a face from a print (measured: ``bench/liveness_motion.py``; docs/gate.md).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import CueResult, FaceFrame
from facegate.vision.liveness.face_mesh import (
    PRESENCE_LOGIT_MIN,
    FaceMesh,
    FaceMeshModel,
    eye_openness,
    mouth_openness,
)

Grey = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """Settings of the multi-frame cue.

    Attributes:
        min_frames: fewest frames a window needs (default 6; 12 at 25 fps is 0.48 s).
        max_points: most corners tracked (default 200).
        min_points: fewest corners that must survive the window (default 20).
        max_fb_error_px: largest forward-backward tracking error kept, in pixels of a
            face 100 pixels wide (default 1.0).
        parallax_threshold: parallax (residual flow after the best homography, over
            the face width) at which the face counts as not flat (unitless).
        eye_change_threshold: eye-region change (standardised mean absolute
            difference after rectifying) at which the eyes count as moving (unitless).
        blink_threshold: relative drop of eye openness (the smaller of the two eyes')
            at which the eyes count as blinking (unitless).
        speech_threshold: range of mouth openness (inner-lip gap over mouth width) at
            which the mouth counts as moving (unitless).

    The four thresholds come from planar attacks alone, the calibration part of the
    attack suite (:mod:`facegate.vision.liveness.attack_suite`: prints of its people
    moved in each of its seven ways, at two distances, 84 clips): ``python
    bench/liveness_motion.py --calibrate`` takes each measure's largest value over every
    check the shipped schedule makes on each clip's 3 s (growing windows from the clip's
    first frame, 25 frames/s) and sets each threshold 10 % above the largest over all
    clips (calibration APCER 0/84), rounded up. No live video and nothing of the
    reporting part is used.
    """

    min_frames: int = 6
    max_points: int = 200
    min_points: int = 20
    max_fb_error_px: float = 1.0
    parallax_threshold: float = 0.0208
    eye_change_threshold: float = 0.96
    blink_threshold: float = 0.392
    speech_threshold: float = 0.173


CUE_NAME = "motion"
_LK_WINDOW_PX = (15, 15)
_LK_LEVELS = 3


def kept(frame: FaceFrame, key: str, make: Callable[[], _T]) -> _T:
    """``make()``'s result for ``frame``, computed on the frame's first check only.

    A frame lies in several checks' windows (at 25 frames/s and the shipped schedule,
    in two or three); what depends on the frame alone is kept in
    :attr:`FaceFrame.work` under ``key`` and reused, so a check pays for it once.
    """
    found = frame.work.get(key)
    if found is None:
        found = make()
        frame.work[key] = found
    return cast(_T, found)


def _grey(frame: FaceFrame) -> Grey:
    return kept(
        frame,
        "motion.grey",
        lambda: np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), dtype=np.uint8),
    )


def _start_points(frame: FaceFrame, max_points: int) -> Points:
    """The corners a window starting at ``frame`` tracks (found once per frame)."""
    return kept(
        frame,
        f"motion.corners.{max_points}",
        lambda: _corners(_grey(frame), frame.box, max_points),
    )


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


def homography(first: Points, later: Points, face_width_px: float) -> npt.NDArray[np.float64]:
    """The homography taking ``first`` to ``later`` (RANSAC, 1 % of the face's width).

    Raises:
        ValueError: no homography fits (degenerate points).
    """
    threshold = max(0.01 * face_width_px, 0.5)
    found, _ = cv2.findHomography(first, later, cv2.RANSAC, threshold)
    if found is None:
        raise ValueError("no homography fits the tracked points")
    return np.asarray(found, dtype=np.float64)


def rectify(image: npt.NDArray[np.uint8], to_later: npt.NDArray[np.float64]) -> Grey:
    """``image`` (a later frame) brought back into the first frame's geometry.

    ``to_later`` maps first-frame pixels to ``image``'s; after rectifying, a plane seen
    in both frames lies on the same pixels (a moved photo is undone entirely).
    """
    height, width = image.shape[:2]
    return np.asarray(
        cv2.warpPerspective(
            image, to_later, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
    )


@dataclass(frozen=True, slots=True)
class Region:
    """The inner part of the first frame's face box (away from the background).

    Attributes:
        left, top, right, bottom: its edges in the first frame's pixels.
    """

    left: int
    top: int
    right: int
    bottom: int

    @classmethod
    def inner(cls, box: Box, shape: tuple[int, ...], share: float = 0.15) -> Region:
        """``box`` less ``share`` of its width and height on every side, inside the frame."""
        pad_x, pad_y = round(box.width * share), round(box.height * share)
        return cls(
            max(box.left + pad_x, 0),
            max(box.top + pad_y, 0),
            min(box.right - pad_x, shape[1]),
            min(box.bottom - pad_y, shape[0]),
        )

    def crop(self, image: Grey) -> Grey:
        """The region's pixels of ``image``."""
        return image[self.top : self.bottom, self.left : self.right]


_per_thread = threading.local()


def dense_flow() -> cv2.DISOpticalFlow:
    """This thread's DIS optical flow (its own: the object keeps buffers between calls).

    One object shared by the server's frame workers was used by two at once and corrupted
    the heap under load (``malloc(): invalid size``, then SIGABRT/SIGSEGV).
    """
    flow: cv2.DISOpticalFlow | None = getattr(_per_thread, "flow", None)
    if flow is None:
        flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        _per_thread.flow = flow
    return flow


def parallax(first: Grey, rectified: Grey, region: Region, face_width_px: float) -> float:
    """Motion left after undoing the best homography, over the face's width (unitless).

    Dense optical flow (DIS) from ``first`` to ``rectified`` (a later frame already
    brought back by the tracked points' homography) inside ``region``; the best
    homography of that flow is taken out too (what the points missed), the rest is
    smoothed over 4 % of the face's width (tracking noise is not coherent, a nose in
    front of the cheeks is) and its 90th-percentile length returned. A plane leaves
    noise only; a head that turns leaves its depth.

    Raises:
        ValueError: the region is too small or no homography fits the flow.
    """
    a, b = region.crop(first), region.crop(rectified)
    if min(a.shape[:2]) < 16:
        raise ValueError("the face region is too small to measure")
    flow = np.asarray(
        dense_flow().calc(np.ascontiguousarray(a), np.ascontiguousarray(b), None),  # type: ignore[call-overload]
        dtype=np.float32,
    )
    height, width = a.shape[:2]
    step = max(min(height, width) // 16, 1)
    ys, xs = np.mgrid[step // 2 : height : step, step // 2 : width : step]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    moved = grid + flow[ys.ravel(), xs.ravel()]
    fitted, _ = cv2.findHomography(grid, moved, cv2.RANSAC, max(0.01 * face_width_px, 0.5))
    if fitted is None:
        raise ValueError("no homography fits the residual flow")
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([xx, yy], axis=-1).reshape(-1, 1, 2)
    expected = cv2.perspectiveTransform(pixels, fitted).reshape(height, width, 2)
    residual = flow - (expected - np.stack([xx, yy], axis=-1))
    sigma = max(0.04 * face_width_px, 1.0)
    smooth = cv2.GaussianBlur(residual, (0, 0), sigma)
    valid = b > 0  # pixels that came from inside the later frame
    length = np.linalg.norm(smooth, axis=2)[valid]
    if length.size < 64:
        raise ValueError("the face left the frame")
    return float(np.percentile(length, 90)) / face_width_px


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


def eye_change(first: Grey, rectified: Grey, landmarks: FivePointLandmarks) -> float:
    """How much the eye regions changed after rectification (unitless).

    Each region of both frames is standardised (zero mean, unit spread: a print's
    brightness changing as it turns does not count), then the mean absolute
    difference is taken; the larger of the two eyes is returned.
    """
    changes = []
    for x, y, width, height in eye_boxes(landmarks):
        region = (slice(max(y, 0), y + height), slice(max(x, 0), x + width))
        a, b = first[region].astype(np.float64), rectified[region].astype(np.float64)
        if a.size < 16 or np.any(rectified[region] == 0):
            continue
        a = (a - a.mean()) / (a.std() + 4.0)
        b = (b - b.mean()) / (b.std() + 4.0)
        changes.append(float(np.mean(np.abs(a - b))))
    return max(changes, default=0.0)


def _own_mesh(frame: FaceFrame, mesh: FaceMeshModel) -> FaceMesh:
    """The FaceMesh of ``frame`` as it came (not rectified), found once per frame."""
    return kept(frame, "motion.mesh", lambda: mesh.mesh(frame.image, frame.box, frame.landmarks))


def face_changes(frames: Sequence[FaceFrame], mesh: FaceMeshModel) -> dict[str, float]:
    """The window's ``blink`` and ``speech`` measures from FaceMesh points (unitless).

    ``blink``: for each eye, (largest - smallest openness) over the largest; the smaller of
    the two eyes' values (a blink closes both). ``speech``: largest - smallest mouth
    openness. Frames where FaceMesh does not see a face are left out.

    Raises:
        ValueError: FaceMesh saw a face on fewer than two frames.
    """
    eyes, mouths = [], []
    for n, frame in enumerate(frames):
        # The window's first frame is not rectified: its mesh is the frame's own.
        found = (
            _own_mesh(frame, mesh) if n == 0 else mesh.mesh(frame.image, frame.box, frame.landmarks)
        )
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
    start = _start_points(frames[0], settings.max_points)
    if len(start) < settings.min_points:
        return _failed(f"only {len(start)} trackable points in the face", settings)
    paths = track(greys, start, settings.max_fb_error_px * width / 100.0)
    if len(paths[0]) < settings.min_points:
        return _failed(f"only {len(paths[0])} points tracked through the window", settings)
    region = Region.inner(box, greys[0].shape)
    parallaxes, eyes, motion = [], [], 0.0
    rectified = [frames[0]]
    for frame, grey, points in zip(frames[1:], greys[1:], paths[1:], strict=True):
        to_later = homography(paths[0], points, width)
        back = rectify(grey, to_later)
        parallaxes.append(parallax(greys[0], back, region, width))
        eyes.append(eye_change(greys[0], back, frames[0].landmarks))
        shift = np.median(np.linalg.norm((points - paths[0]).reshape(-1, 2), axis=1))
        motion = max(motion, float(shift) / width)
        if mesh is not None:
            image = np.asarray(rectify(frame.image, to_later), dtype=np.uint8)
            rectified.append(FaceFrame(image, frames[0].box, frames[0].landmarks))
    # One bad frame (a tracking slip) must not make a plane look alive: parallax is the
    # median over the window's later half (depth shows more as a head turns on), eye
    # change the second largest (a blink spans several frames).
    best_parallax = float(np.median(parallaxes[len(parallaxes) // 2 :]))
    best_eye = float(np.sort(eyes)[-2]) if len(eyes) > 1 else 0.0
    measures = {"parallax": best_parallax, "eye_change": best_eye}
    if mesh is not None:
        measures.update(face_changes(rectified, mesh))
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
