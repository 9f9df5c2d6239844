"""The door controller: the one place where a door's decision is made.

Evidence from perception (:class:`facegate.gate.perception.Observation`) or a presented
credential (card, QR code) goes through the policy (:func:`facegate.domain.policy.decide`)
on the current snapshot, then to the actuator, then to the event sink (the outbox), and
the alarms it calls for to the alarm sink: an alert-list hit, a failed actuator. The edge
gate (``facegate gate``), the server's kiosk endpoint and its credential endpoint all
decide here. Everything comes in through ports: the snapshot source, the actuator, the
event sink, the clock and the alarm sink.

Anti-passback (:mod:`facegate.domain.passback`): at a door of a zone, a grant the policy
made is checked against the person's presence in the zone (the snapshot's, merged with
this controller's own passages since); a passback is refused ``anti_passback`` (``hard``)
or granted with an ``anti_passback`` alarm (``soft``, or any zone while the snapshot is
older than :data:`~facegate.domain.passback.STALE_AFTER_S`: the gate is offline).

It fails closed: :meth:`DoorController.fail_closed` turns an exception anywhere in a
decision into a deny ``internal_error`` with its event. One unlock per presence: a person
granted while standing in view is not unlocked again until they have been out of view for
``leave_after_s`` or the door was opened and closed (:meth:`DoorController.door_cycled`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from facegate.domain import passback
from facegate.domain.clock import Clock
from facegate.domain.credentials import VisitorPass
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.gate import GateEvent, GateEventKind, GateSnapshot, decision_event
from facegate.domain.policy import Decision, FaceEvidence, Presentation, decide, deny
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode
from facegate.gate.credentials import WaitingCredentials
from facegate.gate.pass_uses import PassUses
from facegate.gate.tracker import Track
from facegate.ports import ActuatorCommand, DoorActuator
from facegate.timing import span

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Where a door's events go (the durable outbox)."""

    def put(self, event: GateEvent) -> None:
        """Keep ``event`` for delivery."""
        ...


class AlarmSink(Protocol):
    """Where a door's alarms go (each an event of an alarm kind)."""

    def alarm(self, event: GateEvent) -> None:
        """Raise the alarm ``event``."""
        ...


class OutboxAlarms:
    """Alarms as events in the outbox: delivered with the decisions, raised on receipt.

    The receiver (the site server) fans them out to the alarm channels
    (:class:`facegate.services.alarms.AlarmService`).

    Args:
        events: the outbox.
    """

    def __init__(self, events: EventSink) -> None:
        self.events = events

    def alarm(self, event: GateEvent) -> None:
        """Put ``event`` in the outbox."""
        self.events.put(event)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One decision the door made.

    Attributes:
        decision: the decision (after actuation: ``actuator_failed`` if the lock failed).
        track_id: the face track it was for (0 for a camera failure or a credential).
        frame_index: the frame that completed it (-1 for none).
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
class ControllerOptions:
    """Tunables of a door controller.

    Attributes:
        gate_id: the gate deciding (``server`` for the site server).
        unlock_duration_s: how long a door stays unlocked (seconds).
        card_window_s: how long a card waits for the face on a face-and-card door (s).
        leave_after_s: how long a granted person must be out of view before they are
            unlocked again (seconds).
    """

    gate_id: str
    unlock_duration_s: float
    card_window_s: float
    leave_after_s: float = 2.0


