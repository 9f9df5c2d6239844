"""Decode untrusted image bytes safely into RGB pixel arrays.

Limits are checked before any pixel is decoded: the byte size from the file system, the
pixel count from the header (a 30000x30000 PNG header is refused without inflating a
byte). Only common photo formats are tried, so exotic decoders are never reached. Every
decoder failure becomes an :class:`InvalidImageError` that names the file.

Decoding is bounded in memory across the process: each decode holds its image's pixel
count from :data:`DECODE_BUDGET` while it runs, so a burst of large photos waits (and is
refused with 503 after a while) instead of exhausting memory. Callers that only need
faces ask for ``max_side_px``: a JPEG is then decoded at a reduced scale (``draft``) and
any image is shrunk to that longer side before it becomes an array.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from facegate.domain.errors import (
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    ServiceUnavailableError,
)

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
        max_face_side_px: the longer side photos are shrunk to on decode for face work
            (enrolment, photo checks); the detector works at this size anyway (default
            1280 pixels).
        max_request_pixels: most pixels, summed from the headers, of all the photos of
            one request (default 150 MP: ten 12 MP phone photos and room to spare).
        max_decoding_pixels: most pixels being decoded at once in the whole process
            (default 80 MP); a decode waits for room up to ``decode_wait_s``.
        decode_wait_s: how long a decode waits for room, in seconds (default 10), before
            it is refused as a busy service (HTTP 503).
    """

    max_image_pixels: int = 40_000_000
    max_image_bytes: int = 50 * 1024 * 1024
    min_side_px: int = 16
    max_face_side_px: int = 1280
    max_request_pixels: int = 150_000_000
    max_decoding_pixels: int = 80_000_000
    decode_wait_s: float = 10.0


class PixelBudget:
    """Pixels being decoded at once in this process, bounded (a semaphore on pixels)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.in_use = 0

    @contextmanager
    def hold(self, pixels: int, capacity: int, wait_s: float) -> Iterator[None]:
        """Hold ``pixels`` of ``capacity`` while decoding; wait up to ``wait_s`` seconds.

        Raises:
            ServiceUnavailableError: no room within ``wait_s`` (HTTP 503).
        """
        pixels = min(pixels, capacity)
        deadline = time.monotonic() + wait_s
        with self._lock:
            while self.in_use + pixels > capacity:
                left = deadline - time.monotonic()
                if left <= 0 or not self._lock.wait(left):
                    raise ServiceUnavailableError(
                        "busy decoding other images: try again in a few seconds"
                    )
            self.in_use += pixels
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= pixels
                self._lock.notify_all()


DECODE_BUDGET = PixelBudget()
"""The process's decoding budget (see :attr:`ImageLimits.max_decoding_pixels`)."""


def load_image(
    source: Path | bytes, limits: ImageLimits | None = None, *, max_side_px: int | None = None
) -> RgbImage:
    """Read an image file or its bytes into RGB pixels, refusing what breaks the limits.

    EXIF orientation is applied, grey and palette images become RGB, and only the first
    frame of an animation is used.

    Args:
        source: a path, or the encoded bytes (an upload).
        limits: the bounds to enforce; the defaults when ``None``.
        max_side_px: shrink to this longer side (pixels) while decoding; ``None`` keeps
            the original size (callers that report boxes in the file's pixels).

    Returns:
        An ``(height, width, 3)`` uint8 array.

    Raises:
        InvalidImageError: empty, unreadable, truncated or not an accepted format.
        ImageTooLargeError: over ``max_image_bytes`` or ``max_image_pixels``.
        ImageTooSmallError: a side shorter than ``min_side_px``.
        ServiceUnavailableError: no room in :data:`DECODE_BUDGET` in time (HTTP 503).
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
                width, height = image.size
                budget = (limits.max_decoding_pixels, limits.decode_wait_s)
                with DECODE_BUDGET.hold(width * height, *budget):
                    return _to_rgb_array(image, max_side_px)
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


def image_size(data: bytes, limits: ImageLimits) -> tuple[int, int]:
    """The width and height an image's header declares, checked against ``limits``.

    Nothing is decoded (see :func:`load_image` for the errors).
    """
    label = "uploaded image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            encoded = io.BytesIO(_read_bounded(data, label, limits.max_image_bytes))
            with Image.open(encoded, formats=ACCEPTED_FORMATS) as image:
                _check_size(image.size, label, limits)
                return image.size
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"{label}: over the pixel limit, refused ({err})") from err
    except UnidentifiedImageError as err:
        raise InvalidImageError(f"{label}: not an image in an accepted format") from err
    except _DECODER_ERRORS as err:
        raise InvalidImageError(f"{label}: not a readable image ({err})") from err


def _to_rgb_array(image: Image.Image, max_side_px: int | None) -> RgbImage:
    if max_side_px is not None and image.format == "JPEG":
        width, height = image.size
        scale = min(1.0, max_side_px / max(width, height))
        image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(upright, dtype=np.float64)
        span = float(values.max() - values.min()) or 1.0
        grey = ((values - values.min()) * (255.0 / span)).astype(np.uint8)
        upright = Image.fromarray(grey, mode="L")
    if upright.mode not in ("L", "RGB"):
        upright = upright.convert("RGB")
    if max_side_px is not None and max(upright.size) > max_side_px:
        upright = upright.copy() if upright is image else upright
        upright.thumbnail((max_side_px, max_side_px), Image.Resampling.BILINEAR, reducing_gap=2.0)
    rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)
