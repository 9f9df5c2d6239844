"""Unit tests of :mod:`facegate.vision.images`: decoding untrusted image bytes safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from facegate.domain.errors import (
    BadInputError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
)
from facegate.vision.images import ImageLimits, load_image
from support import encoded, png_header_only


def _noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Fail the test if any pixel data is decoded; the sizes it was asked to decode."""
    asked: list[tuple[int, int]] = []

    def refuse(self: ImageFile.ImageFile) -> None:
        asked.append(self.size)
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    return asked


# --- accepted images -----------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png"), ("BMP", ".bmp")])
def test_colour_photo_becomes_rgb_uint8(tmp_path: Path, fmt: str, suffix: str) -> None:
    pixels = _noise(30, 40)
    path = _write(tmp_path / f"photo{suffix}", encoded(Image.fromarray(pixels), fmt))

    image = load_image(path)

    assert image.shape == (30, 40, 3)
    assert image.dtype == np.uint8
    assert image.flags.c_contiguous


def test_png_is_decoded_losslessly(tmp_path: Path) -> None:
    pixels = _noise(20, 24, seed=3)
    path = _write(tmp_path / "photo.png", encoded(Image.fromarray(pixels), "PNG"))

    np.testing.assert_array_equal(load_image(path), pixels)


def test_palette_gif_becomes_rgb(tmp_path: Path) -> None:
    image = Image.new("RGB", (32, 24), (200, 30, 40)).quantize(colors=4)
    assert image.mode == "P"
    path = _write(tmp_path / "photo.gif", encoded(image, "GIF"))

    pixels = load_image(path)

    assert pixels.shape == (24, 32, 3)
    assert pixels.dtype == np.uint8
    assert [int(v) for v in pixels[0, 0]] == [200, 30, 40]


def test_only_the_first_frame_of_an_animation_is_used(tmp_path: Path) -> None:
    first = Image.new("RGB", (20, 20), (255, 0, 0))
    second = Image.new("RGB", (20, 20), (0, 0, 255))
    data = encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    path = _write(tmp_path / "animated.gif", data)

    pixels = load_image(path)

    assert pixels.shape == (20, 20, 3)
    assert pixels[10, 10, 0] > 200
    assert pixels[10, 10, 2] < 50


def test_grey_pgm_becomes_three_equal_channels(tmp_path: Path) -> None:
    grey = np.arange(112 * 92, dtype=np.uint32).reshape(112, 92) % 256
    path = _write(tmp_path / "1.pgm", encoded(Image.fromarray(grey.astype(np.uint8)), "PPM"))

    pixels = load_image(path)

    assert pixels.shape == (112, 92, 3)
    assert pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels[..., 0], grey)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 1])
    np.testing.assert_array_equal(pixels[..., 1], pixels[..., 2])


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path: Path) -> None:
    ramp = np.linspace(1000, 60000, 24 * 32).reshape(24, 32).astype(np.uint16)
    path = _write(tmp_path / "deep.png", encoded(Image.fromarray(ramp), "PNG"))

    pixels = load_image(path)

    assert pixels.shape == (24, 32, 3)
    assert pixels.dtype == np.uint8
    # The full range is used: the darkest pixel is black, the brightest near white.
    assert pixels.min() == 0
    assert pixels.max() >= 254
    assert pixels[0, 0, 0] < pixels[-1, -1, 0]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    stored = np.zeros((20, 40, 3), dtype=np.uint8)  # 40 wide, 20 high as stored
    stored[:8, :8] = (255, 0, 0)  # a red mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encoded(Image.fromarray(stored), "JPEG", exif=exif, quality=95)
    path = _write(tmp_path / "rotated.jpg", data)

    pixels = load_image(path)

    assert pixels.shape == (40, 20, 3)
    # Turned clockwise, the stored top-left corner is shown top-right.
    assert pixels[2, -3, 0] > 200
    assert pixels[2, 2, 0] < 60


def test_bytes_give_the_same_pixels_as_the_path(tmp_path: Path) -> None:
    data = encoded(Image.fromarray(_noise(30, 30, seed=7)), "JPEG")
    path = _write(tmp_path / "photo.jpg", data)

    np.testing.assert_array_equal(load_image(data), load_image(path))


def test_limits_default_when_none(tmp_path: Path) -> None:
    path = _write(tmp_path / "photo.png", encoded(Image.fromarray(_noise(16, 16)), "PNG"))

    assert load_image(path, None).shape == (16, 16, 3)
    assert load_image(path, ImageLimits()).shape == (16, 16, 3)


