"""What a phone, tablet or print gives away in one frame: explicit measurements, no training.

A face shown on a screen or a sheet of paper is a picture inside the camera's picture.
Each function here measures one way that shows, on the RGB frame and the face box, with
its unit. None of them decides alone; :mod:`facegate.vision.liveness.frame_cue` combines
them with a few fitted weights.

The frame is first scaled so that the face box is :data:`FACE_PX` pixels wide (the
frame's longest side at most :data:`FRAME_MAX_PX`), so every measure sees a face of one
size whatever the camera's resolution or distance. The frequency measure reads the face
at the camera's own pixels instead (scaling would blur away a screen's pixel grid).

- ``frame_sides`` (sides, 0-4): straight edges of a rectangle around the face (a phone's
  or tablet's bezel, a paper edge): on each side of the face, the longest straight edge
  roughly parallel to that side, beyond the face and within :data:`FRAME_REACH` face
  widths of it, spanning the face's centre line; each side counts its edge's length over
  :data:`SIDE_SPAN` face widths, capped at 1.
- ``hand_skin`` (share, 0-1): skin-coloured pixels beside the face (from 0.75 to 2 face
  widths left and right of its centre, from half a face above its top to its bottom):
  the fingers of a hand holding a phone or a print; a live face has background or hair
  there, its shoulders and hands lie lower.
- ``spectral_peak_db`` (decibels): the most prominent isolated peak of the face's
  high-frequency power spectrum over its local median (moire and screen-pixel grids
  make sharp peaks; skin and lens blur make a smooth spectrum).
- ``glare`` (share of the region, 0-1): pixels near the face that are almost white and
  unsaturated (specular reflection of a lamp on glass or glossy paper).
- ``skin_redness`` (CIELAB a*, CIE units): how red the face centre is. Blood under live
  skin makes it red (a* about 8-30 in the shared live videos; a blue or yellow cast of
  the white balance moves b*, not a*); a face re-shown by a screen's backlight or a
  print's inks is paler and greyer. It replaced the YCrCb ``Cr - Cb`` cast of version 2,
  which also fell with a blue cast (a live face in shaded daylight read as a screen).
  Capped at :data:`REDNESS_FULL`: only paleness counts, a redder face is not more live.
- ``sharpness_ratio`` (natural log): the face's Laplacian variance over that of the ring
  around it (a re-captured face is flatter than the room around the screen or paper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box
from facegate.vision.images import RgbImage

FACE_PX: Final = 80
"""Width the face box is scaled to before the geometric measures, pixels."""

FRAME_MAX_PX: Final = 1024
"""Longest side of the scaled frame (bounds the cost), pixels."""

FRAME_REACH: Final = 2.5
"""How far from the face box a bezel or paper edge is looked for, in face widths."""

SIDE_SPAN: Final = 1.5
"""Edge length that counts as one full side, in face widths."""

MAX_TILT_DEG: Final = 25.0
"""Largest angle between an edge and the face box's side it may stand for, degrees."""

REDNESS_FULL: Final = 8.0
"""CIELAB a* at and above which a face counts as fully red (``skin_redness``'s cap), CIE
units: the low end of live skin's a* in room light (skin colorimetry puts most faces at
a* 8-20). Set from that knowledge, not fitted: the fitting data's live faces are all
redder (``webcam_one_person.mp4`` a* >= 14, ``several_people_walking.mp4`` >= 11.7), so
a cap fitted on them would refuse any paler live face."""

SPECTRUM_PX: Final = 128
"""Side of the square face region whose spectrum is measured, camera pixels (or less)."""

MEASURES_VERSION: Final = "frame-measures/3"
"""Identity of :func:`measure_frame`'s output; bump it whenever a measure changes."""

MEASURES: Final = (
    "frame_sides",
    "hand_skin",
    "spectral_peak_db",
    "glare",
    "skin_redness",
    "sharpness_ratio",
)
"""The measures, in the order :func:`measure_frame` returns them."""

LIVE_DIRECTION: Final = (-1, -1, -1, -1, 1, 1)
"""For each of :data:`MEASURES`, the direction in which it points to a live face: -1 when
a larger value is more like an attack (edges, hands, peaks, glare), +1 when a larger
value is more like a live face (skin's redness, a face sharper than its ring)."""

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Scaled:
    grey: npt.NDArray[np.uint8]
    rgb: RgbImage
    box: tuple[float, float, float, float]  # left, top, right, bottom in scaled pixels
    face_px: float


