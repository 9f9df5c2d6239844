"""The multi-frame cue's per-frame work: each frame measured once, against the one before.

A presentation is a chain of :class:`Step` s, one per frame, each kept with its frame
(:attr:`FaceFrame.work`) and linked to the step of the frame before it. The chain's first
frame is the *reference*: every later frame is brought back into its geometry by the
homography chained from frame to frame (Lucas-Kanade on the previous frame's corners,
one RANSAC fit per pair), so a plane moved in any way, however far over seconds, stays
planar pair by pair. What a step keeps:

- the *parallax*: dense optical flow (DIS) from the reference's inner face region to
  this frame's, rectified into it, less the flow's own best homography (what the points
  missed), smoothed over 4 % of the face's width, its 90th-percentile length over the
  region's middle 60 % (eyes, nose, mouth; not the region's textureless corners, where
  flow is noise), over the face's width (unitless). Against the chain's first frame, not
  the previous one: pair by pair the residuals are noise that adds up over seconds, while
  a head's depth shows against where it started;
- the rectified eye regions, each standardised (zero mean, unit spread);
- the eyes' and the mouth's openness from FaceMesh on the frame itself (ratios within the
  face, which a homography keeps up to its projective part).

A pair that cannot be followed (too few corners or tracked points, no homography, the
face region left the frame) starts a new chain at the later frame: a check then sees
only the frames after it (and fails closed when they are too few). Memory is bounded:
a chain is cut :attr:`MotionSettings.max_steps` steps back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.liveness.face_mesh import (
    PRESENCE_LOGIT_MIN,
    FaceMeshModel,
    eye_openness,
    mouth_openness,
)

if TYPE_CHECKING:
    from facegate.vision.liveness.motion import MotionSettings

Grey = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float64]
Floats = npt.NDArray[np.float32]
_T = TypeVar("_T")

STEP_KEY = "motion.step"
_LK_WINDOW_PX = (15, 15)
_LK_LEVELS = 3
_FLOW_FIT_ITERATIONS = 200
"""Most RANSAC iterations for the residual flow's homography (its tail was the cost)."""
CENTRE_MARGIN = 0.2
"""Share of the flow region's width and height left out on each side: the residual flow
of the middle 60 % is the parallax (the region is the face box's inner 70 %, so this is
the box's inner 42 %: eyes, nose and mouth). Outside it lie the region's corners (hair,
cheeks' edges, a collar, a shadowed side): little texture, where the flow is noise; the
largest residual of suite v3's planar calibration prints was there
(``bench/liveness_motion.py``)."""


def kept(frame: FaceFrame, key: str, make: Callable[[], _T]) -> _T:
    """``make()``'s result for ``frame``, computed once and kept in :attr:`FaceFrame.work`."""
    found = frame.work.get(key)
    if found is None:
        found = make()
        frame.work[key] = found
    return cast(_T, found)


def grey(frame: FaceFrame) -> Grey:
    """The frame in grey levels (once per frame)."""
    return kept(
        frame,
        "motion.grey",
        lambda: np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), dtype=np.uint8),
    )


def corners(frame: FaceFrame, max_points: int) -> Points:
    """Corners inside the inner 80 % of the frame's face box (once per frame)."""
    return kept(frame, "motion.corners", lambda: _corners(grey(frame), frame.box, max_points))


def _corners(image: Grey, box: Box, max_points: int) -> Points:
    mask = np.zeros_like(image)
    pad_x, pad_y = box.width // 10, box.height // 10
    mask[
        max(box.top + pad_y, 0) : max(box.bottom - pad_y, 0),
        max(box.left + pad_x, 0) : max(box.right - pad_x, 0),
    ] = 255
    spacing = max(box.width / 40.0, 2.0)
    found = cv2.goodFeaturesToTrack(image, max_points, 0.005, spacing, mask=mask)
    if found is None:
        return np.zeros((0, 1, 2), dtype=np.float32)
    return np.asarray(found, dtype=np.float32)


def dense_flow() -> cv2.DISOpticalFlow:
    """A new DIS optical flow object, for one call (creating one costs about 0.01 ms).

    Never kept between calls: an object kept per thread took its pyramid's depth from a
    small region it measured once (a face near the frame's edge) and kept it, so every
    later parallax of that thread depended on what it had measured before (a live webcam
    face's first check 0.0015 -> 0.0035 after 25 print clips, in the bench's process and
    in a gate's worker alike); one object shared by threads corrupted the heap.
    """
    return cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


