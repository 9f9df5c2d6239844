"""Builders of hostile and broken image files for the tests (made at run time, never stored)."""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG whose IHDR claims ``width`` x ``height`` but holds a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` encoded in format ``fmt``."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def bad_image_files(folder: Path) -> dict[str, Path]:
    """One file of each kind of bad input the CLI must refuse with exit code 3."""
    photo = encoded(Image.new("RGB", (64, 64), (120, 90, 60)), "JPEG")
    files = {
        "empty": b"",
        "not_an_image": b"name,unit\nAlice,3B\n",
        "corrupt": photo[:40] + bytes(range(256)) * 4,
        "truncated": photo[: len(photo) // 2],
        "one_pixel": encoded(Image.new("RGB", (1, 1)), "PNG"),
        "bomb_30000x30000": png_header_only(30000, 30000),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.png"
        paths[name].write_bytes(data)
    return paths


def wait_for(check: Callable[[], object], timeout_s: float = 15.0) -> bool:
    """Poll ``check`` every 20 ms until it is true or ``timeout_s`` seconds passed.

    The default is generous: on a loaded CI machine a gate's thread can take seconds to
    run; a check that holds returns at once, so only a failing test waits it out.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False
