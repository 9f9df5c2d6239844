"""The fused liveness check: the texture and motion cues behind the ``LivenessCheck`` port.

Which cues run is configured, not guessed: a check built with frame-cue weights runs the
single-frame screen-and-print cue on every frame of the window and votes
(:mod:`facegate.vision.liveness.frame_vote`: live when enough of the presentation's frames
so far look live; without a vote, on the window's newest frame only); one built with a texture
model runs the texture cue on the window's first frame; one built with motion settings
runs the multi-frame cue on the whole window (and fails closed on a window too short for
it).
The cues are fused by the AND rule of :mod:`facegate.domain.liveness`. Second-sensor
frames (near-infrared, depth) go to :class:`facegate.ports.SensorCue`s given at
construction (:class:`facegate.vision.liveness.nir.NirCue`); they read the frames
given to :meth:`FusedLivenessCheck.check`, or else those paired with the window's newest
colour frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from facegate.domain.liveness import (
    CueResult,
    FaceFrame,
    LivenessSchedule,
    LivenessVerdict,
    SensorFrame,
    failed_verdict,
    fuse,
)
from facegate.ports import FramePreparer, LivenessCheck, SensorCue
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.features import face_crop, scene_features, texture_features
from facegate.vision.liveness.frame_cue import CUE_NAME as FRAME_CUE
from facegate.vision.liveness.frame_cue import FrameCueWeights, frame_cue
from facegate.vision.liveness.frame_vote import SHIPPED_VOTE, FrameVote, frame_vote, tallies
from facegate.vision.liveness.motion import MotionSettings, motion_cue
from facegate.vision.liveness.motion_steps import steps
from facegate.vision.liveness.texture_model import TextureModel

TEXTURE_CUE = "texture"


def texture_cue(frame: FaceFrame, model: TextureModel) -> CueResult:
    """The texture classifier's score on the face of ``frame``; never raises."""
    try:
        scene = scene_features(frame.image, frame.box) if "scene" in model.groups else None
        features = texture_features(face_crop(frame.image, frame.box), model.groups, scene)
        score = float(model.scores(features[None, :])[0])
    except ValueError as err:
        return CueResult(TEXTURE_CUE, 0.0, model.threshold, {}, f"texture: {err}")
    return CueResult(TEXTURE_CUE, score, model.threshold)


class FusedLivenessCheck:
    """A :class:`facegate.ports.LivenessCheck` fusing the configured cues (fail closed).

    Args:
        texture: the trained texture model, or ``None`` to run without the texture cue.
        motion: settings of the multi-frame cue, or ``None`` to run without it.
        mesh: FaceMesh for the multi-frame cue's blink and speech measures (without it
            that cue measures parallax and eye change only).
        sensor_cues: cues of a second sensor (the NIR/depth hook), run when frames of
            their kind are given.
        frame: weights of the single-frame screen-and-print cue, or ``None`` to run
            without it.
        frame_vote: how that cue judges a presentation: the share of its frames so far
            that must look live (each frame scored once, kept with it); ``None``: the
            window's newest frame alone decides (one photo; the rule before the vote).
    """

    def __init__(
        self,
        texture: TextureModel | None = None,
        motion: MotionSettings | None = None,
        sensor_cues: Sequence[SensorCue] = (),
        mesh: FaceMeshModel | None = None,
        frame: FrameCueWeights | None = None,
        frame_vote: FrameVote | None = SHIPPED_VOTE,
    ) -> None:
        self._frame = frame
        self._frame_vote = frame_vote
        self._texture = texture
        self._motion = motion
        self._mesh = mesh
        self._sensor_cues = tuple(sensor_cues)

    @property
    def cue_names(self) -> tuple[str, ...]:
        """The cues this check runs, in order."""
        names = [FRAME_CUE] if self._frame is not None else []
        names += [TEXTURE_CUE] if self._texture is not None else []
        names += ["motion"] if self._motion is not None else []
        return (*names, *(cue.name for cue in self._sensor_cues))

    def prepare(self, frames: Sequence[FaceFrame]) -> None:
        """Measure the new frames now (see :class:`FramePreparer`).

        The multi-frame cue's steps and the frame vote's scores, so that a check measures
        its newest frame only.
        """
        # A failure is left for the check, which fails closed.
        if self._frame is not None and self._frame_vote is not None:
            with contextlib.suppress(Exception):
                tallies(frames, self._frame)
        if self._motion is not None:
            with contextlib.suppress(Exception):
                steps(frames, self._motion, self._mesh)

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
        if self._frame is not None and self._frame_vote is not None:
            cues.append(frame_vote(frames, self._frame, self._frame_vote))
        elif self._frame is not None:
            cues.append(frame_cue(frames[-1], self._frame))
        if self._texture is not None:
            cues.append(texture_cue(frames[0], self._texture))
        if self._motion is not None:
            cues.append(motion_cue(frames, self._motion, self._mesh))
        paired = tuple(second_sensor) or frames[-1].sensor
        for cue in self._sensor_cues:
            mine = [f for f in paired if f.kind == cue.kind]
            if not mine:
                cues.append(CueResult(cue.name, 0.0, 1.0, {}, f"no {cue.kind} frame given"))
            else:
                cues.append(cue.measure(frames, mine))
        if not np.all([np.isfinite(c.score) for c in cues]):
            raise ValueError("a cue returned a score that is not a finite number")
        return cues