@dataclass(frozen=True, slots=True)
class Region:
    """A rectangle in pixels: ``left, top`` included, ``right, bottom`` excluded."""

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

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.right - self.left, self.bottom - self.top

    def crop(self, image: Grey) -> Grey:
        """The region's pixels of ``image``."""
        return image[self.top : self.bottom, self.left : self.right]


@dataclass(frozen=True, slots=True)
class Reference:
    """A chain's first frame: the geometry its later frames are brought back into.

    Attributes:
        region: the inner 70 % of its face box (the parallax flow's pixels).
        eyes: the eye regions (from the 5 landmarks), in the frame's pixels.
        width: its face box's width (pixels): the unit of every length.
        centre: the region's centre, ``(x, y)`` pixels.
        pixels: its grey pixels over ``region``.
    """

    region: Region
    eyes: tuple[Region, ...]
    width: float
    centre: tuple[float, float]
    pixels: Grey

    @classmethod
    def of(cls, frame: FaceFrame) -> Reference:
        """The reference a chain starting at ``frame`` has."""
        region = Region.inner(frame.box, frame.image.shape)
        if min(region.size) < 16:
            raise ValueError("the face region is too small to measure")
        eyes = tuple(_clip(e, frame.image.shape) for e in eye_boxes(frame.landmarks))
        centre = ((region.left + region.right) / 2.0, (region.top + region.bottom) / 2.0)
        pixels = np.ascontiguousarray(region.crop(grey(frame)))
        return cls(region, eyes, float(frame.box.width), centre, pixels)


def _clip(region: Region, shape: tuple[int, ...]) -> Region:
    return Region(
        max(region.left, 0),
        max(region.top, 0),
        min(region.right, shape[1]),
        min(region.bottom, shape[0]),
    )


def eye_boxes(landmarks: FivePointLandmarks) -> list[Region]:
    """A region around each eye, from its two corners (1.6 x 1.0 times their distance)."""
    boxes = []
    for outer, inner in ((0, 1), (2, 3)):
        (x0, y0), (x1, y1) = landmarks.points[outer], landmarks.points[inner]
        span = max(math.hypot(x1 - x0, y1 - y0), 4.0)
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        left, top = int(cx - 0.8 * span), int(cy - 0.5 * span)
        boxes.append(Region(left, top, left + int(1.6 * span), top + int(span)))
    return boxes


@dataclass(slots=True)
class Step:
    """What the cue keeps of one frame (see the module's docstring).

    Attributes:
        order: frames since the chain's first (0 for it).
        previous: the step of the frame before it in the chain (``None`` at its start or
            where the chain was cut).
        reference: the chain's first frame's geometry.
        to_frame: the homography from the reference's pixels to this frame's.
        parallax: the residual flow from the reference to this frame (see the module's
            docstring; ``None`` at a chain's start or where too little of the face
            region was in the frame).
        eyes: each eye region rectified and standardised (``None`` where it left the
            frame).
        openness: (left eye, right eye, mouth) openness from FaceMesh on the frame
            itself, ``None`` without FaceMesh or where it saw no face.
        points: corners followed from the previous frame (0 at a chain's start).
        restart: why a chain starts here (``None`` where it continues, or at the first
            frame of a presentation).
    """

    order: int
    previous: Step | None
    reference: Reference
    to_frame: Matrix
    parallax: float | None
    eyes: tuple[Floats | None, ...]
    openness: tuple[float, float, float] | None
    points: int = 0
    restart: str | None = None

    def span(self, start: Step | None, most: int) -> list[Step]:
        """The chain's steps from ``start`` (or the chain's start) to this one, oldest first."""
        found: list[Step] = []
        step: Step | None = self
        while step is not None and len(found) < most:
            found.append(step)
            if step is start:
                break
            step = step.previous
        return found[::-1]


