"""Frame sources: video files, cameras and streams through OpenCV, folders of images.

A live source (a V4L2/USB device number, ``rtsp://``, ``http://`` MJPEG) that stops
delivering is reopened with exponential back-off (0.5 s doubling to ``max_backoff_s``);
when no frame came for ``dead_after_s`` it raises :class:`CameraFailedError` on every
read until a frame comes again, so the loop records ``camera_failed`` instead of
stalling silently.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegate.domain.errors import CameraFailedError
from facegate.ports import Frame

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm")


def _is_live(spec: str) -> bool:
    return spec.isdigit() or spec.split("://", 1)[0] in ("rtsp", "rtsps", "http", "https")


class OpenCvSource:
    """A video file, camera or stream read by ``cv2.VideoCapture``.

    Args:
        spec: a file path, a device number (``"0"``) or a stream URL.
        dead_after_s: seconds without a frame after which reads raise (live sources).
        max_backoff_s: longest wait between reopen attempts (seconds).
    """

    def __init__(self, spec: str, dead_after_s: float = 5.0, max_backoff_s: float = 8.0) -> None:
        self.spec = spec
        self.live = _is_live(spec)
        self.dead_after_s = dead_after_s
        self.max_backoff_s = max_backoff_s
        self._capture: Any = None
        self._index = 0
        self._fps = 25.0
        self._last_frame = time.monotonic()
        self._backoff_s = 0.5
        if not self.live and not Path(spec).is_file():
            raise CameraFailedError(f"no video file at {spec}")
        self._open()

    @property
    def description(self) -> str:
        """The source without any credentials of a stream URL."""
        return self.spec.split("@")[-1] if "://" in self.spec else self.spec

    def _open(self) -> bool:
        target: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        self._capture = cv2.VideoCapture(target)
        opened = bool(self._capture.isOpened())
        if opened:
            fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
            self._fps = fps if 1.0 <= fps <= 240.0 else 25.0
        return opened

    def read(self) -> Frame | None:
        """The next frame; ``None`` at the end of a file.

        Raises:
            CameraFailedError: a file that cannot be read, or a live source without a
                frame for ``dead_after_s``.
        """
        ok, bgr = self._capture.read() if self._capture is not None else (False, None)
        if ok and bgr is not None:
            self._last_frame, self._backoff_s = time.monotonic(), 0.5
            frame = Frame(
                np.ascontiguousarray(bgr[:, :, ::-1]), self._index, self._index / self._fps
            )
            self._index += 1
            return frame
        if not self.live:
            if self._index == 0:
                raise CameraFailedError(f"cannot read video {self.spec}")
            return None
        return self._reconnect()

    def _reconnect(self) -> Frame | None:
        if time.monotonic() - self._last_frame > self.dead_after_s:
            self._wait_and_reopen()
            raise CameraFailedError(f"no frame from {self.description} for {self.dead_after_s} s")
        self._wait_and_reopen()
        return self.read() if self._capture is not None and self._capture.isOpened() else None

    def _wait_and_reopen(self) -> None:
        time.sleep(self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.max_backoff_s)
        if self._capture is not None:
            self._capture.release()
        self._open()

    def close(self) -> None:
        """Release the capture."""
        if self._capture is not None:
            self._capture.release()


class FolderSource:
    """The images of a folder, in name order, as frames at ``fps``.

    Raises:
        CameraFailedError: the folder holds no image.
    """

    def __init__(self, folder: Path, fps: float = 25.0) -> None:
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise CameraFailedError(f"no image in {folder}")
        self.folder, self.fps, self._index = folder, fps, 0

    @property
    def description(self) -> str:
        """The folder."""
        return str(self.folder)

    def read(self) -> Frame | None:
        """The next image, ``None`` after the last."""
        if self._index >= len(self.paths):
            return None
        bgr = cv2.imread(str(self.paths[self._index]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraFailedError(f"cannot read {self.paths[self._index]}")
        frame = Frame(np.ascontiguousarray(bgr[:, :, ::-1]), self._index, self._index / self.fps)
        self._index += 1
        return frame

    def close(self) -> None:
        """Nothing held."""


def open_source(spec: str) -> OpenCvSource | FolderSource:
    """The source ``spec`` names: a folder of images, else a file, device or stream."""
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path)
    return OpenCvSource(spec)
