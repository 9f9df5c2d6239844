"""The near-infrared (NIR) second-sensor cue: a face must be where the colour face is.

A phone or tablet screen emits no near-infrared light: under the NIR camera's own
illuminator a replayed face is a dark, flat rectangle, and a print's inks reflect NIR
unlike skin. This cue checks the minimum a live face must show, and fails closed on
everything else:

- no NIR frame paired with the newest colour frame: not live;
- a NIR frame further in time from its colour frame than ``max_skew_s`` (stale): not live;
- no face found on the NIR frame, or none whose box overlaps the colour face's box by
  at least ``min_iou`` (intersection over union): not live.

Its score is that overlap (0-1). It is built and tested on synthetic frames only: how
well it stops screens and prints depends on the camera and its illuminator and has to be
measured on real NIR captures before any figure is claimed (docs/gate.md, "Liveness").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box
from facegate.domain.liveness import CueResult, FaceFrame, SensorFrame

NIR_CUE: Final = "nir"
"""The cue's name in verdicts."""

NirDetector = Callable[[npt.NDArray[np.uint8]], list[Box]]
"""Finds face boxes on an ``(h, w, 3)`` uint8 image (the NIR grey in three channels)."""


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0-1)."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(width, 0) * max(height, 0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


class NirCue:
    """A :class:`facegate.ports.SensorCue` on paired NIR frames (fail closed).

    Args:
        detect: the face detector run on the NIR frame.
        max_skew_s: the largest time between the NIR frame and its colour frame
            (seconds, default 0.04: one frame at 25 frames/s).
        min_iou: the least overlap of the NIR face with the colour face (default 0.4).
    """

    def __init__(self, detect: NirDetector, max_skew_s: float = 0.04, min_iou: float = 0.4):
        self._detect = detect
        self.max_skew_s = max_skew_s
        self.min_iou = min_iou

    @property
    def name(self) -> str:
        """``"nir"``."""
        return NIR_CUE

    @property
    def kind(self) -> str:
        """Reads :class:`SensorFrame`s of kind ``"nir"``."""
        return "nir"

    def _refuse(self, why: str, details: dict[str, float] | None = None) -> CueResult:
        return CueResult(NIR_CUE, 0.0, self.min_iou, details or {}, why)

    def measure(self, frames: Sequence[FaceFrame], sensor: Sequence[SensorFrame]) -> CueResult:
        """The overlap of the NIR face with the newest colour frame's face."""
        if not frames:
            return self._refuse("no colour frame")
        mine = [f for f in sensor if f.kind == self.kind]
        if not mine:
            return self._refuse("no NIR frame paired with the colour frame")
        nir = min(mine, key=lambda f: abs(f.skew_s))
        if not abs(nir.skew_s) <= self.max_skew_s:
            return self._refuse(
                f"stale NIR frame: {nir.skew_s * 1000:.0f} ms from its colour frame",
                {"skew_s": nir.skew_s},
            )
        colour = frames[-1]
        if nir.pixels.shape != colour.image.shape[:2]:
            return self._refuse(
                f"NIR frame {nir.pixels.shape} is not on the colour grid {colour.image.shape[:2]}"
            )
        grey = np.clip(np.rint(nir.pixels), 0, 255).astype(np.uint8)
        boxes = self._detect(np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2)))
        best = max((box_iou(box, colour.box) for box in boxes), default=0.0)
        details = {"iou": best, "nir_faces": float(len(boxes)), "skew_s": nir.skew_s}
        if best < self.min_iou:
            return self._refuse("no NIR face at the colour face's place", details)
        return CueResult(NIR_CUE, best, self.min_iou, details)