def steps(
    frames: Sequence[FaceFrame], settings: MotionSettings, mesh: FaceMeshModel | None
) -> list[Step]:
    """The step of each of ``frames`` (oldest first), made for those that have none yet.

    A frame without a step is measured against the frame before it in ``frames`` (the
    first one without a step starts a chain).
    """
    made: list[Step] = []
    for n, frame in enumerate(frames):
        found = frame.work.get(STEP_KEY)
        if not isinstance(found, Step):
            before = (frames[n - 1], made[-1]) if n else None
            found = _step(before, frame, settings, mesh)
            frame.work[STEP_KEY] = found
            _cut(found, settings.max_steps)
        made.append(found)
    return made


def _cut(step: Step, most: int) -> None:
    """Forget the chain more than ``most`` steps back (bounded memory)."""
    node: Step | None = step
    for _ in range(most - 1):
        if node is None:
            return
        node = node.previous
    if node is not None:
        node.previous = None


def _step(
    before: tuple[FaceFrame, Step] | None,
    frame: FaceFrame,
    settings: MotionSettings,
    mesh: FaceMeshModel | None,
) -> Step:
    openness = openness_of(frame, mesh)
    if before is None:
        return _start(frame, openness, None)
    try:
        return _follow(before, frame, settings, openness)
    except (ValueError, cv2.error) as err:
        return _start(frame, openness, str(err))


def _start(
    frame: FaceFrame, openness: tuple[float, float, float] | None, restart: str | None
) -> Step:
    reference = Reference.of(frame)
    identity = np.eye(3, dtype=np.float64)
    return Step(
        0,
        None,
        reference,
        identity,
        None,
        _eyes(grey(frame), identity, reference),
        openness,
        restart=restart,
    )


def _follow(
    before: tuple[FaceFrame, Step],
    frame: FaceFrame,
    settings: MotionSettings,
    openness: tuple[float, float, float] | None,
) -> Step:
    previous_frame, previous = before
    reference = previous.reference
    start = corners(previous_frame, settings.max_points)
    if len(start) < settings.min_points:
        raise ValueError(f"only {len(start)} trackable points in the face")
    width = float(previous_frame.box.width)
    moved, alive = follow(
        grey(previous_frame), grey(frame), start, settings.max_fb_error_px * width / 100.0
    )
    if int(alive.sum()) < settings.min_points:
        raise ValueError(f"only {int(alive.sum())} points followed to the next frame")
    pair = homography(start[alive], moved[alive], width)
    to_frame = pair @ previous.to_frame
    image = grey(frame)
    rectified = rectify(image, to_frame, reference.region)
    return Step(
        previous.order + 1,
        previous,
        reference,
        to_frame,
        parallax(reference.pixels, rectified, reference.width),
        _eyes(image, to_frame, reference),
        openness,
        int(alive.sum()),
    )


def openness_of(frame: FaceFrame, mesh: FaceMeshModel | None) -> tuple[float, float, float] | None:
    """Eye and mouth openness from FaceMesh on the frame itself (once per frame)."""
    if mesh is None:
        return None
    found = kept(frame, "motion.mesh", lambda: mesh.mesh(frame.image, frame.box, frame.landmarks))
    if found.presence_logit < PRESENCE_LOGIT_MIN:
        return None
    left, right = eye_openness(found)
    return float(left), float(right), float(mouth_openness(found))


def follow(
    previous: Grey, current: Grey, points: Points, max_error_px: float
) -> tuple[Points, npt.NDArray[np.bool_]]:
    """``points`` of ``previous`` found in ``current`` (pyramidal Lucas-Kanade).

    Returns:
        The points' places in ``current`` and which of them are kept: found forward and
        backward, back within ``max_error_px`` pixels of where they started.
    """
    found, ok_f, _ = cv2.calcOpticalFlowPyrLK(
        previous, current, points, np.empty_like(points), winSize=_LK_WINDOW_PX, maxLevel=_LK_LEVELS
    )
    forward: Points = np.asarray(found, dtype=np.float32)
    backward, ok_b, _ = cv2.calcOpticalFlowPyrLK(
        current,
        previous,
        forward,
        np.empty_like(forward),
        winSize=_LK_WINDOW_PX,
        maxLevel=_LK_LEVELS,
    )
    error = np.linalg.norm((backward - points).reshape(-1, 2), axis=1)
    alive = (ok_f.ravel() == 1) & (ok_b.ravel() == 1) & (error <= max_error_px)
    return forward, alive


