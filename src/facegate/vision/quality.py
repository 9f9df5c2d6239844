"""Measure a face's quality from its landmarks and aligned chip."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FaceQuality, FivePointLandmarks
from facegate.vision.images import RgbImage

_INNER = slice(25, 125)
"""The chip's inner 100x100 pixels: the face itself, without the 25% padding around it."""


def grey(chip: RgbImage) -> npt.NDArray[np.float64]:
    """ITU-R BT.601 luma of an RGB image, float64 in 0-255."""
    rgb = chip.astype(np.float64)
    luma: npt.NDArray[np.float64] = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return luma


def laplacian_variance(image: npt.NDArray[np.float64]) -> float:
    """Variance of the 4-neighbour Laplacian (grey levels squared); higher is sharper."""
    lap = (
        image[:-2, 1:-1]
        + image[2:, 1:-1]
        + image[1:-1, :-2]
        + image[1:-1, 2:]
        - 4.0 * image[1:-1, 1:-1]
    )
    return float(lap.var())


def measure_quality(box: Box, landmarks: FivePointLandmarks, chip: RgbImage) -> FaceQuality:
    """Quality measures of one face (see :class:`FaceQuality` for units).

    Sharpness, brightness and contrast are read on the inner 100x100 pixels of the
    aligned chip, so they compare across image sizes and ignore the background.
    """
    inner = grey(chip)[_INNER, _INNER]
    return FaceQuality(
        face_width_px=float(box.width),
        inter_eye_distance_px=landmarks.inter_eye_distance_px,
        sharpness=laplacian_variance(inner),
        brightness=float(inner.mean()),
        contrast=float(inner.std()),
        roll_deg=landmarks.roll_deg,
        yaw_ratio=landmarks.yaw_ratio,
    )
