"""Ports of presentation-attack detection: the liveness check and sensor cues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from facegate.domain.liveness import CueResult, FaceFrame, LivenessVerdict, SensorFrame


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


@runtime_checkable
class FramePreparer(Protocol):
    """A liveness check that measures each frame once as it comes (incremental cues).

    The gate calls :meth:`prepare` with the frames the next check will see (oldest first)
    on every frame of a presentation for which no check is due, so that the first check
    does not measure all the frames seen so far at once. Nothing is decided; failures
    are left for the check (fail closed there).
    """

    def prepare(self, frames: Sequence[FaceFrame]) -> None:
        """Measure the frames of ``frames`` not measured yet; never raises."""
        ...


class SensorCue(Protocol):
    """A liveness cue on a second sensor's frames (near-infrared or depth): the hook.

    A camera with such a sensor gives its frames with the colour frames; a skin-reflectance
    (NIR) or face-relief (depth) cue implementing this joins the fused decision
    (:class:`facegate.vision.liveness.nir.NirCue` ships).
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