def _scaled(image: RgbImage, box: Box) -> _Scaled:
    height, width = image.shape[:2]
    factor = FACE_PX / max(box.width, 1)
    factor = min(factor, FRAME_MAX_PX / max(width * factor, height * factor) * factor)
    size = (max(round(width * factor), 16), max(round(height * factor), 16))
    interpolation = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_LINEAR
    rgb = np.asarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)
    grey = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    scaled = (box.left * factor, box.top * factor, box.right * factor, box.bottom * factor)
    return _Scaled(grey, rgb, scaled, box.width * factor)


def _segments(grey: npt.NDArray[np.uint8], min_length_px: float) -> npt.NDArray[np.float64]:
    """Straight edge segments ``(n, 4)`` as ``x1, y1, x2, y2`` (probabilistic Hough)."""
    edges = cv2.Canny(cv2.GaussianBlur(grey, (3, 3), 0), 50, 150)
    found = cv2.HoughLinesP(
        edges,
        1,
        math.pi / 180,
        threshold=max(int(min_length_px / 2), 10),
        minLineLength=min_length_px,
        maxLineGap=max(min_length_px / 8, 2.0),
    )
    if found is None:
        return np.zeros((0, 4), dtype=np.float64)
    return np.asarray(found, dtype=np.float64).reshape(-1, 4)


def _side_lengths(scaled: _Scaled) -> list[float]:
    """For the top, bottom, left and right side: the longest qualifying edge, face widths."""
    left, top, right, bottom = scaled.box
    unit = scaled.face_px
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    best = [0.0, 0.0, 0.0, 0.0]
    for x1, y1, x2, y2 in _segments(scaled.grey, 0.5 * unit):
        length = math.hypot(x2 - x1, y2 - y1)
        angle = math.degrees(math.atan2(abs(y2 - y1), abs(x2 - x1)))
        mx, my = (x1 + x2) / 2.0, (y1 + y2) / 2.0
        if angle <= MAX_TILT_DEG and min(x1, x2) <= cx <= max(x1, x2):
            gap_top, gap_bottom = top - my, my - bottom
            for side, gap in ((0, gap_top), (1, gap_bottom)):
                if 0.1 * unit <= gap <= FRAME_REACH * unit:
                    best[side] = max(best[side], length / unit)
        elif angle >= 90.0 - MAX_TILT_DEG and min(y1, y2) <= cy <= max(y1, y2):
            gap_left, gap_right = left - mx, mx - right
            for side, gap in ((2, gap_left), (3, gap_right)):
                if 0.1 * unit <= gap <= FRAME_REACH * unit:
                    best[side] = max(best[side], length / unit)
    return best


def frame_sides(scaled: _Scaled) -> float:
    """Sides of a rectangle around the face shown by straight edges (0-4, see module)."""
    return float(sum(min(length / SIDE_SPAN, 1.0) for length in _side_lengths(scaled)))


def spectral_peak_db(image: RgbImage, box: Box) -> float:
    """Prominence of the face's sharpest high-frequency spectral peak, decibels.

    The central square of the face box (at most :data:`SPECTRUM_PX` camera pixels,
    Hann-windowed) is transformed; in the band from 1/4 to 1 of the Nyquist frequency the
    log power is compared with its 7x7 median, and the largest excess is returned.

    Raises:
        ValueError: the face box holds fewer than 32x32 pixels of the image.
    """
    height, width = image.shape[:2]
    side = min(box.width, box.height, SPECTRUM_PX)
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    x0, y0 = max(cx - side // 2, 0), max(cy - side // 2, 0)
    patch = image[y0 : min(y0 + side, height), x0 : min(x0 + side, width)]
    if min(patch.shape[:2]) < 32:
        raise ValueError(f"face box {box.as_list()} too small for the spectral measure")
    grey = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2GRAY).astype(np.float64)
    window = np.outer(np.hanning(grey.shape[0]), np.hanning(grey.shape[1]))
    power = np.abs(np.fft.fftshift(np.fft.fft2((grey - grey.mean()) * window))) ** 2
    log_power = 10.0 * np.log10(power + 1e-6)
    median = cv2.medianBlur(log_power.astype(np.float32), 5).astype(np.float64)
    fy = np.fft.fftshift(np.fft.fftfreq(grey.shape[0]))[:, None]
    fx = np.fft.fftshift(np.fft.fftfreq(grey.shape[1]))[None, :]
    radius = np.hypot(fx, fy) / 0.5
    band = (radius >= 0.25) & (radius <= 1.0)
    return float(np.max((log_power - median)[band]))


