"""One model instance per thread, for servers that run face work on several threads.

dlib's detectors and shape predictors and the TFLite interpreter behind FaceMesh keep
state in the object a call runs on: two threads calling one instance at once corrupt
the heap (``free(): corrupted unsorted chunks``, segfaults, seen with two kiosk frame
workers on one shared engine). So a process that decides frames on a pool of threads
gives each thread its own engine and liveness check, built on that thread's first use
and kept for the thread's life. With ``workers`` threads that is ``workers`` copies of
the models (about 100 MB each with the ONNX descriptor).

:class:`PerThread` holds the instances; :class:`PerThreadFaceWork` and
:class:`PerThreadLiveness` are stand-ins that a long-lived object (a door's perception)
can keep, each call going to the calling thread's own instance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from facegate.ports.liveness import FramePreparer

if TYPE_CHECKING:
    from facegate.domain.liveness import FaceFrame, LivenessVerdict, SensorFrame
    from facegate.gate.perception import Detector, Embedder, FaceWork
    from facegate.ports import LivenessCheck
    from facegate.vision.detection import Detection
    from facegate.vision.engine import Face
    from facegate.vision.images import RgbImage

T = TypeVar("T")


class PerThread(Generic[T]):
    """The calling thread's own instance of what ``build`` makes (built on first use).

    Args:
        build: makes one instance (loads models); called once per thread.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._local = threading.local()

    def __call__(self) -> T:
        """This thread's instance."""
        try:
            found: T = self._local.instance
        except AttributeError:
            found = self._local.instance = self._build()
        return found


class PerThreadFaceWork:
    """A face engine whose every call runs on the calling thread's own engine."""

    def __init__(self, engines: PerThread[FaceWork]) -> None:
        self._engines = engines

    @property
    def detector(self) -> Detector:
        """This thread's face detector."""
        return self._engines().detector

    @property
    def embedder(self) -> Embedder:
        """This thread's descriptor model."""
        return self._engines().embedder

    def measure(
        self, image: RgbImage, detections: Sequence[Detection], describe: bool = False
    ) -> list[Face]:
        """Landmarks, chip, quality (and descriptors), on this thread's engine."""
        return self._engines().measure(image, detections, describe)


class PerThreadLiveness:
    """A liveness check whose every call runs on the calling thread's own check."""

    def __init__(self, checks: PerThread[LivenessCheck], cue_names: tuple[str, ...]) -> None:
        self._checks, self._cue_names = checks, cue_names

    @property
    def cue_names(self) -> tuple[str, ...]:
        """The cues the check runs."""
        return self._cue_names

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        """The verdict of this thread's check on ``frames``."""
        return self._checks().check(frames, second_sensor)

    def prepare(self, frames: Sequence[FaceFrame]) -> None:
        """This thread's check measures ``frames`` ahead (when it is incremental)."""
        check = self._checks()
        if isinstance(check, FramePreparer):
            check.prepare(frames)
