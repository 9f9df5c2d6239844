"""Texture and image-quality features of a face crop for the passive liveness cue.

A printed or displayed face is a re-captured image: its micro-texture (paper grain,
print dots, screen pixels, moire), its colour gamut and its sharpness differ from a live
face's. Following Määttä et al. 2011 (multi-scale LBP, about 98% on NUAA) and
Boulkenafet et al. 2015 (LBP on colour channels), the crop is described by:

- ``lbp_grey``: uniform LBP(8,1) on a 3x3 grid plus global LBP(8,2) and LBP(16,2) of
  the 64x64 grey crop (833 values, Määttä's descriptor);
- ``lbp_colour``: global LBP(8,1) of each YCrCb and HSV channel (6 x 59 values);
- ``quality``: high-frequency energy shares of the spectrum, Laplacian sharpness and
  the share of specular (near-white) pixels (5 values);
- ``scene``: the face's sharpness, contrast, saturation and high-frequency energy at a
  fixed scale, and the same measures *relative to the whole frame* at that scale (12
  values, :func:`scene_features`). A photo held up to the camera is a re-captured, flatter
  and blurrier picture than the room around it; a change of camera, light or session
  shifts face and room alike, and the difference cancels it. On NUAA's training split,
  trained on one recording session and tested on the other (held-out people), ``scene``
  keeps an ACER of 4.0 % where the LBP groups fall to 31-44 %
  (``bench/liveness_cv.py --cross-session``); on sessions outside that split (NUAA's test
  split) a model trained on the whole split scored ACER 47 % (chance, issue 13): the
  training split's sessions do not predict a new one.

Bump :data:`FEATURE_VERSION` whenever the vector changes: a model records the version
it was trained on and refuses features of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box
from facegate.vision.images import RgbImage
from facegate.vision.liveness.lbp import (
    grid_histograms,
    label_histogram,
    uniform_label_count,
    uniform_lbp,
)

FEATURE_VERSION: Final = "lbp-colour-quality-scene/2"
"""Identity of the feature vector; stored in every model manifest."""

CROP_SIDE_PX: Final = 64
"""Side of the normalised face crop the features are computed on, in pixels."""

CROP_MARGIN: Final = 0.15
"""Share of the face box's width/height added on every side before cropping."""

FeatureGroup = Literal["lbp_grey", "lbp_colour", "quality", "scene"]
FEATURE_GROUPS: Final[tuple[FeatureGroup, ...]] = ("lbp_grey", "lbp_colour", "quality", "scene")

SCENE_FACE_PX: Final = 128
"""Side the face box is scaled to for :func:`scene_features` (the frame follows), pixels."""

SCENE_FRAME_MAX_PX: Final = 1024
"""Longest side of the scaled frame in :func:`scene_features` (bounds the cost), pixels."""

SCENE_SIZE: Final = 12
"""Length of :func:`scene_features`."""

Vector = npt.NDArray[np.float64]


def face_crop(image: RgbImage, box: Box, margin: float = CROP_MARGIN) -> RgbImage:
    """The face box widened by ``margin``, clipped to the image, resized to 64x64 RGB.

    Raises:
        ValueError: the box does not overlap the image.
    """
    height, width = image.shape[:2]
    pad_x, pad_y = margin * box.width, margin * box.height
    left, top = max(int(box.left - pad_x), 0), max(int(box.top - pad_y), 0)
    right, bottom = min(int(box.right + pad_x), width), min(int(box.bottom + pad_y), height)
    if right - left < 8 or bottom - top < 8:
        raise ValueError(f"face box {box.as_list()} lies outside the {width}x{height} image")
    region = np.ascontiguousarray(image[top:bottom, left:right])
    resized = cv2.resize(region, (CROP_SIDE_PX, CROP_SIDE_PX), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def lbp_grey_features(grey: npt.NDArray[np.uint8]) -> Vector:
    """Määttä's multi-scale LBP descriptor of a grey crop (833 values for 64x64)."""
    bins8, bins16 = uniform_label_count(8), uniform_label_count(16)
    return np.concatenate(
        [
            grid_histograms(uniform_lbp(grey, 8, 1), bins8, grid=3),
            label_histogram(uniform_lbp(grey, 8, 2), bins8),
            label_histogram(uniform_lbp(grey, 16, 2), bins16),
        ]
    )


def lbp_colour_features(crop: RgbImage) -> Vector:
    """Global LBP(8,1) histograms of the Y, Cr, Cb, H, S and V channels (354 values)."""
    bins = uniform_label_count(8)
    ycrcb = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb)
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    channels = [ycrcb[:, :, i] for i in range(3)] + [hsv[:, :, i] for i in range(3)]
    return np.concatenate([label_histogram(uniform_lbp(c, 8, 1), bins) for c in channels])


