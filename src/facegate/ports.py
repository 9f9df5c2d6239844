"""The ports services depend on, as ``typing.Protocol``s; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from facegate.domain.liveness import CueResult, FaceFrame, LivenessVerdict, SensorFrame
from facegate.domain.matching import FloatArray


class PhotoDescriber(Protocol):
    """Turns a photo of one person into the descriptor of its primary face."""

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model."""
        ...

    def describe(self, path: Path) -> FloatArray:
        """The primary face's 128-D descriptor.

        Raises:
            BadInputError: unreadable image, no face, or (if the gate applies) low quality.
        """
        ...


class Progress(Protocol):
    """Receives progress of a long job: ``advance`` once per finished item."""

    def start(self, total: int, description: str) -> None:
        """A job of ``total`` items begins."""
        ...

    def advance(self) -> None:
        """One item is done."""
        ...


class Embedder(Protocol):
    """Turns aligned 150x150 RGB face chips into 128-D descriptors (one backend each)."""

    @property
    def backend(self) -> str:
        """The backend's name (``dlib``, ``onnx``)."""
        ...

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model (templates of different models never mix)."""
        ...

    def embed(self, chips: Sequence[npt.NDArray[np.uint8]]) -> FloatArray:
        """``(len(chips), 128)`` float32 descriptors, computed as one batch."""
        ...


class LivenessCheck(Protocol):
    """Decides whether the face in front of the camera is a live person (PAD).

    The gate calls :meth:`check` once per face track, with the track's recent frames
    (oldest first) before a face may open a door; a verdict that is not live is a
    ``spoof_suspected`` deny. Implementations fail closed: any error inside the check
    is a not-live verdict with a note, never an exception and never a pass.
    """

    @property
    def cue_names(self) -> tuple[str, ...]:
        """The cues this check runs (e.g. ``("texture", "motion")``)."""
        ...

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        """The fused verdict on ``frames`` of one face.

        Args:
            frames: one or more frames of the same face, oldest first.
            second_sensor: frames of a near-infrared or depth sensor taken with
                ``frames`` (the hook for dual-sensor cameras; empty when there is none).
        """
        ...


class SensorCue(Protocol):
    """A liveness cue on a second sensor's frames (near-infrared or depth): the hook.

    A camera with such a sensor gives its frames with the colour frames; a skin-reflectance
    (NIR) or face-relief (depth) cue implementing this joins the fused decision. None
    ships yet.
    """

    @property
    def name(self) -> str:
        """The cue's name in verdicts (e.g. ``"nir"``)."""
        ...

    @property
    def kind(self) -> str:
        """The :class:`SensorFrame` kind it reads (``"nir"`` or ``"depth"``)."""
        ...

    def measure(self, frames: Sequence[FaceFrame], sensor: Sequence[SensorFrame]) -> CueResult:
        """The cue's result on colour ``frames`` and their ``sensor`` frames."""
        ...
