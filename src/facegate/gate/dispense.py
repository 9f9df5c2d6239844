"""The rationed dispenser (``facegate dispense``): a quota per face, without enrolment.

One camera in front of a dispenser; "``items`` items per face per ``window_s``". The
dispenser knows nobody: it has no site database, no gallery, no key. Each frame goes
through the door's :class:`~facegate.gate.perception.Perception` (detection, tracking,
quality gate, liveness, one descriptor per track, the primary face only: a second
face at least half its size is ``multiple_faces``); a face with a live descriptor is
looked up in :class:`~facegate.gate.dispense_quota.FaceQuota`, the descriptors of faces
served within the window, held in memory only:

- under its quota: the actuator gets one ``unlock`` command (one item), the face is
  remembered until its window ends, and the item counter (the only record) counts one;
- at its quota: refused with ``quota_reached`` and the seconds until it may come back;
  the actuator is not driven;
- no live face (liveness refused, a still photo), poor quality, two faces: nothing given.

Fails closed: an exception, a full memory or an actuator that does not acknowledge
gives nothing (``internal_error``, ``memory_full``, ``actuator_failed``). Log lines carry
counts and times only, never a descriptor or a picture.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from facegate.domain.clock import Clock
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.policy import Decision, deny
from facegate.domain.reasons import Reason
from facegate.gate.dispense_quota import FaceQuota, ItemCounter, QuotaMemoryFullError
from facegate.gate.perception import FaceWork, Observation, Perception, PerceptionOptions
from facegate.gate.tracker import Track
from facegate.ports import ActuatorCommand, DoorActuator, Frame, LivenessCheck

log = logging.getLogger(__name__)

DispenseReason = Literal[
    "given",
    "quota_reached",
    "spoof_suspected",
    "low_quality",
    "multiple_faces",
    "memory_full",
    "actuator_failed",
    "internal_error",
]

PULSE_S = 1.0
"""How long the dispenser's output is driven for one item (seconds)."""


@dataclass(frozen=True, slots=True)
class Dispensed:
    """One decision of the dispenser.

    Attributes:
        frame_index: the frame it was made on.
        track_id: the face's track (0 for a failure not tied to a face).
        given: whether an item was given.
        reason: why (see :data:`DispenseReason`).
        retry_after_s: with ``quota_reached``, whole seconds until the face may have
            another item (rounded up); ``None`` otherwise.
        items_total: items given since the counter file began.
    """

    frame_index: int
    track_id: int
    given: bool
    reason: DispenseReason
    retry_after_s: int | None
    items_total: int


class Dispenser:
    """The dispenser's frame loop (see the module's docstring).

    Args:
        engine: the face engine.
        liveness: the liveness check, ``None`` for none.
        options: perception's tunables (liveness schedule, decide-after frames).
        actuator: drives the dispenser (one ``unlock`` command per item).
        quota: the memory of faces served.
        counter: the item counter.
        clock: the time source of the quota window and the counter.
        pulse_s: see :data:`PULSE_S` (seconds).
        closers: more to release on :meth:`close` (an OSDP bus).
    """

    def __init__(
        self,
        engine: FaceWork,
        liveness: LivenessCheck | None,
        options: PerceptionOptions,
        actuator: DoorActuator,
        quota: FaceQuota,
        counter: ItemCounter,
        clock: Clock,
        pulse_s: float = PULSE_S,
        closers: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.perception = Perception(engine, liveness, options)
        self.actuator, self.quota, self.counter = actuator, quota, counter
        self.clock, self.pulse_s, self.closers = clock, pulse_s, list(closers)
        self._failing = False

    def process(self, frame: Frame) -> list[Dispensed]:
        """Run one frame; returns the decision it completed, if any. Never raises."""
        try:
            made = self._frame(frame)
        except Exception as error:  # fail closed: nothing given, the loop goes on
            if self._failing:
                return []
            self._failing = True
            log.error("dispenser frame failed: %s", type(error).__name__)
            return [self._result(frame, 0, "internal_error")]
        self._failing = False
        return [] if made is None else [made]

    def camera_failed(self, note: str) -> Dispensed | None:
        """A camera failure: logged (nothing given meanwhile); no decision to report."""
        log.warning("dispenser camera failed: %s", note)
        return None

    def close(self) -> None:
        """Wipe every remembered face and release the actuator."""
        self.quota.wipe()
        for track in self.perception.tracker.tracks.values():
            _forget(track)
        self.actuator.close()
        for close in self.closers:
            close()

    def _frame(self, frame: Frame) -> Dispensed | None:
        now_s = self.clock.now().timestamp()
        expired = self.quota.expire(now_s)
        if expired:
            log.info(
                "quota window ended for %d items; %d faces remembered", expired, len(self.quota)
            )
        seen = self.perception.observe(frame, self.quota.threshold)
        for track in self.perception.tracker.take_ended():
            _forget(track)
        if seen is None or (seen.evidence is None and seen.refusal is None):
            return None
        track = seen.track
        if track.decision is not None and track.decision.granted:
            return None  # one item per presence
        return self._decide(seen, track, frame, now_s)

    def _decide(self, seen: Observation, track: Track, frame: Frame, now_s: float) -> Dispensed:
        refusal = seen.refusal or (seen.evidence.refusal if seen.evidence else None)
        descriptor = seen.evidence.descriptor if seen.evidence else None
        if refusal is not None or descriptor is None:
            reason = refusal or Reason.LOW_QUALITY
            track.decision = deny(reason)
            return self._result(frame, track.id, _refusal_name(reason))
        left = self.quota.seconds_left(descriptor, now_s)
        if left is not None:
            track.decision = deny(Reason.PASS_USED_UP)
            log.info("face at its quota: may come back in %d s", math.ceil(left))
            return self._result(frame, track.id, "quota_reached", math.ceil(left))
        try:
            row = self.quota.give(descriptor, now_s)
        except QuotaMemoryFullError:
            track.decision = deny(Reason.INTERNAL_ERROR)
            log.error("quota memory full: %d faces within their window", len(self.quota))
            return self._result(frame, track.id, "memory_full")
        try:
            self.actuator.send(ActuatorCommand(uuid.uuid4().hex, "unlock", self.pulse_s))
        except ActuatorFailedError:
            self.quota.release(row)
            track.decision = deny(Reason.ACTUATOR_FAILED)
            log.error("dispenser did not acknowledge; nothing given")
            return self._result(frame, track.id, "actuator_failed")
        track.decision = Decision(True, Reason.GRANTED)
        self.counter.add(self.clock.now())
        log.info("item given; %d items in total", self.counter.total)
        return self._result(frame, track.id, "given")

    def _result(
        self, frame: Frame, track_id: int, reason: DispenseReason, retry_after_s: int | None = None
    ) -> Dispensed:
        given = reason == "given"
        return Dispensed(frame.index, track_id, given, reason, retry_after_s, self.counter.total)


def _refusal_name(reason: Reason) -> DispenseReason:
    if reason is Reason.SPOOF_SUSPECTED:
        return "spoof_suspected"
    if reason is Reason.MULTIPLE_FACES:
        return "multiple_faces"
    return "low_quality"


def _forget(track: Track) -> None:
    """Overwrite and drop the descriptor a track held (its face left the view)."""
    if track.descriptor is not None:
        np.asarray(track.descriptor).fill(0.0)
        track.descriptor = None
    track.frames.clear()