def high_frequency_shares(grey: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Shares of spectral energy (DC excluded) beyond 1/4 and 1/2 of the Nyquist radius."""
    spectrum = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    rows, cols = grey.shape
    radius = np.hypot(np.fft.fftfreq(rows)[:, None], np.fft.fftfreq(cols)[None, :]) / 0.5
    total = float(spectrum.sum()) or 1.0
    return float(spectrum[radius > 0.25].sum() / total), float(spectrum[radius > 0.5].sum() / total)


def quality_features(grey: npt.NDArray[np.uint8]) -> Vector:
    """Frequency, sharpness and specular measures of a grey crop (5 values).

    Returns:
        Shares of spectral energy (DC excluded) beyond 1/4 and 1/2 of the Nyquist
        radius, log10 of the Laplacian variance, the share of pixels at 240 and above,
        and the crop's contrast (standard deviation / 255).
    """
    values = grey.astype(np.float64)
    laplacian = cv2.Laplacian(values, cv2.CV_64F)
    return np.array(
        [
            *high_frequency_shares(values),
            np.log10(laplacian.var() + 1.0),
            float(np.mean(grey >= 240)),
            values.std() / 255.0,
        ]
    )


def picture_measures(rgb: RgbImage) -> Vector:
    """Six measures of a picture, unitless.

    Log Laplacian variance, log grey contrast, log mean saturation, spectral energy shares
    beyond 1/4 and 1/2 of Nyquist, log mean absolute horizontal gradient.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
    saturation = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 1].astype(np.float64)
    return np.array(
        [
            np.log(cv2.Laplacian(grey, cv2.CV_64F).var() + 1.0),
            np.log(grey.std() + 1.0),
            np.log(saturation.mean() + 1.0),
            *high_frequency_shares(grey),
            np.log(np.abs(np.diff(grey, axis=1)).mean() + 1.0),
        ]
    )


def scene_features(image: RgbImage, box: Box) -> Vector:
    """The ``scene`` group: the face's measures, then the face's minus the frame's (12).

    :func:`picture_measures` of the face at a fixed scale, then the face's minus the whole
    frame's at the same scale. The face box (clipped to the image) is resized to
    ``SCENE_FACE_PX`` square; the frame is resized by the same factors (its longest side
    at most ``SCENE_FRAME_MAX_PX``).

    Raises:
        ValueError: the box does not overlap the image.
    """
    height, width = image.shape[:2]
    left, top = max(box.left, 0), max(box.top, 0)
    right, bottom = min(box.right, width), min(box.bottom, height)
    if right - left < 8 or bottom - top < 8:
        raise ValueError(f"face box {box.as_list()} lies outside the {width}x{height} image")
    region = np.ascontiguousarray(image[top:bottom, left:right])
    face = cv2.resize(region, (SCENE_FACE_PX, SCENE_FACE_PX), interpolation=cv2.INTER_AREA)
    scale_x, scale_y = SCENE_FACE_PX / (right - left), SCENE_FACE_PX / (bottom - top)
    shrink = min(1.0, SCENE_FRAME_MAX_PX / max(width * scale_x, height * scale_y))
    size = (max(round(width * scale_x * shrink), 8), max(round(height * scale_y * shrink), 8))
    frame = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    of_face = picture_measures(np.asarray(face, dtype=np.uint8))
    return np.concatenate([of_face, of_face - picture_measures(np.asarray(frame, np.uint8))])


def texture_features(
    crop: RgbImage,
    groups: Sequence[FeatureGroup] = FEATURE_GROUPS,
    scene: Vector | None = None,
) -> Vector:
    """The feature vector of a 64x64 RGB face crop: ``groups`` concatenated in order.

    Args:
        crop: the :func:`face_crop`.
        groups: the groups to compute.
        scene: the :func:`scene_features` of the crop's frame, needed for ``scene``.

    Raises:
        ValueError: a crop of another size, or ``scene`` asked for but not given.
    """
    if crop.shape != (CROP_SIDE_PX, CROP_SIDE_PX, 3):
        raise ValueError(f"expected a {CROP_SIDE_PX}x{CROP_SIDE_PX} RGB crop, got {crop.shape}")
    if "scene" in groups and (scene is None or scene.shape != (SCENE_SIZE,)):
        raise ValueError("the scene group needs the frame's scene_features")
    grey = np.asarray(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    parts = {
        "lbp_grey": lambda: lbp_grey_features(grey),
        "lbp_colour": lambda: lbp_colour_features(crop),
        "quality": lambda: quality_features(grey),
        "scene": lambda: np.asarray(scene, dtype=np.float64),
    }
    return np.concatenate([parts[group]() for group in groups])


def group_slices(groups: Sequence[FeatureGroup] = FEATURE_GROUPS) -> dict[FeatureGroup, slice]:
    """Where each group lies in a vector of all ``groups`` (for ablations)."""
    sizes: dict[FeatureGroup, int] = {
        "lbp_grey": 833,
        "lbp_colour": 354,
        "quality": 5,
        "scene": SCENE_SIZE,
    }
    slices, start = {}, 0
    for group in groups:
        slices[group] = slice(start, start + sizes[group])
        start += sizes[group]
    return slices
