"""Ports of the console's work lists (alarms, data subjects' requests) and snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from facegate.domain.alarms import AlarmRecord
from facegate.domain.requests import RequestKind, RequestState, SubjectRequest
from facegate.domain.snapshots import SealedSnapshot, SnapshotRecord


class AlarmRepository(Protocol):
    """The alarms the site raised, each once by its key."""

    def add(self, alarm: AlarmRecord) -> bool:
        """Store ``alarm`` unless its key is stored already; whether it was new."""
        ...

    def get(self, key: str) -> AlarmRecord:
        """The alarm with ``key`` (:class:`NotFoundError` when none)."""
        ...

    def save(self, alarm: AlarmRecord) -> None:
        """Store the acknowledgement of the stored alarm ``alarm``."""
        ...

    def recent(self, active_only: bool, limit: int) -> list[AlarmRecord]:
        """Up to ``limit`` alarms (only unacknowledged ones if ``active_only``), newest first."""
        ...


class SubjectRequestRepository(Protocol):
    """Data subjects' requests (erasure, export), kept after they are closed."""

    def add(self, request: SubjectRequest) -> None:
        """Store a new request."""
        ...

    def get(self, request_id: str) -> SubjectRequest:
        """The request with ``request_id`` (:class:`NotFoundError` when none)."""
        ...

    def save(self, request: SubjectRequest) -> None:
        """Store how the stored request ``request`` was closed."""
        ...

    def open_of(self, person_id: str, kind: RequestKind) -> SubjectRequest | None:
        """The person's open request of ``kind``, if any."""
        ...

    def listed(
        self, state: RequestState | None, person_id: str | None, limit: int
    ) -> list[SubjectRequest]:
        """Up to ``limit`` requests (of ``state``, of ``person_id`` when given), due first."""
        ...


class SnapshotRepository(Protocol):
    """Sealed event snapshots."""

    def add(self, record: SnapshotRecord, sealed: SealedSnapshot) -> bool:
        """Store a snapshot unless its event has one; whether this call stored it.

        One per event: of two transactions adding one to the same event at once, the
        second waits for the first and then stores nothing (no constraint error).
        """
        ...

    def for_event(self, event_id: str) -> tuple[SnapshotRecord, SealedSnapshot] | None:
        """The snapshot of the event ``event_id``, if one was kept."""
        ...

    def sealed_all(self) -> list[tuple[str, SealedSnapshot]]:
        """Every snapshot's id and sealed form (for a site key rotation)."""
        ...

    def replace_key(self, snapshot_id: str, sealed: SealedSnapshot) -> None:
        """Store ``snapshot_id``'s data key wrapped anew (same ciphertext)."""
        ...

    def delete_before(self, moment: datetime) -> int:
        """Delete the snapshots taken before ``moment`` (retention); returns how many."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Delete the snapshots naming ``person_id`` (erasure); returns how many."""
        ...