@dataclass(frozen=True, slots=True)
class ScheduledVerdict:
    """How a face's frames ended under a :class:`LivenessSchedule`.

    Attributes:
        verdict: the first live check's verdict, or the last check's when none was live.
        frames_seen: frames of the face seen when it was decided (or when it ended).
        windows: checks run.
        presentations: presentations run (a refused one is followed by a new one).
        elapsed_s: seconds from the face's first frame to the frame it was decided on
            (or its last), on the frames' clock.
    """

    verdict: LivenessVerdict
    frames_seen: int
    windows: int
    presentations: int = 1
    elapsed_s: float = 0.0


def run_presentations(
    check: LivenessCheck,
    frames: Iterable[FaceFrame],
    schedule: LivenessSchedule,
    fps: float,
    most: int | None = None,
) -> ScheduledVerdict:
    """Run ``check`` on one face's ``frames`` (oldest first, read lazily) as the gate does.

    Frame ``n`` is seen at ``n / fps`` seconds. The check runs whenever the schedule says
    one is due, on the schedule's window; the first live check ends it. A presentation
    with no live check by ``schedule.max_s`` is refused and the next frames start a new
    one, up to ``most`` presentations (``None``: until the frames end). Frames that end
    before a presentation could be judged leave it not live.
    """
    if fps <= 0.0:
        raise ValueError("fps must be positive")
    seen = schedule.presentation()
    verdict = failed_verdict("no liveness window: too few frames")
    windows, presentations, count = 0, 0, 0
    for count, frame in enumerate(frames, start=1):
        if not len(seen):
            presentations += 1
        seen.add((count - 1) / fps, frame)
        if not schedule.due(seen):
            if isinstance(check, FramePreparer):
                check.prepare(schedule.window(seen))
            continue
        verdict = check.check(schedule.window(seen))
        seen.checked()
        windows += 1
        if verdict.live:
            break
        if schedule.over(seen):
            seen.clear()
            if most is not None and presentations >= most:
                break
    return ScheduledVerdict(verdict, count, windows, presentations, max(count - 1, 0) / fps)


def run_schedule(
    check: LivenessCheck, frames: Sequence[FaceFrame], schedule: LivenessSchedule, fps: float
) -> ScheduledVerdict:
    """One presentation of ``frames`` (see :func:`run_presentations`): live or refused."""
    return run_presentations(check, frames, schedule, fps, most=1)
