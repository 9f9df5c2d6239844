"""Synthetic lane streams made from the shared live videos: moving people, not stills.

Each walker of a :class:`~facegate.lanebench.labels.SyntheticScript` is a live video of a
real person (their head turns, they blink and speak), cut out around the face in every
source frame with a soft elliptical edge and placed in the lane picture on a walking
path: they appear far away (a small face near the top), come closer (the face grows and
moves down and outwards) and reach the gate line at their labelled second, when their
face is ``line_fraction`` of the picture's height; a moment later they have passed under
the camera. Nearer walkers hide farther ones. So the liveness check sees a moving, live
face, and several people are in view at once when arrivals are close together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from facegate.domain.faces import Box
from facegate.lanebench.labels import SyntheticScript, Walker
from facegate.ports import Frame

FAR_FRACTION = 0.09
"""Face height when a walker appears, over the picture's height (too small to decide)."""
PAST_S = 0.3
"""Seconds a walker stays in view after the line (then they are under the camera)."""
TAIL_S = 1.0
"""Seconds of empty corridor after the last walker left the view: a camera goes on
streaming, and a lane learns that a face left the view only when its track ends (10
frames later, :class:`~facegate.gate.tracker.IouTracker`), which may be its crossing
(:data:`facegate.gate.lane.LINE_REACH`)."""
Image = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SourceClip:
    """A live video's frames and its face box in each (smoothed), for cutting out."""

    frames: list[Image]
    boxes: list[Box | None]
    fps: float
    start_s: float = 0.0

    def at(self, time_s: float) -> tuple[Image, Box] | None:
        """The frame at ``time_s`` of the video (back and forth past the end), its face box."""
        count = len(self.frames)
        index = round((time_s - self.start_s) * self.fps) % max(2 * count - 2, 1)
        index = index if index < count else 2 * count - 2 - index
        box = self.boxes[index]
        return None if box is None else (self.frames[index], box)


def smooth_boxes(boxes: list[Box | None], radius: int = 3) -> list[Box | None]:
    """Each box replaced by the mean of the found boxes within ``radius`` frames."""
    smoothed: list[Box | None] = []
    for index in range(len(boxes)):
        near = [b for b in boxes[max(0, index - radius) : index + radius + 1] if b is not None]
        if not near:
            smoothed.append(None)
            continue
        mean = np.mean([[b.left, b.top, b.right, b.bottom] for b in near], axis=0)
        smoothed.append(Box(*(round(float(v)) for v in mean)))
    return smoothed


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a walker's face is in one stream frame (pixels)."""

    walker: Walker
    center: tuple[float, float]
    height: float
    source_time_s: float

    @property
    def box(self) -> Box:
        """The face's box (square, ``height`` on a side)."""
        x, y, half = self.center[0], self.center[1], self.height / 2.0
        return Box(int(x - half), int(y - half), int(x + half), int(y + half))


def placement(script: SyntheticScript, walker: Walker, time_s: float) -> Placement | None:
    """Where ``walker`` is at ``time_s`` of the stream, ``None`` when out of view."""
    width, height = script.size
    since = time_s - (walker.line_s - script.approach_s)
    if since < 0.0 or since > script.approach_s + PAST_S:
        return None
    progress = since / script.approach_s  # 0 appearing, 1 at the line
    face = height * (FAR_FRACTION + (script.line_fraction - FAR_FRACTION) * progress)
    x = width / 2.0 + walker.lateral * width * (0.06 + 0.16 * progress)
    y = height * (0.22 + 0.26 * progress)
    return Placement(walker, (x, y), face, walker.source_start_s + since)


def background(size: tuple[int, int], seed: int = 7) -> Image:
    """A still corridor: a vertical grey gradient with fixed texture and a floor."""
    width, height = size
    rng = np.random.default_rng(seed)
    ramp = np.linspace(150, 90, height, dtype=np.float32)[:, None, None]
    picture = np.broadcast_to(ramp, (height, width, 3)).copy()
    picture += rng.normal(0.0, 6.0, (height, width, 1)).astype(np.float32)
    picture[int(height * 0.75) :, :, :] *= np.array([0.8, 0.75, 0.7], dtype=np.float32)
    for x in range(0, width, max(width // 8, 1)):
        picture[:, x : x + 3, :] *= 0.85
    return np.clip(picture, 0, 255).astype(np.uint8)


def paste(canvas: Image, clip: SourceClip, where: Placement) -> None:
    """Cut the walker's head out of its source frame and blend it in at ``where``."""
    found = clip.at(where.source_time_s)
    if found is None:
        return
    source, box = found
    scale = where.height / max(box.height, 1)
    cx, cy = (box.left + box.right) / 2.0, (box.top + box.bottom) / 2.0 + 0.15 * box.height
    half = 1.25 * box.height
    left, top = int(cx - half), int(cy - half)
    crop = _crop(source, left, top, int(2 * half))
    side = max(round(crop.shape[0] * scale), 2)
    head = np.asarray(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA), np.uint8)
    mask = _ellipse_mask(side)
    # The source face centre lands on the placement's centre.
    x0 = round(where.center[0] - (cx - left) * scale)
    y0 = round(where.center[1] - (cy - 0.15 * box.height - top) * scale)
    _blend(canvas, head, mask, x0, y0)


def _crop(image: Image, left: int, top: int, side: int) -> Image:
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REPLICATE)
    return np.asarray(padded[top + side : top + 2 * side, left + side : left + 2 * side], np.uint8)


def _ellipse_mask(side: int) -> NDArray[np.float32]:
    mask = np.zeros((side, side), dtype=np.float32)
    center = (side // 2, side // 2)
    cv2.ellipse(mask, center, (int(side * 0.36), int(side * 0.47)), 0, 0, 360, 1.0, -1)
    blur = max(int(side * 0.08) | 1, 3)
    return np.asarray(cv2.GaussianBlur(mask, (blur, blur), 0), np.float32)[:, :, None]


def _blend(canvas: Image, head: Image, mask: NDArray[np.float32], x0: int, y0: int) -> None:
    height, width = canvas.shape[:2]
    side = head.shape[0]
    left, top = max(x0, 0), max(y0, 0)
    right, bottom = min(x0 + side, width), min(y0 + side, height)
    if right <= left or bottom <= top:
        return
    part = (slice(top - y0, bottom - y0), slice(left - x0, right - x0))
    alpha = mask[part]
    region = canvas[top:bottom, left:right].astype(np.float32)
    blended = region * (1.0 - alpha) + head[part].astype(np.float32) * alpha
    canvas[top:bottom, left:right] = blended.astype(np.uint8)


def render(
    script: SyntheticScript, walkers: tuple[Walker, ...], clips: dict[str, SourceClip]
) -> Iterator[tuple[Frame, list[Placement]]]:
    """Every frame of the stream with where each walker's face is in it.

    Ends ``PAST_S + TAIL_S`` after the last walker reached the line.
    """
    still = background(script.size)
    end_s = max(w.line_s for w in walkers) + PAST_S + TAIL_S
    for index in range(int(end_s * script.fps) + 1):
        time_s = index / script.fps
        canvas = still.copy()
        placed = [p for w in walkers if (p := placement(script, w, time_s)) is not None]
        for where in sorted(placed, key=lambda p: p.height):  # the nearest is drawn last
            paste(canvas, clips[where.walker.identity], where)
        yield Frame(canvas, index, time_s), placed
