"""5-point landmarks and dlib's aligned 150x150 face chips.

The chip geometry is dlib's own (``get_face_chip`` with 25% padding): the descriptor
network was trained on exactly such chips, so any other alignment costs accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.vision.images import RgbImage
from facegate.vision.models import ModelName, import_dlib, model_path

CHIP_SIZE_PX = 150
"""Side of an aligned face chip in pixels, as the descriptor network expects."""

CHIP_PADDING = 0.25
"""dlib's chip padding: the share of the face's width added around it."""


class FaceAligner:
    """Finds 5-point landmarks in a face box and cuts the aligned chip."""

    def __init__(self) -> None:
        self._dlib = import_dlib()
        self._predictor = self._dlib.shape_predictor(str(model_path(ModelName.LANDMARKS_5)))

    def landmarks(self, image: RgbImage, boxes: Sequence[Box]) -> list[Any]:
        """Dlib ``full_object_detection`` shapes for each box (in the same order)."""
        return [self._predictor(image, self._rectangle(box)) for box in boxes]

    def chips(self, image: RgbImage, shapes: Sequence[Any]) -> list[RgbImage]:
        """Aligned ``(150, 150, 3)`` uint8 chips, one per shape."""
        if not shapes:
            return []
        detections = self._dlib.full_object_detections()
        detections.extend(shapes)
        chips = self._dlib.get_face_chips(image, detections, CHIP_SIZE_PX, CHIP_PADDING)
        return [np.ascontiguousarray(chip, dtype=np.uint8) for chip in chips]

    def _rectangle(self, box: Box) -> Any:
        return self._dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)


def to_landmarks(shape: Any) -> FivePointLandmarks:
    """Convert a dlib 5-point shape to :class:`FivePointLandmarks` (pixels)."""
    parts = shape.parts()
    if len(parts) != 5:
        raise ValueError(f"expected 5 landmarks, got {len(parts)}")
    points = tuple((float(p.x), float(p.y)) for p in parts)
    return FivePointLandmarks(points=(points[0], points[1], points[2], points[3], points[4]))