def _ring(
    shape: tuple[int, int], box: tuple[float, float, float, float], pad: float
) -> tuple[slice, slice]:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    return (
        slice(max(int(top - pad * height), 0), min(int(bottom + pad * height), shape[0])),
        slice(max(int(left - pad * width), 0), min(int(right + pad * width), shape[1])),
    )


def glare(scaled: _Scaled) -> float:
    """Share of pixels within half a face width of the face that are specular (0-1).

    Specular: value (HSV) at least 245 and saturation at most 40 of 255.
    """
    rows, cols = _ring(scaled.grey.shape[:2], scaled.box, 0.5)
    hsv = cv2.cvtColor(np.ascontiguousarray(scaled.rgb[rows, cols]), cv2.COLOR_RGB2HSV)
    specular = (hsv[:, :, 2] >= 245) & (hsv[:, :, 1] <= 40)
    return float(np.mean(specular)) if specular.size else 0.0


def hand_skin(scaled: _Scaled) -> float:
    """Share of skin-coloured pixels beside the face (0-1, see the module docstring).

    Skin: YCrCb Cr in [135, 175] and Cb in [85, 130] (a common skin locus), luma >= 50.
    """
    left, top, right, bottom = scaled.box
    unit = scaled.face_px
    cx = (left + right) / 2.0
    width = scaled.grey.shape[1]
    rows = slice(max(int(top - 0.5 * unit), 0), max(int(bottom), 0))
    ycrcb = cv2.cvtColor(scaled.rgb, cv2.COLOR_RGB2YCrCb)
    shares = []
    for near, far in ((cx - 2.0 * unit, cx - 0.75 * unit), (cx + 0.75 * unit, cx + 2.0 * unit)):
        cols = slice(min(max(int(near), 0), width), min(max(int(far), 0), width))
        region = ycrcb[rows, cols]
        if region.size == 0:
            continue
        y, cr, cb = region[:, :, 0], region[:, :, 1], region[:, :, 2]
        skin = (cr >= 135) & (cr <= 175) & (cb >= 85) & (cb <= 130) & (y >= 50)
        shares.append(float(np.mean(skin)))
    return max(shares, default=0.0)


def skin_redness(scaled: _Scaled) -> float:
    """Mean CIELAB a* of the face box's central half, at most :data:`REDNESS_FULL` (CIE units).

    Positive is red, negative green; 0 is grey.
    """
    left, top, right, bottom = scaled.box
    width, height = right - left, bottom - top
    rows = slice(max(int(top + 0.25 * height), 0), max(int(bottom - 0.25 * height), 1))
    cols = slice(max(int(left + 0.25 * width), 0), max(int(right - 0.25 * width), 1))
    centre = np.ascontiguousarray(scaled.rgb[rows, cols])
    if centre.size == 0:
        return 0.0
    lab = cv2.cvtColor(centre, cv2.COLOR_RGB2LAB)  # 8-bit: the a channel holds a* + 128
    return min(float(lab[:, :, 1].astype(np.float64).mean() - 128.0), REDNESS_FULL)


def sharpness_ratio(scaled: _Scaled) -> float:
    """Log of the face's Laplacian variance over the surrounding ring's (natural log).

    The ring is the region one face width around the face box, less the box.
    """
    laplacian = cv2.Laplacian(scaled.grey.astype(np.float64), cv2.CV_64F)
    left, top, right, bottom = (int(v) for v in scaled.box)
    rows, cols = _ring(scaled.grey.shape[:2], scaled.box, 1.0)
    mask = np.zeros(laplacian.shape, dtype=bool)
    mask[rows, cols] = True
    face = np.zeros_like(mask)
    face[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
    ring = mask & ~face
    if face.sum() < 16 or ring.sum() < 16:
        return 0.0
    return float(math.log((laplacian[face].var() + 1.0) / (laplacian[ring].var() + 1.0)))


def measure_frame(image: RgbImage, box: Box) -> Vector:
    """The :data:`MEASURES` of the face at ``box`` in the RGB ``image``, in that order.

    Raises:
        ValueError: the face box does not lie in the image, or is too small to measure.
    """
    height, width = image.shape[:2]
    if box.width < 16 or box.height < 16:
        raise ValueError(f"face box {box.as_list()} is smaller than 16x16 pixels")
    if box.right <= 0 or box.bottom <= 0 or box.left >= width or box.top >= height:
        raise ValueError(f"face box {box.as_list()} lies outside the {width}x{height} image")
    scaled = _scaled(image, box)
    return np.array(
        [
            frame_sides(scaled),
            hand_skin(scaled),
            spectral_peak_db(image, box),
            glare(scaled),
            skin_redness(scaled),
            sharpness_ratio(scaled),
        ],
        dtype=np.float64,
    )
