"""SQLAlchemy repository of raised alarms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.domain.alarms import AlarmRecord
from facegate.domain.errors import NotFoundError
from facegate.domain.gate import GateEventKind
from facegate.store.schema import AlarmRow


class SqlAlarmRepository:
    """Raised alarms, each once by its key."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, alarm: AlarmRecord) -> bool:
        """Store ``alarm`` unless its key is stored already; whether it was new."""
        if self._session.get(AlarmRow, alarm.key) is not None:
            return False
        self._session.add(
            AlarmRow(
                key=alarm.key,
                kind=alarm.kind.value,
                gate_id=alarm.gate_id,
                door_id=alarm.door_id,
                occurred_at=alarm.occurred_at,
                person_id=alarm.person_id,
                note=alarm.note,
                acked_at=alarm.acked_at,
                acked_by=alarm.acked_by,
                ack_note=alarm.ack_note,
            )
        )
        return True

    def get(self, key: str) -> AlarmRecord:
        """The alarm with ``key`` (:class:`NotFoundError` when none)."""
        row = self._session.get(AlarmRow, key)
        if row is None:
            raise NotFoundError(f"no alarm {key}")
        return _record(row)

    def save(self, alarm: AlarmRecord) -> None:
        """Store the acknowledgement of the stored alarm ``alarm``."""
        row = self._session.get(AlarmRow, alarm.key)
        if row is None:
            raise NotFoundError(f"no alarm {alarm.key}")
        row.acked_at, row.acked_by, row.ack_note = alarm.acked_at, alarm.acked_by, alarm.ack_note

    def recent(self, active_only: bool, limit: int) -> list[AlarmRecord]:
        """Up to ``limit`` alarms (only unacknowledged ones if ``active_only``), newest first."""
        query = select(AlarmRow).order_by(AlarmRow.occurred_at.desc(), AlarmRow.key).limit(limit)
        if active_only:
            query = query.where(AlarmRow.acked_at.is_(None))
        return [_record(row) for row in self._session.scalars(query)]


def _record(row: AlarmRow) -> AlarmRecord:
    return AlarmRecord(
        key=row.key,
        kind=GateEventKind(row.kind),
        gate_id=row.gate_id,
        door_id=row.door_id,
        occurred_at=row.occurred_at,
        person_id=row.person_id,
        note=row.note,
        acked_at=row.acked_at,
        acked_by=row.acked_by,
        ack_note=row.ack_note,
    )
