"""A face crop as a small JPEG (for event snapshots)."""

from __future__ import annotations

import io

from PIL import Image

from facegate.domain.faces import Box
from facegate.domain.snapshots import crop_box
from facegate.vision.images import RgbImage


def face_crop_jpeg(pixels: RgbImage, box: Box, max_side_px: int, quality: int) -> bytes:
    """The face at ``box`` with a margin, scaled to ``max_side_px`` at most, as JPEG.

    Raises:
        ValueError: the box lies outside the image.
    """
    height, width = pixels.shape[:2]
    area = crop_box(box, width, height)
    if area.width <= 0 or area.height <= 0:
        raise ValueError(f"face box {box} lies outside a {width}x{height} image")
    crop = Image.fromarray(pixels[area.top : area.bottom, area.left : area.right])
    crop.thumbnail((max_side_px, max_side_px))
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=quality)
    return out.getvalue()
