"""Decode untrusted image bytes safely into RGB pixel arrays.

Limits are checked before any pixel is decoded: the byte size from the file system, the
pixel count from the header (a 30000x30000 PNG header is refused without inflating a
byte). Only common photo formats are tried, so exotic decoders are never reached. Every
decoder failure becomes an :class:`InvalidImageError` that names the file.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from facegate.domain.errors import ImageTooLargeError, ImageTooSmallError, InvalidImageError

RgbImage = npt.NDArray[np.uint8]
"""An ``(height, width, 3)`` uint8 RGB array."""

ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "PPM", "WEBP", "TIFF")
"""Pillow format names facegate decodes (PPM covers the PGM files of the AT&T set)."""

_DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Bounds on the images facegate accepts.

    Attributes:
        max_image_pixels: largest width x height, checked from the header (default 40 MP).
        max_image_bytes: largest encoded size in bytes (default 50 MiB).
        min_side_px: smallest width or height in pixels; below it no face fits (default 16).
    """

    max_image_pixels: int = 40_000_000
    max_image_bytes: int = 50 * 1024 * 1024
    min_side_px: int = 16


def load_image(source: Path | bytes, limits: ImageLimits | None = None) -> RgbImage:
    """Read an image file or its bytes into RGB pixels, refusing what breaks the limits.

    EXIF orientation is applied, grey and palette images become RGB, and only the first
    frame of an animation is used.

    Args:
        source: a path, or the encoded bytes (an upload).
        limits: the bounds to enforce; the defaults when ``None``.

    Returns:
        An ``(height, width, 3)`` uint8 array.

    Raises:
        InvalidImageError: empty, unreadable, truncated or not an accepted format.
        ImageTooLargeError: over ``max_image_bytes`` or ``max_image_pixels``.
        ImageTooSmallError: a side shorter than ``min_side_px``.
    """
    limits = limits or ImageLimits()
    label = str(source) if isinstance(source, Path) else "uploaded image"
    data = _read_bounded(source, label, limits.max_image_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                _check_size(image.size, label, limits)
                image.seek(0)
                return _to_rgb_array(image)
    except Image.DecompressionBombError as err:
        # Pillow's own guard fires at open for sizes far above any sane limit.
        raise ImageTooLargeError(
            f"{label}: over the limit of {limits.max_image_pixels} pixels, refused before "
            f"decoding ({err})"
        ) from err
    except UnidentifiedImageError as err:
        raise InvalidImageError(
            f"{label}: not an image in an accepted format ({', '.join(ACCEPTED_FORMATS)})"
        ) from err
    except _DECODER_ERRORS as err:
        raise InvalidImageError(f"{label}: not a readable image ({err})") from err


def _read_bounded(source: Path | bytes, label: str, max_bytes: int) -> bytes:
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            if size > max_bytes:
                raise ImageTooLargeError(f"{label}: {size} bytes, the limit is {max_bytes}")
            data = source.read_bytes()
        except IsADirectoryError as err:
            raise InvalidImageError(f"{label}: is a directory, not an image") from err
        except OSError as err:
            raise InvalidImageError(f"{label}: cannot be read ({err.strerror or err})") from err
    else:
        data = source
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"{label}: {len(data)} bytes, the limit is {max_bytes}")
    if not data:
        raise InvalidImageError(f"{label}: empty file")
    return data


def _check_size(size: tuple[int, int], label: str, limits: ImageLimits) -> None:
    width, height = size
    if width * height > limits.max_image_pixels:
        raise ImageTooLargeError(
            f"{label}: {width}x{height} is {width * height} pixels, the limit is "
            f"{limits.max_image_pixels} (refused before decoding)"
        )
    if min(width, height) < limits.min_side_px:
        raise ImageTooSmallError(
            f"{label}: {width}x{height} is too small to hold a face "
            f"(each side needs at least {limits.min_side_px} pixels)"
        )


def _to_rgb_array(image: Image.Image) -> RgbImage:
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(upright, dtype=np.float64)
        span = float(values.max() - values.min()) or 1.0
        grey = ((values - values.min()) * (255.0 / span)).astype(np.uint8)
        upright = Image.fromarray(grey, mode="L")
    rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)