def homography(first: Points, later: Points, face_width_px: float) -> Matrix:
    """The homography taking ``first`` to ``later`` (RANSAC, 1 % of the face's width).

    Raises:
        ValueError: no homography fits (degenerate points).
    """
    threshold = max(0.01 * face_width_px, 0.5)
    found, _ = cv2.findHomography(first, later, cv2.RANSAC, threshold)
    if found is None:
        raise ValueError("no homography fits the tracked points")
    return np.asarray(found, dtype=np.float64)


def rectify(image: Grey, to_frame: Matrix, region: Region) -> Grey:
    """``region`` of the reference's pixels, taken from ``image`` through ``to_frame``.

    Zero where the pixels came from outside ``image`` (a plane seen in both lies on the
    same pixels: a moved photo is undone entirely).
    """
    shift = np.array([[1.0, 0.0, region.left], [0.0, 1.0, region.top], [0.0, 0.0, 1.0]])
    return np.asarray(
        cv2.warpPerspective(
            image,
            to_frame @ shift,
            region.size,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        ),
        dtype=np.uint8,
    )


def parallax(first: Grey, rectified: Grey, face_width_px: float) -> float | None:
    """Motion left after undoing the best homography, over the face's width (unitless).

    Dense optical flow (DIS) from ``first`` to ``rectified`` (a later frame's face region
    already brought back by the chained homography); the best homography of that flow
    (RANSAC, at most :data:`_FLOW_FIT_ITERATIONS` tries) is taken out too (what the points
    missed), the rest smoothed over 4 % of the face's width (tracking noise is not
    coherent, a nose in front of the cheeks is) and its 90th-percentile length over the
    region's middle (:data:`CENTRE_MARGIN`) returned. A plane leaves noise only; a head
    that turns leaves its depth.

    Returns:
        The parallax, or ``None`` when fewer than 64 pixels of the region's middle came
        from inside the frame.

    Raises:
        ValueError: no homography fits the flow.
    """
    flow = np.asarray(
        dense_flow().calc(first, rectified, None),  # type: ignore[call-overload]
        dtype=np.float32,
    )
    height, width = first.shape[:2]
    step = max(min(height, width) // 16, 1)
    ys, xs = np.mgrid[step // 2 : height : step, step // 2 : width : step]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    moved = grid + flow[ys.ravel(), xs.ravel()]
    threshold = max(0.01 * face_width_px, 0.5)
    fitted, _ = cv2.findHomography(
        grid, moved, cv2.RANSAC, threshold, maxIters=_FLOW_FIT_ITERATIONS
    )
    if fitted is None:
        raise ValueError("no homography fits the residual flow")
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([xx, yy], axis=-1)
    expected = cv2.perspectiveTransform(pixels.reshape(-1, 1, 2), fitted).reshape(height, width, 2)
    smooth = cv2.GaussianBlur(flow - (expected - pixels), (0, 0), max(0.04 * face_width_px, 1.0))
    length = np.linalg.norm(smooth, axis=2)[_centre(rectified > 0)]
    if length.size < 64:
        return None
    return float(np.percentile(length, 90)) / face_width_px


def _centre(inside: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``inside`` less :data:`CENTRE_MARGIN` of its rows and columns on every side."""
    height, width = inside.shape[:2]
    low, high = CENTRE_MARGIN, 1.0 - CENTRE_MARGIN
    kept_rows = slice(int(low * height), int(high * height))
    kept_columns = slice(int(low * width), int(high * width))
    centre = np.zeros_like(inside)
    centre[kept_rows, kept_columns] = inside[kept_rows, kept_columns]
    return centre


def _eyes(image: Grey, to_frame: Matrix, reference: Reference) -> tuple[Floats | None, ...]:
    """Each eye region of the reference, rectified from ``image`` and standardised."""
    found: list[Floats | None] = []
    for region in reference.eyes:
        width, height = region.size
        if width < 4 or height < 4:
            found.append(None)
            continue
        pixels = rectify(image, to_frame, region)
        if np.any(pixels == 0):
            found.append(None)
            continue
        values = pixels.astype(np.float32)
        found.append((values - values.mean()) / (values.std() + 4.0))
    return tuple(found)
