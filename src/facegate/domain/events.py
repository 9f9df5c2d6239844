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


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A filter over events; ``None`` fields do not filter.

    Attributes:
        door_id: at this door.
        person_id: naming this person.
        granted: only granted (``True``) or only refused (``False``).
        reason: with this reason.
        since: at or after (UTC).
        until: before (UTC).
        limit: at most this many, newest first (1-1000, default 100).
    """

    door_id: str | None = None
    person_id: str | None = None
    granted: bool | None = None
    reason: Reason | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 1000:
            raise ValueError("an event query's limit is between 1 and 1000")