# --- refused images ------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [InvalidImageError, ImageTooLargeError, ImageTooSmallError],
)
def test_image_errors_are_bad_input(error: type[Exception]) -> None:
    assert issubclass(error, BadInputError)


def test_empty_file_is_invalid(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.jpg", b"")

    with pytest.raises(InvalidImageError, match="empty"):
        load_image(path)


def test_empty_bytes_are_invalid() -> None:
    with pytest.raises(InvalidImageError, match="uploaded image"):
        load_image(b"")


def test_truncated_jpeg_is_invalid(tmp_path: Path) -> None:
    data = encoded(Image.fromarray(_noise(64, 64)), "JPEG", quality=95)
    path = _write(tmp_path / "cut.jpg", data[: len(data) // 2])

    with pytest.raises(InvalidImageError, match=r"cut\.jpg"):
        load_image(path)


def test_truncated_jpeg_bytes_are_invalid() -> None:
    data = encoded(Image.fromarray(_noise(64, 64)), "JPEG", quality=95)

    with pytest.raises(InvalidImageError):
        load_image(data[: len(data) // 2])


def test_random_bytes_are_invalid(tmp_path: Path) -> None:
    data = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path = _write(tmp_path / "noise.jpg", data)

    with pytest.raises(InvalidImageError, match="accepted format"):
        load_image(path)
    with pytest.raises(InvalidImageError):
        load_image(data)


def test_text_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture\n" * 20, encoding="utf-8")

    with pytest.raises(InvalidImageError, match=r"notes\.png"):
        load_image(path)


def test_format_outside_the_accepted_list_is_invalid(tmp_path: Path) -> None:
    data = encoded(Image.fromarray(_noise(32, 32)), "ICO")
    path = _write(tmp_path / "icon.ico", data)

    with pytest.raises(InvalidImageError, match="accepted format"):
        load_image(path)


def test_directory_is_invalid(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jpg"
    folder.mkdir()

    with pytest.raises(InvalidImageError, match="directory"):
        load_image(folder)


def test_missing_file_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match=r"missing\.jpg"):
        load_image(tmp_path / "missing.jpg")


def test_one_pixel_png_is_too_small(tmp_path: Path) -> None:
    path = _write(tmp_path / "dot.png", encoded(Image.new("RGB", (1, 1)), "PNG"))

    with pytest.raises(ImageTooSmallError, match="1x1"):
        load_image(path)


def test_min_side_applies_to_either_side(tmp_path: Path) -> None:
    path = _write(tmp_path / "strip.png", encoded(Image.fromarray(_noise(8, 200)), "PNG"))

    with pytest.raises(ImageTooSmallError):
        load_image(path)
    assert load_image(path, ImageLimits(min_side_px=8)).shape == (8, 200, 3)


def test_decompression_bomb_is_refused_from_the_header(
    tmp_path: Path, no_decoding: list[tuple[int, int]]
) -> None:
    """Refused from the header alone: no decode is even begun (no timing is asserted)."""
    data = png_header_only(30_000, 30_000)
    path = _write(tmp_path / "bomb.png", data)
    assert len(data) < 200

    with pytest.raises(ImageTooLargeError):
        load_image(path)
    with pytest.raises(ImageTooLargeError):
        load_image(data)
    assert no_decoding == []


@pytest.mark.usefixtures("no_decoding")
def test_pixel_limit_is_enforced_without_pillows_own_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = _write(tmp_path / "big.png", png_header_only(30_000, 30_000))

    with pytest.raises(ImageTooLargeError, match="refused before decoding"):
        load_image(path)


@pytest.mark.usefixtures("no_decoding")
def test_configured_pixel_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.png", png_header_only(2_000, 1_000))

    with pytest.raises(ImageTooLargeError, match="2000x1000"):
        load_image(path, ImageLimits(max_image_pixels=1_000_000))


def test_file_over_the_byte_limit_is_too_large(tmp_path: Path) -> None:
    data = encoded(Image.fromarray(_noise(32, 32)), "PNG")
    path = _write(tmp_path / "heavy.png", data)
    limits = ImageLimits(max_image_bytes=len(data) - 1)

    with pytest.raises(ImageTooLargeError, match="bytes"):
        load_image(path, limits)
    with pytest.raises(ImageTooLargeError, match="uploaded image"):
        load_image(data, limits)
    # Exactly at the limit is accepted.
    assert load_image(path, ImageLimits(max_image_bytes=len(data))).shape == (32, 32, 3)
