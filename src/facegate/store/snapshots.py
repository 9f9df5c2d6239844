"""SQLAlchemy repository of sealed event snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from facegate.domain.errors import NotFoundError
from facegate.domain.snapshots import SealedSnapshot, SnapshotRecord
from facegate.store.schema import SnapshotRow


class SqlSnapshotRepository:
    """Sealed event snapshots."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: SnapshotRecord, sealed: SealedSnapshot) -> bool:
        """Store a snapshot unless its event has one; whether this call stored it.

        One ``INSERT ... ON CONFLICT DO NOTHING`` on the unique event id: of two
        transactions adding one to the same event at once, the second waits for the
        first and then stores nothing, without a constraint error.
        """
        self._session.flush()
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(SnapshotRow)
            .values(
                id=record.id,
                event_id=record.event_id,
                door_id=record.door_id,
                person_id=record.person_id,
                reason=record.reason,
                taken_at=record.taken_at,
                site_key_id=sealed.site_key_id,
                wrapped_key=sealed.wrapped_key,
                sealed=sealed.sealed,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return self._session.execute(statement.returning(SnapshotRow.id)).first() is not None

    def for_event(self, event_id: str) -> tuple[SnapshotRecord, SealedSnapshot] | None:
        """The snapshot of the event ``event_id``, if one was kept."""
        query = select(SnapshotRow).where(SnapshotRow.event_id == event_id).limit(1)
        row = self._session.scalars(query).first()
        if row is None:
            return None
        record = SnapshotRecord(
            row.id, row.event_id, row.door_id, row.person_id, row.reason, row.taken_at
        )
        return record, SealedSnapshot(row.site_key_id, row.wrapped_key, row.sealed)

    def sealed_all(self) -> list[tuple[str, SealedSnapshot]]:
        """Every snapshot's id and sealed form (for a site key rotation)."""
        rows = self._session.scalars(select(SnapshotRow).order_by(SnapshotRow.id))
        return [(r.id, SealedSnapshot(r.site_key_id, r.wrapped_key, r.sealed)) for r in rows]

    def replace_key(self, snapshot_id: str, sealed: SealedSnapshot) -> None:
        """Store ``snapshot_id``'s data key wrapped anew (same ciphertext)."""
        row = self._session.get(SnapshotRow, snapshot_id)
        if row is None:
            raise NotFoundError(f"no snapshot {snapshot_id}")
        row.site_key_id, row.wrapped_key = sealed.site_key_id, sealed.wrapped_key

    def delete_before(self, moment: datetime) -> int:
        """Delete the snapshots taken before ``moment`` (retention); returns how many."""
        result = self._session.execute(delete(SnapshotRow).where(SnapshotRow.taken_at < moment))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def delete_for_person(self, person_id: str) -> int:
        """Delete the snapshots naming ``person_id`` (erasure); returns how many."""
        query = delete(SnapshotRow).where(SnapshotRow.person_id == person_id)
        return int(self._session.execute(query).rowcount)  # type: ignore[attr-defined]
