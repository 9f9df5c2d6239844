"""The lane bench's source clips keep the resolution of their video's face."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from facegate.domain.faces import Box
from facegate.lanebench.sources import SOURCE_FACE_PX, _clip


class FaceAtCentre:
    """A fake engine: a face 35 % of the frame's height, in the middle of any frame."""

    def primary_face(self, frame: Any, describe: bool = False) -> Any:
        height, width = frame.shape[:2]
        side = round(0.35 * height)
        left, top = (width - side) // 2, (height - side) // 2
        return SimpleNamespace(
            detection=SimpleNamespace(box=Box(left, top, left + side, top + side))
        )


def frames(width: int, height: int, count: int = 3) -> list[Any]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def test_a_video_whose_face_is_smaller_than_wanted_keeps_its_own_pixels() -> None:
    # 400x300 like the shared webcam video: a 105-pixel face, under SOURCE_FACE_PX.
    clip = _clip(FaceAtCentre(), frames(400, 300), 25.0, 0.0)  # type: ignore[arg-type]
    assert clip.frames[0].shape[:2] == (300, 400)
    assert clip.boxes[0] is not None
    assert abs(clip.boxes[0].height - 105) <= 1


def test_a_large_face_is_scaled_down_to_the_wanted_size() -> None:
    clip = _clip(FaceAtCentre(), frames(1024, 1024), 25.0, 0.0)  # type: ignore[arg-type]
    box = clip.boxes[0]
    assert box is not None
    assert abs(box.height - SOURCE_FACE_PX) <= 2
    assert clip.frames[0].shape[0] == round(1024 * SOURCE_FACE_PX / (0.35 * 1024))
