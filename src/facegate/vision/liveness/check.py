"""The fused liveness check: the texture and motion cues behind the ``LivenessCheck`` port.

Which cues run is configured, not guessed: a check built with a texture model runs the
texture cue on the window's first frame; one built with motion settings runs the
multi-frame cue on the whole window (and fails closed on a window too short for it).
The cues are fused by the AND rule of :mod:`facegate.domain.liveness`. Second-sensor
frames (near-infrared, depth) go to :class:`facegate.ports.SensorCue`s given at
construction; none ships yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter

import numpy as np

from facegate.domain.liveness import (
    CueResult,
    FaceFrame,
    LivenessVerdict,
    SensorFrame,
    failed_verdict,
    fuse,
)
from facegate.ports import SensorCue
from facegate.vision.liveness.features import face_crop, texture_features
from facegate.vision.liveness.motion import MotionSettings, motion_cue
from facegate.vision.liveness.texture_model import TextureModel

TEXTURE_CUE = "texture"


def texture_cue(frame: FaceFrame, model: TextureModel) -> CueResult:
    """The texture classifier's score on the face of ``frame``; never raises."""
    try:
        features = texture_features(face_crop(frame.image, frame.box), model.groups)
        score = float(model.scores(features[None, :])[0])
    except ValueError as err:
        return CueResult(TEXTURE_CUE, 0.0, model.threshold, {}, f"texture: {err}")
    return CueResult(TEXTURE_CUE, score, model.threshold)


class FusedLivenessCheck:
    """A :class:`facegate.ports.LivenessCheck` fusing the configured cues (fail closed).

    Args:
        texture: the trained texture model, or ``None`` to run without the texture cue.
        motion: settings of the multi-frame cue, or ``None`` to run without it.
        sensor_cues: cues of a second sensor (the NIR/depth hook), run when frames of
            their kind are given.
    """

    def __init__(
        self,
        texture: TextureModel | None = None,
        motion: MotionSettings | None = None,
        sensor_cues: Sequence[SensorCue] = (),
    ) -> None:
        self._texture = texture
        self._motion = motion
        self._sensor_cues = tuple(sensor_cues)

    @property
    def cue_names(self) -> tuple[str, ...]:
        """The cues this check runs, in order."""
        names = [TEXTURE_CUE] if self._texture is not None else []
        names += ["motion"] if self._motion is not None else []
        return (*names, *(cue.name for cue in self._sensor_cues))

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        """The fused verdict on ``frames`` of one face; any failure is not live."""
        started = perf_counter()
        if not frames:
            return failed_verdict("no frame to check")
        try:
            cues = self._run(frames, second_sensor)
        except Exception as err:  # fail closed at the port boundary, keeping the cause
            return failed_verdict(f"liveness check failed: {type(err).__name__}: {err}")
        note = f"cues: {', '.join(self.cue_names) or 'none'}"
        verdict = fuse(cues, note)
        elapsed_ms = (perf_counter() - started) * 1000.0
        return LivenessVerdict(
            verdict.live,
            verdict.score,
            verdict.cues,
            verdict.reason,
            f"{verdict.note} ({elapsed_ms:.0f} ms)",
        )

    def _run(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame]
    ) -> list[CueResult]:
        cues = []
        if self._texture is not None:
            cues.append(texture_cue(frames[0], self._texture))
        if self._motion is not None:
            cues.append(motion_cue(frames, self._motion))
        for cue in self._sensor_cues:
            mine = [f for f in second_sensor if f.kind == cue.kind]
            if not mine:
                cues.append(CueResult(cue.name, 0.0, 1.0, {}, f"no {cue.kind} frame given"))
            else:
                cues.append(cue.measure(frames, mine))
        if not np.all([np.isfinite(c.score) for c in cues]):
            raise ValueError("a cue returned a score that is not a finite number")
        return cues
