"""Hypothesis over the image loader: an RGB image within the limits, or a ``BadInputError``.

Inputs: any bytes; small valid PNG, JPEG, GIF, BMP, TIFF, WebP and PPM files truncated,
with bytes flipped, inserted or spliced; headers (with correct checksums) that declare
sizes up to 2^31 on a side over a few bytes of data. Each call may begin to decode only
images within the pixel limit (counted where Pillow decodes, so Pillow's own buffers are
bounded too; no timing is asserted) and allocate at most :data:`MAX_TRACED_BYTES` in
Python and NumPy.
"""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageFile

from facegate.domain.errors import BadInputError
from facegate.vision.images import ImageLimits, load_image
from fuzz_site import fuzz_settings

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FACEGATE_FUZZ_EXAMPLES", "50")) * 10
"""Examples per test."""
LIMITS = ImageLimits(max_image_pixels=2_000_000, max_image_bytes=1_000_000, min_side_px=16)
"""Limits small enough that a declared size over them is refused and one under them decodes
quickly (the defaults allow 40 MP)."""
MAX_TRACED_BYTES = 64 * 1024 * 1024
"""Most bytes one call may allocate through Python and NumPy (2 MP RGB is 6 MB)."""


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (40, 32)) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


VALID = [
    _encoded("PNG"),
    _encoded("PNG", "L"),
    _encoded("PNG", "I;16"),
    _encoded("PNG", "P"),
    _encoded("JPEG"),
    _encoded("GIF", "P"),
    _encoded("BMP"),
    _encoded("TIFF"),
    _encoded("TIFF", "F"),
    _encoded("WEBP"),
    _encoded("PPM"),
]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, depth: int, colour: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _gif(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 6
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


def _bmp(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + info + b"\x00" * 16


def _jpeg(width: int, height: int) -> bytes:
    valid = _encoded("JPEG")
    at = valid.index(b"\xff\xc0") + 5  # SOF0: length(2) precision(1) height(2) width(2)
    return valid[:at] + struct.pack(">HH", height, width) + valid[at + 4 :]


SIDE = st.one_of(st.integers(0, 70_000), st.integers(0, 2**31 - 1))


@st.composite
def declared(draw: st.DrawFn) -> bytes:
    """A header declaring a drawn size over a few bytes (or none) of pixel data."""
    width, height = draw(SIDE), draw(SIDE)
    kind = draw(st.sampled_from(["png", "gif", "bmp", "jpeg", "ppm"]))
    if kind == "png":
        depth, colour = draw(st.sampled_from([(8, 2), (8, 0), (16, 2), (1, 0), (8, 3), (8, 6)]))
        return _png(width, height, depth, colour, draw(st.binary(max_size=64)))
    if kind == "gif":
        return _gif(min(width, 65535), min(height, 65535))
    if kind == "bmp":
        return _bmp(width, draw(st.sampled_from([height, -height])))
    if kind == "jpeg":
        return _jpeg(min(width, 65535), min(height, 65535))
    return f"P6 {width} {height} 255\n".encode() + draw(st.binary(max_size=64))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid small file, truncated, with bytes flipped, inserted or spliced."""
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "splice"]))
        at = draw(st.integers(0, len(data)))
        if action == "truncate":
            del data[at:]
        elif action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            other = draw(st.sampled_from(VALID))
            data[at:] = other[draw(st.integers(0, len(other))) :]
    return bytes(data)


IMAGE_BYTES = st.one_of(st.binary(max_size=512), mutated(), declared())


@contextmanager
def _decodes() -> Iterator[list[tuple[int, int]]]:
    """The sizes of the images Pillow is asked to decode meanwhile.

    One over :data:`LIMITS` is refused (``AssertionError``) instead of decoded.
    """
    asked: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def bounded_load(image: ImageFile.ImageFile) -> object:
        asked.append(image.size)
        if image.size[0] * image.size[1] > LIMITS.max_image_pixels:
            raise AssertionError(f"a {image.size} image was decoded")
        return real_load(image)

    ImageFile.ImageFile.load = bounded_load  # type: ignore[assignment,method-assign]
    try:
        yield asked
    finally:
        ImageFile.ImageFile.load = real_load  # type: ignore[method-assign]


def _check_one(data: bytes) -> None:
    tracemalloc.start()
    try:
        with _decodes() as asked:
            pixels = load_image(data, LIMITS)
    except BadInputError:
        pixels = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert all(w * h <= LIMITS.max_image_pixels for w, h in asked), f"{asked} for {data[:32]!r}"
    assert peak < MAX_TRACED_BYTES, f"{peak} bytes for {data[:32]!r}"
    if pixels is not None:
        assert pixels.dtype == np.uint8
        assert pixels.ndim == 3
        assert pixels.shape[2] == 3
        height, width = pixels.shape[:2]
        assert width * height <= LIMITS.max_image_pixels
        assert min(width, height) >= LIMITS.min_side_px


def test_valid_seeds_decode() -> None:
    for data in VALID:
        assert load_image(data, LIMITS).shape == (32, 40, 3)


@fuzz_settings(EXAMPLES)
@given(data=IMAGE_BYTES)
def test_loader_answers_an_image_or_bad_input(data: bytes) -> None:
    _check_one(data)


@fuzz_settings(EXAMPLES // 4)
@given(data=declared())
def test_declared_sizes_are_refused_or_decoded_within_bounds(data: bytes) -> None:
    _check_one(data)
