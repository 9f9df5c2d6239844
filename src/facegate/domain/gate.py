"""What a gate holds and sends: its versioned snapshot and the events of its outbox.

A :class:`GateSnapshot` is the local copy a gate decides from when its upstream (the
site database, or the site server over HTTP) is unreachable. Its ``version`` is a digest
of its content, so a gate can tell whether it is current by comparing two strings.

A :class:`GateEvent` is what the gate reports: a decision, an actuator or camera
failure (decisions with those reason codes) or a door alarm. Its ``key`` is the
idempotency key: the receiver stores an event once, however often it is delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from facegate.domain.clock import require_aware
from facegate.domain.policy import AccessData, Decision, Target
from facegate.domain.reasons import Reason

SNAPSHOT_FORMAT = 1
"""Format of :class:`GateSnapshot`; a gate refuses a snapshot of another format."""

CAMERA_STATES = frozenset({"ok", "failed", "unknown"})
"""Camera states a gate may report (anything else is recorded as ``unknown``)."""
DOOR_CONTACT_STATES = frozenset({"open", "closed", "unknown"})
"""Door contact states a gate may report (anything else is recorded as ``unknown``)."""
LIVENESS_REPORTS = frozenset({"none", "motion", "fused", "layered"})
"""Liveness modes a gate may report (anything else is recorded as ``""``: not said)."""


@dataclass(frozen=True, slots=True)
class GateReport:
    """What a gate says of itself when it polls.

    Attributes:
        version: the snapshot version it decides from ("" when it holds none).
        last_sync: when its last snapshot check succeeded (UTC), if ever.
        backlog: events waiting in its outbox (-1 when it did not say).
        camera: ``ok``, ``failed`` or ``unknown``.
        liveness: the liveness mode it decides with (``""`` when it did not say).
        door: its door contact, ``open``, ``closed`` or ``unknown`` (no sensor, a lift,
            or not said).
    """

    version: str = ""
    last_sync: datetime | None = None
    backlog: int = -1
    camera: str = "unknown"
    liveness: str = ""
    door: str = "unknown"

    def __post_init__(self) -> None:
        if self.camera not in CAMERA_STATES:
            object.__setattr__(self, "camera", "unknown")
        if self.liveness not in LIVENESS_REPORTS:
            object.__setattr__(self, "liveness", "")
        if self.door not in DOOR_CONTACT_STATES:
            object.__setattr__(self, "door", "unknown")


@dataclass(frozen=True, slots=True)
class GateSnapshot:
    """Everything one gate needs to decide, as of ``built_at``.

    Attributes:
        format: :data:`SNAPSHOT_FORMAT` of the writer.
        version: digest of the content (hex); equal versions hold equal data.
        built_at: when the upstream built it (UTC).
        site_id: the site.
        model_id: the descriptor model the gallery's templates were made with; the gate
            refuses to compare descriptors of another model.
        target: the gate's door or lift.
        access: the access data the policy reads (gallery of decrypted templates).
    """

    format: int
    version: str
    built_at: datetime
    site_id: str
    model_id: str
    target: Target
    access: AccessData


class GateEventKind(StrEnum):
    """What a gate event reports."""

    DECISION = "decision"
    DOOR_FORCED_OPEN = "door_forced_open"
    DOOR_HELD_OPEN = "door_held_open"
    REMOTE_UNLOCK = "remote_unlock"
    ALERT_LIST = "alert_list"
    ACTUATOR_FAILED = "actuator_failed"
    GATE_SILENT = "gate_silent"
    FIRE_INPUT = "fire_input"
    DEVICE_OFFLINE = "device_offline"
    DEVICE_ONLINE = "device_online"
    TAILGATING = "tailgating"
    ANTI_PASSBACK = "anti_passback"
    CHALLENGE_FAILURES = "challenge_failures"


ALARM_KINDS = frozenset(
    {
        GateEventKind.ALERT_LIST,
        GateEventKind.DOOR_FORCED_OPEN,
        GateEventKind.DOOR_HELD_OPEN,
        GateEventKind.ACTUATOR_FAILED,
        GateEventKind.GATE_SILENT,
        GateEventKind.FIRE_INPUT,
        GateEventKind.DEVICE_OFFLINE,
        GateEventKind.TAILGATING,
        GateEventKind.ANTI_PASSBACK,
        GateEventKind.CHALLENGE_FAILURES,
    }
)
"""The event kinds that are alarms (raised on the site's alarm channels on receipt)."""


@dataclass(frozen=True, slots=True)
class GateEvent:
    """One event of a gate, as it travels through the outbox.

    Attributes:
        key: idempotency key (a UUID); also the stored event's id.
        gate_id: the gate that made it.
        kind: what it reports.
        door_id: the door or lift.
        occurred_at: when (UTC).
        granted: for a decision, whether it opened.
        reason: for a decision, why; ``None`` for an alarm.
        person_id: who, when known.
        pass_id: the visitor pass used (its use is counted on delivery).
        floors: for a lift, the floors enabled.
        scores: measures behind it (``distance``, ``margin``, ``latency_ms``).
        note: free text for an alarm or a remote unlock (who asked, why).
    """

    key: str
    gate_id: str
    kind: GateEventKind
    door_id: str
    occurred_at: datetime
    granted: bool = False
    reason: Reason | None = None
    person_id: str | None = None
    pass_id: str | None = None
    floors: tuple[int, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        if (self.kind is GateEventKind.DECISION) != (self.reason is not None):
            raise ValueError("a decision event has a reason, and only a decision event")
        if self.granted != (self.reason is Reason.GRANTED):
            raise ValueError("an event is granted exactly when its reason is 'granted'")


def decision_event(
    key: str, gate_id: str, door_id: str, at: datetime, decision: Decision
) -> GateEvent:
    """The outbox event of ``decision`` made at ``door_id`` at ``at``."""
    return GateEvent(
        key=key,
        gate_id=gate_id,
        kind=GateEventKind.DECISION,
        door_id=door_id,
        occurred_at=at,
        granted=decision.granted,
        reason=decision.reason,
        person_id=decision.person_id,
        pass_id=decision.pass_id,
        floors=decision.floors,
        scores=dict(decision.scores),
    )
