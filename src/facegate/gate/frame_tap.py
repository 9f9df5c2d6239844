"""The gate's latest camera frame, for a frame an administrator asks of the gate.

:meth:`FrameTap.wrap` wraps the gate's frame source and keeps a reference to the last frame
read (the frame loop holds it anyway; nothing is copied or written). When the upstream's
last snapshot answer asked for a frame (``frame_wanted``, see
:mod:`facegate.gate.http_upstream`), :meth:`FrameTap.answer` JPEG-encodes that frame in
memory and sends it; the sync thread calls it about once a second.
"""

from __future__ import annotations

import logging
import threading

import cv2

from facegate.domain.errors import UpstreamUnavailableError
from facegate.ports import Frame, FrameSource

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
"""JPEG quality of a frame sent when asked (0-100)."""


class FrameTap:
    """The latest frame of the gate's source (see :meth:`wrap`), sent when asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Frame | None = None

    def see(self, frame: Frame | None) -> None:
        """Keep ``frame`` as the latest (``None``: forget it)."""
        with self._lock:
            self._latest = frame

    def wrap(self, source: FrameSource) -> FrameSource:
        """``source``, each frame it reads kept as the latest."""
        return _Tapped(source, self)

    def latest(self) -> Frame | None:
        """The latest frame read; ``None`` before the first."""
        with self._lock:
            return self._latest

    def jpeg(self) -> bytes | None:
        """The latest frame as JPEG bytes; ``None`` before the first frame."""
        frame = self.latest()
        if frame is None:
            return None
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        done, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        return encoded.tobytes() if done else None

    def answer(self, upstream: object) -> bool:
        """Send the latest frame when ``upstream`` was asked for one; ``True`` when sent."""
        if not getattr(upstream, "frame_wanted", False):
            return False
        data = self.jpeg()
        send = getattr(upstream, "send_frame", None)
        if data is None or send is None:
            return False
        try:
            send(data)
        except UpstreamUnavailableError as err:
            log.warning("asked frame not sent: %s", err)
            return False
        return True


class _Tapped:
    """A frame source whose frames a :class:`FrameTap` sees."""

    def __init__(self, source: FrameSource, tap: FrameTap) -> None:
        self.source, self.tap = source, tap

    @property
    def description(self) -> str:
        """The wrapped source's description."""
        return self.source.description

    def read(self) -> Frame | None:
        """The next frame of the source (kept as the latest)."""
        frame = self.source.read()
        if frame is not None:
            self.tap.see(frame)
        return frame

    def close(self) -> None:
        """Close the source and forget the latest frame."""
        self.tap.see(None)
        self.source.close()
