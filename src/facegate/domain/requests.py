"""A data subject's request as work: erasure or a copy of their data, due by a date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from facegate.domain.clock import require_aware

DEFAULT_DUE_DAYS = 30
"""Days the site has to act on a request unless the settings say otherwise (one month, as
GDPR art. 12(3) asks)."""


class RequestKind(StrEnum):
    """What the person asked for."""

    ERASURE = "erasure"
    EXPORT = "export"


class RequestState(StrEnum):
    """Where a request stands."""

    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    """One request in the queue (the person by id: the record outlives their erasure).

    Attributes:
        id: opaque id.
        person_id: who asked.
        kind: erasure or export.
        state: open, done or refused.
        requested_at: when they asked (UTC).
        due_at: when it must be done by (UTC).
        handled_at: when staff closed it.
        handled_by: who closed it (audit name).
        note: what staff wrote when closing it (a refusal's reason, shown to the person).
    """

    id: str
    person_id: str
    kind: RequestKind
    state: RequestState
    requested_at: datetime
    due_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        require_aware(self.requested_at, "requested_at")
        require_aware(self.due_at, "due_at")
        if self.due_at < self.requested_at:
            raise ValueError("a request cannot be due before it was made")
        if (self.state is RequestState.OPEN) != (self.handled_at is None):
            raise ValueError("a request is open exactly when nobody has handled it")

    def overdue(self, now: datetime) -> bool:
        """Whether it is still open past its due date."""
        return self.state is RequestState.OPEN and now > self.due_at

    def closed(self, state: RequestState, at: datetime, by: str, note: str) -> SubjectRequest:
        """This request closed as ``state`` (done or refused) ``at`` by ``by``."""
        if state is RequestState.OPEN:
            raise ValueError("a request is closed as done or refused")
        return replace(self, state=state, handled_at=at, handled_by=by, note=note)
