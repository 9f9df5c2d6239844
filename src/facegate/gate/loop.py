"""The frame loop of one door: :class:`Perception` then the door's :class:`DoorController`.

One :meth:`GateLoop.process` call per frame: perception turns the frame into an
:class:`facegate.gate.perception.Observation` of the primary face, the controller decides
on it (policy, actuator, event, alarms). A deny may turn into a grant when a better frame
comes; a grant actuates once per presence. An exception anywhere in a frame's work is a
deny ``internal_error`` with its event (one per run of failures), never a crash of the
loop. The edge gate runs this; the site server runs the same two parts per door
(:mod:`facegate.gate.server_side`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from facegate.domain.clock import Clock
from facegate.domain.gate import GateEventKind, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.gate.controller import (
    AlarmSink,
    ControllerOptions,
    DoorController,
    EventSink,
    Outcome,
)
from facegate.gate.perception import FaceWork, Observation, Perception, PerceptionOptions
from facegate.gate.tailgating import TailgateWatch
from facegate.gate.tracker import IouTracker
from facegate.ports import DoorActuator, Frame, LivenessCheck

__all__ = ["GateLoop", "LoopOptions", "Outcome", "conclude"]


@dataclass(frozen=True, slots=True)
class LoopOptions:
    """Tunables of the loop (from :class:`facegate.config.GateSettings`).

    Attributes:
        gate_id: the gate deciding.
        unlock_duration_s: how long a door stays unlocked (seconds).
        decide_after_s: source time after which a poor face is ``low_quality`` (seconds).
        liveness_schedule: when the liveness check looks.
        card_window_s: how long a card waits for the face (seconds).
        continuity_s: see :class:`PerceptionOptions` (seconds).
        leave_after_s: see :class:`ControllerOptions` (seconds).
    """

    gate_id: str
    unlock_duration_s: float
    decide_after_s: float
    liveness_schedule: LivenessSchedule
    card_window_s: float
    continuity_s: float = 0.2
    leave_after_s: float = 2.0

    def perception(self) -> PerceptionOptions:
        """The perception's part."""
        return PerceptionOptions(self.liveness_schedule, self.decide_after_s, self.continuity_s)

    def controller(self) -> ControllerOptions:
        """The controller's part."""
        return ControllerOptions(
            self.gate_id, self.unlock_duration_s, self.card_window_s, self.leave_after_s
        )


def conclude(
    perception: Perception,
    controller: DoorController,
    frame: Frame,
    arrived: float,
    screen: Callable[[Observation, float], Observation] | None = None,
) -> tuple[Observation | None, Outcome | None]:
    """Run one frame through ``perception`` and ``controller`` (may raise).

    The controller is used in two short steps, each inside its ``guard`` (the door's
    decision lock): before the face work (stale decisions dropped, the threshold read)
    and after it (the decision). The face work itself (detection, description,
    liveness: the frame's cost) runs outside it, so a card or a code decided at the same
    door (a reader's thread at an edge gate, a request on the server) does not wait for
    it, and is never decided in the middle of the frame's decision.

    Args:
        perception: the door's perception.
        controller: the door's controller.
        frame: the frame.
        arrived: ``time.perf_counter()`` when the frame arrived.
        screen: given what perception saw and the door's match threshold, what the
            controller gets instead (a kiosk door's challenge:
            :class:`facegate.gate.challenge_desk.ChallengeDesk`).

    Returns:
        What perception saw (``None``: no face) and the decision completed, if any.
    """
    with controller.guard:
        _forget_decisions(perception, controller)
        controller.recheck(perception.tracker.tracks.values())
        threshold = controller.snapshot().access.match.threshold
    seen = perception.observe(frame, threshold)
    if seen is None:
        return None, None
    if screen is not None:
        seen = screen(seen, threshold)
    track = seen.track
    with controller.guard:
        if seen.reused and track.decision is not None and track.decision.person_id is not None:
            controller.seen([track.decision.person_id])
        if seen.evidence is None and seen.refusal is None:
            return seen, None
        ttd_base_ms = (frame.timestamp_s - track.first_time_s) * 1000.0
        outcome = controller.decide_face(
            track, seen.evidence, seen.refusal, frame.index, arrived, ttd_base_ms
        )
    return seen, outcome


