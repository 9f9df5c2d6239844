"""Issue 16, F2: large photos are shrunk on decode, and decoding is bounded in pixels."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api_site import Site, site
from facegate.domain.errors import ServiceUnavailableError
from facegate.vision.detection import DetectionSettings, FaceDetector
from facegate.vision.images import DECODE_BUDGET, ImageLimits, RgbImage, load_image

__all__ = ["site"]


def _blank_png(side: int) -> bytes:
    """A valid 1-bit PNG of ``side`` x ``side`` black pixels (a few kB on the wire)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = (b"\x00" + b"\x00" * ((side + 7) // 8)) * side
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def test_a_large_png_is_shrunk_on_decode_to_the_face_working_size() -> None:
    image = load_image(_blank_png(6000), ImageLimits(), max_side_px=1280)
    assert image.shape == (1280, 1280, 3)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(3000, 4000, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=80)
    image = load_image(buffer.getvalue(), ImageLimits(), max_side_px=1280)
    assert max(image.shape[:2]) == 1280
    assert image.shape[:2] == (960, 1280)


def test_decoding_waits_for_room_and_is_refused_when_none_comes() -> None:
    limits = ImageLimits(max_decoding_pixels=40_000_000, decode_wait_s=0.2)
    held, release = threading.Event(), threading.Event()

    def occupy() -> None:
        with DECODE_BUDGET.hold(40_000_000, 40_000_000, 1.0):
            held.set()
            release.wait(5)

    worker = threading.Thread(target=occupy)
    worker.start()
    held.wait(5)
    try:
        with pytest.raises(ServiceUnavailableError):
            load_image(_blank_png(2000), limits)
    finally:
        release.set()
        worker.join()
    assert load_image(_blank_png(2000), limits).shape == (2000, 2000, 3)
    assert DECODE_BUDGET.in_use == 0


def _check(
    client: TestClient, site: Site, count: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """The answer's status and how many images were decoded to pixels meanwhile."""
    decoded: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def counting_load(image: Image.Image) -> Any:
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(Image.Image, "load", counting_load)
    files = [("files", (f"{i}.png", _blank_png(6000), "image/png")) for i in range(count)]
    answer = client.post(f"/api/v1/people/{site.resident_id}/photos/check", files=files)
    monkeypatch.setattr(Image.Image, "load", real_load)
    return answer.status_code, len(decoded)


def test_ten_photos_declaring_360_megapixels_are_refused_from_their_headers(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused from the headers alone: no pixel decoded (no timing is asserted)."""
    client = site.client("admin")
    consent = {"text_version": "v1"}
    assert client.post(f"/api/v1/people/{site.resident_id}/consents", json=consent).is_success
    status, decoded = _check(client, site, 10, monkeypatch)
    assert status == 413
    assert decoded == 0
    status, decoded = _check(client, site, 1, monkeypatch)
    assert status == 200
    assert decoded >= 1


class _RecordingDetector(FaceDetector):
    """The real detector policy; the dlib calls only record the image they would get."""

    def __init__(self) -> None:
        super().__init__(DetectionSettings())
        self.seen: list[tuple[str, tuple[int, ...]]] = []

    def _run_hog(self, image: RgbImage, steps: int) -> list[tuple[Any, float]]:
        self.seen.append(("hog", image.shape))
        return []

    def _run_cnn(self, image: RgbImage, steps: int) -> list[tuple[Any, float]]:
        self.seen.append(("cnn", image.shape))
        return []


def test_the_cnn_fallback_works_on_at_most_640_pixels() -> None:
    detector = _RecordingDetector()
    assert detector.detect(np.zeros((1280, 1280, 3), dtype=np.uint8)) == []
    assert detector.seen == [("hog", (1280, 1280, 3)), ("cnn", (640, 640, 3))]
