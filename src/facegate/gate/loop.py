"""The frame loop: detect, track, quality, liveness, identify, decide, actuate, record.

One :meth:`GateLoop.process` call per frame. Only the primary face (the largest near the
centre) is decided; a second face at least half its size is ``multiple_faces`` (no
tailgating on one decision). A track is embedded when new or when its face quality
improved; it is decided once it has a descriptor and, with a liveness check, once a
window of its frames shows life (:class:`facegate.domain.liveness.LivenessSchedule`: a
window at each checkpoint; a presentation with no live window up to the schedule's last
frame is a ``spoof_suspected`` deny, and the next frames are a new presentation). A deny
may turn into a grant when a better frame comes, a grant actuates once per track. Every
decision goes to the outbox.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from facegate.domain.clock import Clock
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.faces import primary_face_index
from facegate.domain.gate import GateEvent, GateEventKind, GateSnapshot, decision_event
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.domain.policy import Decision, FaceEvidence, Presentation, decide, deny
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialMode
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.tracker import IouTracker, Track
from facegate.ports import ActuatorCommand, DoorActuator, Frame, LivenessCheck
from facegate.vision.detection import Detection
from facegate.vision.engine import Face, FaceEngine


@dataclass(frozen=True, slots=True)
class Outcome:
    """One decision the loop made.

    Attributes:
        decision: the decision (after actuation: ``actuator_failed`` if the lock failed).
        track_id: the face track it was for (0 for a camera failure).
        frame_index: the frame that completed it.
        latency_ms: from that frame's arrival to the actuator command (ms).
        time_to_decision_ms: from the track's first frame to the command, source time
            between the frames plus ``latency_ms`` (ms).
        event_key: the outbox event's key.
    """

    decision: Decision
    track_id: int
    frame_index: int
    latency_ms: float
    time_to_decision_ms: float
    event_key: str


@dataclass(frozen=True, slots=True)
class LoopOptions:
    """Tunables of the loop (from :class:`facegate.config.GateSettings`)."""

    gate_id: str
    unlock_duration_s: float
    decide_after_frames: int
    liveness_schedule: LivenessSchedule
    card_window_s: float


class GateLoop:
    """The gate's frame pipeline for one door or lift.

    Args:
        engine: the face engine (detector, aligner, embedder, quality gate).
        snapshot: returns the snapshot to decide from (the latest one held).
        actuator: the door or lift.
        outbox: where events go.
        liveness: the liveness check, ``None`` for none.
        clock: the time source.
        options: tunables.
    """

    def __init__(
        self,
        engine: FaceEngine,
        snapshot: Callable[[], GateSnapshot],
        actuator: DoorActuator,
        outbox: SqliteOutbox,
        liveness: LivenessCheck | None,
        clock: Clock,
        options: LoopOptions,
    ) -> None:
        self.engine, self.snapshot, self.actuator = engine, snapshot, actuator
        self.outbox, self.liveness, self.clock, self.options = outbox, liveness, clock, options
        self.tracker = IouTracker(window=options.liveness_schedule.window_frames)
        self._card: tuple[str, float] | None = None
        self._camera_down = False
        self._version: str | None = None

    def present_card(self, number: str) -> None:
        """A card was read; on an ``all_of`` door it waits ``card_window_s`` for the face."""
        self._card = (number, time.monotonic() + self.options.card_window_s)

    def camera_failed(self, note: str) -> Outcome | None:
        """Record one ``camera_failed`` event per outage (``None`` while already down)."""
        if self._camera_down:
            return None
        self._camera_down = True
        return self._record(deny(Reason.CAMERA_FAILED), 0, -1, time.perf_counter(), 0.0, note)

    def process(self, frame: Frame) -> list[Outcome]:
        """Run one frame through the pipeline; returns the decisions it completed."""
        arrived = time.perf_counter()
        self._camera_down = False
        self._recheck_grants_on_new_data()
        detections = self.engine.detector.detect(frame.image)
        boxes = [d.box for d in detections]
        tracks = self.tracker.update(boxes, frame.index, frame.timestamp_s)
        height, width = frame.image.shape[:2]
        primary = primary_face_index(boxes, width, height)
        if primary is None:
            return []
        track = tracks[primary]
        if track.decision is not None:
            same = self._same_person(track, frame, detections[primary])
            if track.decision.granted and same is True:
                return []
            if (track.decision.granted and same is None) or same is False:
                _restart(track, frame)
        big = [b for b in boxes if b.area * 2 >= boxes[primary].area]
        if len(big) > 1:
            return self._conclude(track, deny(Reason.MULTIPLE_FACES), frame, arrived)
        face = self.engine.measure(frame.image, [detections[primary]])[0]
        track.frames.append(FaceFrame(frame.image, face.box, face.landmarks))
        decision = self._decide_track(track, face, frame)
        return [] if decision is None else self._conclude(track, decision, frame, arrived)

    def _same_person(self, track: Track, frame: Frame, detection: Detection) -> bool | None:
        """Whether the face now in a decided track is still the person it was decided for.

        The tracker follows boxes by position only, so a stranger who steps into the spot
        a resident just left (or the next kiosk photo) would otherwise inherit the
        resident's grant, and a resident a stranger's refusal. The face is described
        again and compared with the track's descriptor at the match threshold.

        Returns:
            ``True`` or ``False``, or ``None`` when the face cannot be described well
            enough to tell (a granted track then counts it as someone else).
        """
        face = self.engine.measure(frame.image, [detection], describe=True)[0]
        if track.descriptor is None or face.descriptor is None or not face.verdict.passed:
            return None
        distance = float(np.linalg.norm(face.descriptor - track.descriptor))
        return distance <= self.snapshot().access.match.threshold

    def _recheck_grants_on_new_data(self) -> None:
        """When the site's data changed, faces already granted in view are checked again.

        Otherwise a resident whose consent was withdrawn (or whose rule ended) while in
        view would keep the earlier grant for as long as they stay there. A grant that
        still holds is kept as it was (no second unlock); one that no longer holds becomes
        the new denial. Face-and-card doors are left alone: the card is not presented again.
        """
        snapshot = self.snapshot()
        if snapshot.version == self._version:
            return
        self._version = snapshot.version
        if snapshot.target.mode is CredentialMode.ALL_OF:
            return
        for track in self.tracker.tracks.values():
            if track.decision is None or not track.decision.granted or track.descriptor is None:
                continue
            again = self._policy(FaceEvidence(descriptor=track.descriptor))
            if not again.granted:
                track.decision = again

    def _decide_track(self, track: Track, face: Face, frame: Frame) -> Decision | None:
        liveness = self._liveness_state(track)
        if liveness == "refused":
            return self._policy(FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
        seen = frame.index - track.first_index + 1
        if not face.verdict.passed:
            # While the liveness check still watches, a poor frame is no reason to decide.
            late = seen >= self.options.decide_after_frames and track.decision is None
            return deny(Reason.LOW_QUALITY) if late and liveness == "live" else None
        # Re-embed only for a clearly better face: wider and sharper by 20 %.
        score = face.quality.face_width_px * min(face.quality.sharpness, 200.0)
        improved = track.descriptor is None or score > track.best_quality * 1.2
        if improved:
            track.descriptor = self.engine.embedder.embed([face.chip])[0]
            track.best_quality = score
        if liveness == "pending" or (track.decision is not None and not improved):
            return None
        return self._policy(FaceEvidence(descriptor=track.descriptor))

    def _liveness_state(self, track: Track) -> Literal["live", "pending", "refused"]:
        """``live``, ``pending`` (no live window yet) or ``refused`` (presentation over).

        Counts the frame just added to ``track.frames`` and checks the newest window at
        the schedule's checkpoints. When the face turns out live, an earlier decision
        (a ``spoof_suspected`` deny) is dropped so that the next good frame decides.
        """
        if self.liveness is None or track.live:
            return "live"
        schedule = self.options.liveness_schedule
        track.liveness_seen += 1
        if not schedule.is_checkpoint(track.liveness_seen):
            return "pending"
        if self.liveness.check(list(track.frames)).live:
            track.live, track.decision = True, None
            return "live"
        if track.liveness_seen < schedule.max_frames:
            return "pending"
        track.liveness_seen = 0
        track.frames.clear()
        return "refused"

    def _policy(self, evidence: FaceEvidence) -> Decision:
        snapshot = self.snapshot()
        card = None
        if self._card is not None and time.monotonic() <= self._card[1]:
            card = self._card[0]
        presented = Presentation(face=evidence, card_number=card)
        decision = decide(presented, snapshot.target, snapshot.access, self.clock.now())
        if decision.granted and card is not None:
            self._card = None
        return decision

    def _conclude(
        self, track: Track, decision: Decision, frame: Frame, arrived: float
    ) -> list[Outcome]:
        if decision.reason.value in track.reported and not decision.granted:
            track.decision = decision
            return []
        track.decision = decision
        track.reported.add(decision.reason.value)
        ttd_base_ms = (frame.timestamp_s - track.first_time_s) * 1000.0
        return [self._record(decision, track.id, frame.index, arrived, ttd_base_ms, "")]

    def _record(
        self,
        decision: Decision,
        track_id: int,
        frame_index: int,
        arrived: float,
        ttd_base_ms: float,
        note: str,
    ) -> Outcome:
        latency_ms = (time.perf_counter() - arrived) * 1000.0
        if decision.granted:
            decision = self._actuate(decision)
        snapshot = self.snapshot()
        key = str(uuid.uuid4())
        event = decision_event(
            key, self.options.gate_id, snapshot.target.id, self.clock.now(), decision
        )
        scores = {**event.scores, "latency_ms": round(latency_ms, 3)}
        self.outbox.put(_with(event, scores, note))
        return Outcome(decision, track_id, frame_index, latency_ms, ttd_base_ms + latency_ms, key)

    def _actuate(self, decision: Decision) -> Decision:
        is_lift = self.snapshot().target.is_lift
        command = ActuatorCommand(
            str(uuid.uuid4()),
            "floors" if is_lift else "unlock",
            self.options.unlock_duration_s,
            decision.floors,
        )
        try:
            self.actuator.send(command)
        except ActuatorFailedError:
            return deny(Reason.ACTUATOR_FAILED, decision.person_id, scores=decision.scores)
        return decision


def _with(event: GateEvent, scores: dict[str, float], note: str) -> GateEvent:
    return GateEvent(
        event.key,
        event.gate_id,
        GateEventKind.DECISION,
        event.door_id,
        event.occurred_at,
        event.granted,
        event.reason,
        event.person_id,
        event.pass_id,
        event.floors,
        scores,
        note,
    )


def _restart(track: Track, frame: Frame) -> None:
    """Treat the face in ``track`` as a new arrival from ``frame`` on (nothing carried over)."""
    track.decision = None
    track.descriptor = None
    track.best_quality = float("-inf")
    track.reported.clear()
    track.frames.clear()
    track.live, track.liveness_seen = False, 0
    track.first_index = frame.index
    track.first_time_s = frame.timestamp_s