class DoorController:
    """Policy, actuator, events and alarms of one door or lift.

    Args:
        snapshot: returns the snapshot to decide from (the latest one held).
        actuator: the door or lift.
        events: where events go.
        clock: the time source.
        options: tunables.
        alarms: where alarms go (default: the event sink, as :class:`OutboxAlarms`).
        passes: the visitor pass uses granted and not yet in the snapshot (default: this
            door's own; the server's doors share one, see :mod:`facegate.gate.pass_uses`).

    Attributes:
        on_decision: called with each outcome once recorded (a reader's LED and buzzer).
        guard: the door's decision lock. Every caller holds it for each step it takes
            here (a frame's controller steps, a card, a PIN, a credential, a failure),
            never for a frame's face work: the camera's thread, a reader's thread and
            the server's request threads then never decide at the same door at once
            (the waiting card, presences, anti-passback passages and the actuator's
            command stay one decision's at a time). The controller does not take it
            itself.
    """

    def __init__(
        self,
        snapshot: Callable[[], GateSnapshot],
        actuator: DoorActuator,
        events: EventSink,
        clock: Clock,
        options: ControllerOptions,
        alarms: AlarmSink | None = None,
        passes: PassUses | None = None,
    ) -> None:
        self.snapshot, self.actuator, self.events = snapshot, actuator, events
        self.passes = passes if passes is not None else PassUses()
        self.clock, self.options = clock, options
        self.alarms = alarms if alarms is not None else OutboxAlarms(events)
        self.waiting = WaitingCredentials(options.card_window_s)
        self.on_decision: list[Callable[[Outcome], None]] = []
        self._present: dict[str, datetime] = {}
        self._cycled = False
        self._lock = threading.Lock()
        self.guard = threading.Lock()
        self._door_id = ""
        self._version: str | None = None
        self._passages: dict[str, passback.Presence] = {}

    # -- inputs ----------------------------------------------------------------------

    def present_card(self, number: str) -> None:
        """A card was read; on an ``all_of`` door it waits ``card_window_s`` for the face.

        A card not held before (another number, or the last one used or expired) makes
        the faces in view that were refused be decided again (:meth:`take_card_read`):
        a resident who looked at the camera before badging is not left refused.
        """
        self.waiting.card(number)

    def take_card_read(self) -> bool:
        """Whether a new card was read since the last call (and forget it)."""
        return self.waiting.take_card_read()

    def read_card(self, number: str) -> Outcome | None:
        """A reader's card: decided at once on an ``any_of`` door, else it waits.

        On an ``all_of`` door it waits ``card_window_s`` for the face (the face's decision
        takes it) or, on a door without a camera (card and PIN), for the PIN.
        """
        target = self._snapshot().target
        if target.mode is CredentialMode.ANY_OF:
            return self.decide_credential("card", number)
        self.waiting.card(number)
        return self._decide_waiting(target.accepted)

    def read_pin(self, digits: str) -> Outcome | None:
        """A PIN typed on the reader's keypad: a second factor, never a credential alone.

        It waits ``card_window_s`` for the card or face it goes with; on an ``any_of``
        door it names nobody and is refused ``unknown_credential``.
        """
        target = self._snapshot().target
        if target.mode is CredentialMode.ANY_OF or CredentialKind.PIN not in target.accepted:
            return self._record(deny(Reason.UNKNOWN_CREDENTIAL), 0, -1, time.perf_counter(), 0, "")
        self.waiting.pin(digits)
        return self._decide_waiting(target.accepted)

    def _decide_waiting(self, accepted: frozenset[CredentialKind]) -> Outcome | None:
        """On a door without a camera, decide once every kind it takes is waiting."""
        if CredentialKind.FACE in accepted:
            return None  # the face's decision takes the waiting card and PIN
        if not all(self.waiting.has(kind) for kind in accepted):
            return None
        arrived = time.perf_counter()
        return self._record(self._policy(None), 0, -1, arrived, 0.0, "")

    def seen(self, person_ids: Iterable[str]) -> None:
        """People granted earlier are in view now (their presence goes on)."""
        now = self.clock.now()
        with self._lock:
            for person_id in person_ids:
                if person_id in self._present:
                    self._present[person_id] = now

    def door_cycled(self) -> None:
        """The door was opened and closed: the people in view may be unlocked again.

        Safe from any thread (the door contact's); the frame loop re-arms its tracks on
        its next frame (:meth:`take_cycled`).
        """
        with self._lock:
            self._present.clear()
            self._cycled = True

    def take_cycled(self) -> bool:
        """Whether the door cycled since the last call (and forget it)."""
        with self._lock:
            cycled, self._cycled = self._cycled, False
            return cycled

    def reset(self) -> None:
        """Forget every presence (a new arrival at an empty door)."""
        self.door_cycled()

    # -- decisions -------------------------------------------------------------------

    def decide_face(
        self,
        track: Track,
        evidence: FaceEvidence | None,
        refusal: Reason | None,
        frame_index: int,
        arrived: float,
        ttd_base_ms: float,
    ) -> Outcome | None:
        """Decide on a track's evidence (or its refusal); ``None`` when nothing is new.

        A refusal already reported for the track is not reported again; a grant for a
        person still present since their last unlock is reused (no unlock, no event).

        Args:
            track: the face's track (its ``decision`` is updated).
            evidence: evidence for the policy, or ``None`` with ``refusal``.
            refusal: a deny without the policy (``multiple_faces``, ``low_quality``).
            frame_index: the frame that completed it.
            arrived: ``time.perf_counter()`` when the frame arrived.
            ttd_base_ms: source time from the track's first frame to this one (ms).
        """
        if refusal is not None:
            decision = deny(refusal)
        else:
            decision = self._policy(evidence or FaceEvidence(refusal=Reason.NO_FACE))
        if not decision.granted and decision.reason.value in track.reported:
            track.decision = decision
            return None
        if decision.granted and self._still_present(decision.person_id):
            track.decision = decision
            return None
        track.decision = decision
        track.reported.add(decision.reason.value)
        # The track keeps the policy's decision: a lock that failed is not tried again
        # for the same face (its ``actuator_failed`` is in the outcome and the event).
        return self._record(decision, track.id, frame_index, arrived, ttd_base_ms, "")

    def decide_credential(self, kind: str, value: str) -> Outcome:
        """Decide on a card number or QR code shown at the door (a PIN needs its person).

        On a face-and-card (``all_of``) door a card also waits ``card_window_s`` for the
        face, as a card read beside the camera does (:meth:`present_card`); the answer
        is then ``no_face`` for a card the door knows, ``unknown_credential`` at once
        for one it does not.
        """
        arrived = time.perf_counter()
        presented = {
            "card": Presentation(card_number=value),
            "qr": Presentation(qr_code=value),
        }.get(kind)
        if presented is None:
            decision = deny(Reason.UNKNOWN_CREDENTIAL)
        else:
            snapshot = self._snapshot()
            decision = decide(presented, snapshot.target, snapshot.access, self.clock.now())
            if kind == "card" and snapshot.target.mode is CredentialMode.ALL_OF:
                self.present_card(value)
        return self._record(decision, 0, -1, arrived, 0.0, "")

    def camera_failed(self, note: str) -> Outcome:
        """Record a ``camera_failed`` deny (the caller reports one per outage)."""
        return self._record(deny(Reason.CAMERA_FAILED), 0, -1, time.perf_counter(), 0.0, note)

    def fail_closed(
        self, error: BaseException, track_id: int = 0, frame_index: int = -1
    ) -> Outcome:
        """A deny ``internal_error`` with its event for an exception inside a decision.

        Never raises: when even the event cannot be kept, that is logged as critical.
        """
        log.error("decision failed, the door stays shut: %r", error, exc_info=error)
        decision = deny(Reason.INTERNAL_ERROR)
        key = str(uuid.uuid4())
        note = f"{type(error).__name__}: {error}"[:500]
        try:
            event = decision_event(
                key, self.options.gate_id, self._door_id, self.clock.now(), decision
            )
            self.events.put(_with(event, dict(event.scores), note))
        except Exception as lost:  # failing closed must not fail
            log.critical("internal_error event lost: %r", lost)
        return Outcome(decision, track_id, frame_index, 0.0, 0.0, key)

    def recheck(self, tracks: Iterable[Track]) -> None:
        """When the site's data changed, faces already granted in view are checked again.

        Otherwise a resident whose consent was withdrawn (or whose rule ended) while in
        view would keep the earlier grant for as long as they stay there. A grant that
        still holds is kept as it was (no second unlock); one that no longer holds becomes
        the new denial. Face-and-card doors are left alone: the card is not presented again.
        """
        snapshot = self._snapshot()
        if snapshot.version == self._version:
            return
        self._version = snapshot.version
        if snapshot.target.mode is CredentialMode.ALL_OF:
            return
        for track in tracks:
            if track.decision is None or not track.decision.granted or track.descriptor is None:
                continue
            again = self._policy(FaceEvidence(descriptor=track.descriptor))
            if not again.granted:
                track.decision = again
                with self._lock:
                    self._present.pop(track.decision.person_id or "", None)

    # -- inside ----------------------------------------------------------------------

    def _snapshot(self) -> GateSnapshot:
        snapshot = self.snapshot()
        self._door_id = snapshot.target.id
        return snapshot

    def _still_present(self, person_id: str | None) -> bool:
        if person_id is None:
            return False
        now = self.clock.now()
        with self._lock:
            last = self._present.get(person_id)
            if last is None:
                return False
            if now - last > timedelta(seconds=self.options.leave_after_s):
                del self._present[person_id]
                return False
            self._present[person_id] = now
            return True

    def _policy(self, evidence: FaceEvidence | None) -> Decision:
        with span("policy"):
            snapshot, now = self._snapshot(), self.clock.now()
            presented = self.waiting.presentation(evidence)
            decision = decide(presented, snapshot.target, snapshot.access, now)
            return self.waiting.settle(presented, decision, now)

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
        snapshot = self._snapshot()
        failure = None
        verdict = passback.PASS
        if decision.granted:
            decision, verdict = self._passback(snapshot, decision)
        visit = None
        if decision.granted:
            decision, visit = self._claim_pass(snapshot, decision)
        if decision.granted:
            decision, failure = self._actuate(snapshot, decision)
            if failure is not None and visit is not None:
                self.passes.release(visit)
        key, now = str(uuid.uuid4()), self.clock.now()
        event = decision_event(key, self.options.gate_id, snapshot.target.id, now, decision)
        scores = {**event.scores, "latency_ms": round(latency_ms, 3)}
        self.events.put(_with(event, scores, note))
        if decision.alert:
            self._alarm(GateEventKind.ALERT_LIST, decision.person_id, f"decision {key}")
        if failure is not None:
            self._alarm(GateEventKind.ACTUATOR_FAILED, decision.person_id, failure)
        if decision.granted and verdict.alarm is not None:
            self._alarm(GateEventKind.ANTI_PASSBACK, decision.person_id, verdict.alarm)
        outcome = Outcome(
            decision, track_id, frame_index, latency_ms, ttd_base_ms + latency_ms, key
        )
        for tell in self.on_decision:
            try:
                tell(outcome)
            except Exception as err:  # a reader's feedback must not undo a decision
                log.error("decision feedback failed: %r", err)
        return outcome

    def _passback(
        self, snapshot: GateSnapshot, decision: Decision
    ) -> tuple[Decision, passback.Verdict]:
        """Anti-passback on a grant; the decision after it and the verdict."""
        zone, person_id = snapshot.target.zone, decision.person_id
        if zone is None or person_id is None:
            return decision, passback.PASS
        now = self.clock.now()
        with self._lock:
            held = passback.merged(snapshot.access.presence, self._passages, person_id)
        offline = (now - snapshot.built_at).total_seconds() > passback.STALE_AFTER_S
        verdict = passback.judge(zone, held, now, offline)
        if verdict.refuse:
            refused = deny(Reason.ANTI_PASSBACK, person_id, scores=decision.scores)
            return refused, verdict
        return decision, verdict

    def _claim_pass(
        self, snapshot: GateSnapshot, decision: Decision
    ) -> tuple[Decision, VisitorPass | None]:
        """A grant by a visitor pass claims one of its uses (a lift ride is none).

        Returns:
            The decision (``pass_used_up`` when the uses granted here since the snapshot
            used it up; ``unknown_credential`` when the pass left the snapshot since the
            policy saw it), and the pass whose use was claimed.
        """
        if decision.pass_id is None or snapshot.target.is_lift:
            return decision, None
        passes = snapshot.access.passes.values()
        visit = next((p for p in passes if p.id == decision.pass_id), None)
        if visit is None:
            return deny(Reason.UNKNOWN_CREDENTIAL, pass_id=decision.pass_id), None
        if not self.passes.claim(visit, self.clock.now()):
            return deny(Reason.PASS_USED_UP, pass_id=visit.id), None
        return decision, visit

    def _actuate(self, snapshot: GateSnapshot, decision: Decision) -> tuple[Decision, str | None]:
        """Send the grant's command; the decision after it, and the failure if any."""
        is_lift = snapshot.target.is_lift
        command = ActuatorCommand(
            str(uuid.uuid4()),
            "floors" if is_lift else "unlock",
            self.options.unlock_duration_s,
            decision.floors,
        )
        try:
            with span("actuate"):
                self.actuator.send(command)
        except ActuatorFailedError as err:
            failed = deny(Reason.ACTUATOR_FAILED, decision.person_id, scores=decision.scores)
            return failed, str(err)[:500]
        if decision.person_id is not None:
            now = self.clock.now()
            with self._lock:
                self._present[decision.person_id] = now
                if snapshot.target.zone is not None:
                    self._passages[decision.person_id] = passback.after(snapshot.target.zone, now)
        return decision, None

    def raise_alarm(self, kind: GateEventKind, note: str) -> None:
        """Raise an alarm of this door (tailgating, challenge failures); never raises."""
        self._alarm(kind, None, note)

    def _alarm(self, kind: GateEventKind, person_id: str | None, note: str) -> None:
        event = GateEvent(
            str(uuid.uuid4()),
            self.options.gate_id,
            kind,
            self._door_id,
            self.clock.now(),
            person_id=person_id,
            note=note,
        )
        try:
            self.alarms.alarm(event)
        except Exception as err:  # an alarm channel must not undo a decision
            log.error("alarm %s not raised: %r", kind.value, err)


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
