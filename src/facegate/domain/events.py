"""Access events: one per decision at a door, with its reason code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from facegate.domain.clock import require_aware
from facegate.domain.reasons import Reason


@dataclass(frozen=True, slots=True)
class Event:
    """A decision at a door.

    Attributes:
        id: opaque id (also the idempotency key when a gate pushes it).
        door_id: where.
        occurred_at: when (UTC).
        granted: whether the door opened.
        reason: why (:class:`Reason`).
        person_id: who, when known; set to ``None`` when the person is erased.
        scores: named measures behind the decision (``distance``, ``margin``...).
    """

    id: str
    door_id: str
    occurred_at: datetime
    granted: bool
    reason: Reason
    person_id: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        if self.granted != (self.reason is Reason.GRANTED):
            raise ValueError("an event is granted exactly when its reason is 'granted'")
