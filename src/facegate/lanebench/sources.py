"""The live videos behind a synthetic lane stream: read, face-boxed, and enrolled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facegate.domain.errors import BadInputError
from facegate.domain.faces import Box
from facegate.domain.matching import FloatArray
from facegate.lanebench.labels import SyntheticScript
from facegate.lanebench.streams import PAST_S, Image, SourceClip, smooth_boxes
from facegate.vision.engine import FaceEngine

DETECT_SIDE_PX = 320
"""Longer side of a source frame while its face is found (pixels)."""
SOURCE_FACE_PX = 110.0
"""Source frames are scaled so the face is about this tall (pixels): enough for the
largest face a walker shows, and no more memory than that needs."""


def read_segment(path: Path, start_s: float, end_s: float) -> tuple[list[Image], float]:
    """RGB frames of ``path`` from ``start_s`` to ``end_s`` (seconds), and its frame rate.

    Raises:
        BadInputError: the file cannot be read.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise BadInputError(f"cannot read the video {path}")
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
    frames: list[Image] = []
    index = 0
    try:
        while True:
            ok, bgr = capture.read()
            if not ok or index / fps >= end_s:
                break
            if index / fps >= start_s:
                frames.append(np.ascontiguousarray(bgr[:, :, ::-1]))
            index += 1
    finally:
        capture.release()
    return frames, fps


@dataclass(frozen=True, slots=True)
class Sources:
    """What a synthetic stream is made from.

    Attributes:
        clips: identity to the part of its video the walkers use.
        enrolled: identity to descriptors from its enrollment seconds.
    """

    clips: dict[str, SourceClip]
    enrolled: dict[str, list[FloatArray]]


def load_sources(script: SyntheticScript, data: Path, engine: FaceEngine) -> Sources:
    """Read each identity's video: the walkers' seconds (face-boxed) and its enrollment.

    Raises:
        BadInputError: a video is missing, or its person cannot be enrolled.
    """
    clips: dict[str, SourceClip] = {}
    enrolled: dict[str, list[FloatArray]] = {}
    for identity, relative in script.sources.items():
        path = data / relative
        if not path.is_file():
            raise BadInputError(f"no video at {path} (give --data)")
        starts = [w.source_start_s for w in script.walkers if w.identity == identity]
        end = max(starts) + script.approach_s + PAST_S + 0.2
        frames, fps = read_segment(path, min(starts), end)
        clips[identity] = _clip(engine, frames, fps, min(starts))
        enrolled[identity] = _enroll(engine, path, *script.enroll[identity])
    return Sources(clips, enrolled)


def _clip(engine: FaceEngine, frames: list[Image], fps: float, start_s: float) -> SourceClip:
    """Frames scaled so the face is about :data:`SOURCE_FACE_PX` tall, with face boxes.

    The face is found on copies at most :data:`DETECT_SIDE_PX` on their longer side, so
    finding it costs the same for every video; the frames kept are scaled from the
    originals, never up: a video whose face is smaller than :data:`SOURCE_FACE_PX` keeps
    its own resolution (scaling them from the copies cost the webcam video a fifth of its
    face's pixels, so walkers near the line were its 84-pixel faces blown up).
    """
    height, width = frames[0].shape[:2]
    first = min(1.0, DETECT_SIDE_PX / max(height, width))
    size = (round(width * first), round(height * first))
    small = [
        np.asarray(cv2.resize(f, size, interpolation=cv2.INTER_AREA), np.uint8) for f in frames
    ]
    found = [engine.primary_face(frame, describe=False) for frame in small]
    heights = [f.detection.box.height / first for f in found if f is not None]
    if not heights:
        raise BadInputError("no face in a walker's source video")
    scale = min(1.0, SOURCE_FACE_PX / float(np.median(heights)))
    size = (round(width * scale), round(height * scale))
    boxes: list[Box | None] = []
    scaled: list[Image] = []
    for frame, face in zip(frames, found, strict=True):
        scaled.append(np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), np.uint8))
        box = face.detection.box if face is not None else None
        boxes.append(None if box is None else _scaled(box, scale / first))
    return SourceClip(scaled, smooth_boxes(boxes), fps, start_s)


def _scaled(box: Box, scale: float) -> Box:
    return Box(*(round(v * scale) for v in (box.left, box.top, box.right, box.bottom)))


def _enroll(engine: FaceEngine, path: Path, start_s: float, end_s: float) -> list[FloatArray]:
    frames, _ = read_segment(path, start_s, end_s)
    descriptors = []
    for frame in frames[::5]:
        face = engine.primary_face(frame)
        if face is not None and face.verdict.passed and face.descriptor is not None:
            descriptors.append(face.descriptor)
    if not descriptors:
        raise BadInputError(f"no usable face to enroll in {path} {start_s:g}-{end_s:g} s")
    return descriptors
