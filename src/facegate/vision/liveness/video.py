"""Frames of a video file, and faces on them, for the multi-frame liveness cue."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facegate.domain.errors import BadInputError
from facegate.domain.liveness import FaceFrame
from facegate.vision.engine import FaceEngine
from facegate.vision.images import RgbImage

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
"""File name endings (lower case) treated as videos."""


def is_video(path: Path) -> bool:
    """Whether ``path`` names a video file (by its ending)."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def video_fps(path: Path, default: float = 25.0) -> float:
    """The frame rate the video's header gives (frames per second), ``default`` if none."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS)) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return fps if 1.0 <= fps <= 1000.0 else default


def read_frames(path: Path, count: int, start: int = 0, step: int = 1) -> list[RgbImage]:
    """Up to ``count`` RGB frames of the video at ``path``: ``start``, ``start + step``, ...

    Raises:
        BadInputError: the file cannot be opened or decoded as a video.
    """
    if not path.is_file():
        raise BadInputError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise BadInputError(f"{path}: not a readable video")
        if start:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
        frames: list[RgbImage] = []
        index = 0
        while len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                frames.append(np.ascontiguousarray(rgb, dtype=np.uint8))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise BadInputError(f"{path}: no decodable frame")
    return frames


def detect_faces(engine: FaceEngine, images: list[RgbImage]) -> list[FaceFrame | None]:
    """The primary face of every frame, found on each (as the gate does); ``None`` if none."""
    faces: list[FaceFrame | None] = []
    for image in images:
        face = engine.primary_face(image, describe=False)
        faces.append(None if face is None else FaceFrame(image, face.box, face.landmarks))
    return faces