def _forget_decisions(perception: Perception, controller: DoorController) -> None:
    """Drop the tracks' decisions that the door's cycling or a new card makes stale."""
    if controller.take_cycled():
        for track in perception.tracker.tracks.values():
            if track.decision is not None and track.decision.granted:
                track.decision = None  # decided again (its descriptor is kept)
                track.reported.clear()
    if controller.take_card_read():
        for track in perception.tracker.tracks.values():
            if track.decision is not None and not track.decision.granted:
                track.decision = None  # decided again with the card (descriptor kept)


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
        alarms: where alarms go (default: the outbox).
    """

    def __init__(
        self,
        engine: FaceWork,
        snapshot: Callable[[], GateSnapshot],
        actuator: DoorActuator,
        outbox: EventSink,
        liveness: LivenessCheck | None,
        clock: Clock,
        options: LoopOptions,
        alarms: AlarmSink | None = None,
    ) -> None:
        self.options = options
        self.perception = Perception(engine, liveness, options.perception())
        self.controller = DoorController(
            snapshot, actuator, outbox, clock, options.controller(), alarms
        )
        self._camera_down = False
        self._failing = False
        self.tailgate: TailgateWatch | None = None

    def watch_tailgating(
        self, line_face_px: int, window_s: float, at_once: bool = False
    ) -> TailgateWatch:
        """Raise ``tailgating`` alarms when more faces cross the door line than were granted."""
        controller = self.controller
        watch = TailgateWatch(
            line_face_px,
            window_s,
            lambda note: controller.raise_alarm(GateEventKind.TAILGATING, note),
            at_once,
        )
        controller.on_decision.append(
            lambda outcome: (
                watch.granted(controller.clock.now()) if outcome.decision.granted else None
            )
        )
        self.tailgate = watch
        return watch

    @property
    def tracker(self) -> IouTracker:
        """The perception's face tracker."""
        return self.perception.tracker

    @tracker.setter
    def tracker(self, tracker: IouTracker) -> None:
        self.perception.tracker = tracker

    def reset(self) -> None:
        """A new arrival at an empty door: forget the tracks and the presences."""
        old = self.perception.tracker
        self.perception.tracker = IouTracker(window=old.window, recent_s=old.recent_s)
        with self.controller.guard:
            self.controller.reset()

    def present_card(self, number: str) -> None:
        """A card was read; on an ``all_of`` door it waits ``card_window_s`` for the face."""
        with self.controller.guard:
            self.controller.present_card(number)

    def camera_failed(self, note: str) -> Outcome | None:
        """Record one ``camera_failed`` event per outage (``None`` while already down)."""
        if self._camera_down:
            return None
        self._camera_down = True
        with self.controller.guard:
            return self.controller.camera_failed(note)

    def process(self, frame: Frame) -> list[Outcome]:
        """Run one frame through the pipeline; returns the decisions it completed.

        Never raises: an exception is a deny ``internal_error`` (one per run of failing
        frames).
        """
        arrived = time.perf_counter()
        self._camera_down = False
        try:
            _, outcome = conclude(self.perception, self.controller, frame, arrived)
        except Exception as error:  # fail closed, never crash the loop
            if self._failing:
                return []
            self._failing = True
            with self.controller.guard:
                return [self.controller.fail_closed(error, 0, frame.index)]
        self._failing = False
        self._count_crossings()
        return [] if outcome is None else [outcome]

    def _count_crossings(self) -> None:
        ended = self.perception.tracker.take_ended()
        if self.tailgate is None:
            return
        now = self.controller.clock.now()
        for track in ended:
            self.tailgate.track_ended(track.peak_height, now)
        self.tailgate.check(now)
