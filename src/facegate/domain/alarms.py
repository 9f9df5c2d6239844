"""An alarm as the site keeps it: what was raised, and who acknowledged it, when, why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from facegate.domain.clock import require_aware
from facegate.domain.gate import ALARM_KINDS, GateEvent, GateEventKind


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """One raised alarm (ids only, no names).

    Attributes:
        key: the alarm event's idempotency key (unique).
        kind: an alarm kind (:data:`facegate.domain.gate.ALARM_KINDS`).
        gate_id: the gate that raised it.
        door_id: the door or lift.
        occurred_at: when it happened at the gate (UTC).
        person_id: who, when known (an alert-list hit).
        note: the gate's note.
        acked_at: when it was acknowledged (``None``: still active).
        acked_by: who acknowledged it (the console user's audit name).
        ack_note: what they wrote.
    """

    key: str
    kind: GateEventKind
    gate_id: str
    door_id: str
    occurred_at: datetime
    person_id: str | None = None
    note: str = ""
    acked_at: datetime | None = None
    acked_by: str | None = None
    ack_note: str = ""

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        if self.kind not in ALARM_KINDS:
            raise ValueError(f"{self.kind.value} is not an alarm kind")

    @property
    def active(self) -> bool:
        """Whether nobody has acknowledged it yet."""
        return self.acked_at is None

    def acknowledged(self, at: datetime, by: str, note: str) -> AlarmRecord:
        """This alarm acknowledged ``at`` (aware) by ``by`` with ``note``."""
        require_aware(at, "acked_at")
        return replace(self, acked_at=at, acked_by=by, ack_note=note)

    @classmethod
    def of(cls, event: GateEvent) -> AlarmRecord:
        """The record of the alarm event ``event``."""
        return cls(
            event.key,
            event.kind,
            event.gate_id,
            event.door_id,
            event.occurred_at,
            event.person_id,
            event.note,
        )
