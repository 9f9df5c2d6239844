"""SQLAlchemy repositories of visitor passes, the alert list, events and the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facegate.domain.access import AlertEntry
from facegate.domain.audit import AuditRecord
from facegate.domain.credentials import VisitorPass
from facegate.domain.errors import AuditConflictError, NotFoundError
from facegate.domain.events import Event, EventQuery
from facegate.domain.reasons import Reason
from facegate.store.repositories import deleted_count
from facegate.store.schema import AlertRow, AuditRow, EventRow, PassRow, ReceiptRow


def _pass(row: PassRow) -> VisitorPass:
    return VisitorPass(
        id=row.id,
        host_id=row.host_id,
        visitor_name=row.visitor_name,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_uses=row.max_uses,
        code_hash=row.code_hash,
        uses=row.uses,
    )


def _fill_pass(row: PassRow, visit: VisitorPass) -> None:
    row.host_id, row.visitor_name = visit.host_id, visit.visitor_name
    row.valid_from, row.valid_until = visit.valid_from, visit.valid_until
    row.max_uses, row.uses, row.code_hash = visit.max_uses, visit.uses, visit.code_hash


class SqlPassRepository:
    """Visitor passes."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, visitor_pass: VisitorPass) -> None:
        """Store a new pass."""
        row = PassRow(id=visitor_pass.id)
        _fill_pass(row, visitor_pass)
        self._session.add(row)

    def get(self, pass_id: str) -> VisitorPass:
        """The pass with ``pass_id`` (raises :class:`NotFoundError`)."""
        row = self._session.get(PassRow, pass_id)
        if row is None:
            raise NotFoundError(f"no visitor pass with id {pass_id!r}")
        return _pass(row)

    def find_by_code_hash(self, code_hash: str) -> VisitorPass | None:
        """The pass whose code hashes to ``code_hash``, if any."""
        query = select(PassRow).where(PassRow.code_hash == code_hash)
        row = self._session.scalars(query).first()
        return None if row is None else _pass(row)

    def update(self, visitor_pass: VisitorPass) -> None:
        """Store the fields of ``visitor_pass``."""
        row = self._session.get(PassRow, visitor_pass.id)
        if row is None:
            raise NotFoundError(f"no visitor pass with id {visitor_pass.id!r}")
        _fill_pass(row, visitor_pass)

    def for_host(self, host_id: str) -> list[VisitorPass]:
        """The passes ``host_id`` issued."""
        query = select(PassRow).where(PassRow.host_id == host_id).order_by(PassRow.valid_from)
        return [_pass(r) for r in self._session.scalars(query)]

    def delete_for_host(self, host_id: str) -> int:
        """Delete the passes ``host_id`` issued; returns how many."""
        return deleted_count(self._session, delete(PassRow).where(PassRow.host_id == host_id))

    def delete_ended_before(self, moment: datetime) -> int:
        """Delete passes whose validity ended before ``moment``; returns how many."""
        statement = delete(PassRow).where(PassRow.valid_until < moment)
        return deleted_count(self._session, statement)


def _alert(row: AlertRow) -> AlertEntry:
    return AlertEntry(
        row.id,
        row.person_id,
        row.reason,
        row.legal_basis,
        row.added_by,
        row.added_at,
        row.expires_at,
    )


class SqlAlertRepository:
    """The alert list."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, entry: AlertEntry) -> None:
        """Store a new entry."""
        self._session.add(
            AlertRow(
                id=entry.id,
                person_id=entry.person_id,
                reason=entry.reason,
                legal_basis=entry.legal_basis,
                added_by=entry.added_by,
                added_at=entry.added_at,
                expires_at=entry.expires_at,
            )
        )

    def for_person(self, person_id: str) -> list[AlertEntry]:
        """Entries about ``person_id``."""
        query = select(AlertRow).where(AlertRow.person_id == person_id)
        return [_alert(r) for r in self._session.scalars(query.order_by(AlertRow.added_at))]

    def delete_for_person(self, person_id: str) -> int:
        """Delete entries about ``person_id``; returns how many."""
        statement = delete(AlertRow).where(AlertRow.person_id == person_id)
        return deleted_count(self._session, statement)

    def all(self) -> list[AlertEntry]:
        """Every entry, soonest expiry first."""
        query = select(AlertRow).order_by(AlertRow.expires_at)
        return [_alert(r) for r in self._session.scalars(query)]

    def delete_expired_before(self, moment: datetime) -> int:
        """Delete entries that expired before ``moment``; returns how many."""
        statement = delete(AlertRow).where(AlertRow.expires_at < moment)
        return deleted_count(self._session, statement)


def _event(row: EventRow) -> Event:
    scores = {str(k): float(v) for k, v in json.loads(row.scores).items()}
    return Event(
        row.id, row.door_id, row.occurred_at, row.granted, Reason(row.reason), row.person_id, scores
    )


class SqlEventRepository:
    """Access events."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, event: Event) -> None:
        """Store an event."""
        self._session.add(
            EventRow(
                id=event.id,
                door_id=event.door_id,
                occurred_at=event.occurred_at,
                granted=event.granted,
                reason=event.reason.value,
                person_id=event.person_id,
                scores=json.dumps(event.scores, sort_keys=True),
            )
        )

    def received(self, key: str) -> bool:
        """Whether a gate already delivered the event with idempotency ``key``."""
        return self._session.get(ReceiptRow, key) is not None

    def add_receipt(self, key: str, gate_id: str, at: datetime) -> None:
        """Record that ``gate_id`` delivered the event with idempotency ``key`` at ``at``."""
        self._session.add(ReceiptRow(key=key, gate_id=gate_id, received_at=at))

    def delivered(self, key: str, gate_id: str) -> Event | None:
        """The access event ``gate_id`` delivered with idempotency ``key``, if it was stored."""
        query = (
            select(EventRow)
            .join(ReceiptRow, ReceiptRow.key == EventRow.id)
            .where(EventRow.id == key, ReceiptRow.gate_id == gate_id)
        )
        row = self._session.scalars(query).first()
        return None if row is None else _event(row)

    def claim_receipt(self, key: str, gate_id: str, at: datetime) -> bool:
        """Record the receipt of ``key`` unless it is recorded; whether this call did.

        One ``INSERT ... ON CONFLICT DO NOTHING``: of two transactions delivering the same
        key at once, the second waits for the first and then claims nothing, so the event
        behind the key is stored once without a constraint error.
        """
        self._session.flush()
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ReceiptRow)
            .values(key=key, gate_id=gate_id, received_at=at)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        claimed = self._session.execute(statement.returning(ReceiptRow.key)).first()
        return claimed is not None

    def for_person(self, person_id: str) -> list[Event]:
        """Events naming ``person_id``, oldest first."""
        query = select(EventRow).where(EventRow.person_id == person_id)
        return [_event(r) for r in self._session.scalars(query.order_by(EventRow.occurred_at))]

    def search(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, newest first."""
        conditions = [
            column == value
            for column, value in (
                (EventRow.door_id, query.door_id),
                (EventRow.person_id, query.person_id),
                (EventRow.granted, query.granted),
                (EventRow.reason, query.reason and query.reason.value),
            )
            if value is not None
        ]
        if query.since is not None:
            conditions.append(EventRow.occurred_at >= query.since)
        if query.until is not None:
            conditions.append(EventRow.occurred_at < query.until)
        statement = select(EventRow).where(*conditions).order_by(EventRow.occurred_at.desc())
        return [_event(r) for r in self._session.scalars(statement.limit(query.limit))]

    def counts_since(self, moment: datetime) -> list[tuple[str, Reason, int]]:
        """``(door id, reason, how many)`` of the events at or after ``moment`` (one query)."""
        statement = (
            select(EventRow.door_id, EventRow.reason, func.count())
            .where(EventRow.occurred_at >= moment)
            .group_by(EventRow.door_id, EventRow.reason)
        )
        return [(r[0], Reason(r[1]), int(r[2])) for r in self._session.execute(statement)]

    def anonymise(self, person_id: str) -> int:
        """Remove ``person_id`` from their events; returns how many."""
        statement = update(EventRow).where(EventRow.person_id == person_id).values(person_id=None)
        return deleted_count(self._session, statement)

    def delete_before(self, moment: datetime) -> int:
        """Delete events that occurred before ``moment``; returns how many."""
        statement = delete(EventRow).where(EventRow.occurred_at < moment)
        return deleted_count(self._session, statement)


def _audit(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        subject_id=row.subject_id,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


AUDIT_LOCK_ID = 0x46474155_4449540A
"""The PostgreSQL advisory lock key that serialises audit appends (any fixed bigint)."""
AUDIT_LOCK_TIMEOUT_S = 30
"""How long a PostgreSQL appender waits for the chain's lock before giving up (seconds)."""


class SqlAuditRepository:
    """The audit log: rows are only ever appended (and trimmed by retention).

    Args:
        session: the unit of work's session.
        before_write: called before this repository opens a SQLite write transaction
            (the unit of work queues there behind the process's other writers).
    """

    def __init__(self, session: Session, before_write: Callable[[], None] = lambda: None) -> None:
        self._session = session
        self._before_write = before_write
        self._head: tuple[object, AuditRow, AuditRecord] | None = None

    def _held_head(self) -> AuditRecord | None:
        """The record this transaction appended last, while it holds the append lock.

        Valid only in the very transaction that appended it (a commit or rollback starts
        another) and while its row is still in the session (a savepoint rolled back
        expunges it); ``None`` otherwise, and the head is read from the database.
        """
        if self._head is None:
            return None
        transaction, row, record = self._head
        if self._session.get_transaction() is transaction and row in self._session:
            return record
        self._head = None
        return None

    def last(self) -> AuditRecord | None:
        """The newest record, ``None`` for an empty log."""
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)  # not the whole log
        row = self._session.scalars(query).first()
        return None if row is None else _audit(row)

    def last_for_append(self) -> AuditRecord | None:
        """The newest record, read holding the chain's append lock until the transaction ends.

        An append that follows in the same transaction cannot lose its link to another
        writer: they wait for this transaction instead of failing. Once this transaction
        appended (and so holds the lock), the head is the record it appended last, with
        no flush and no query (a bulk import's batch appends thousands).
        """
        held = self._held_head()
        if held is not None:
            return held
        self._begin()
        return self.last()

    def _begin(self) -> None:
        """Flush pending changes and take the chain's append lock.

        SQLite: pysqlite opens transactions only before a write, so a SAVEPOINT outside
        one would start it and releasing the savepoint would commit it early; and a
        transaction that first read and then writes fails at once ("database is locked")
        when another writer committed in between. ``BEGIN IMMEDIATE`` takes the write
        lock first (waiting up to the busy timeout). A transaction already open here has
        written, so it holds that lock already. PostgreSQL: a transaction-scoped advisory
        lock, so appenders queue instead of racing for the next ``seq``.
        """
        self._session.flush()
        connection = self._session.connection()
        raw = connection.connection.dbapi_connection
        if connection.dialect.name == "sqlite":
            if not getattr(raw, "in_transaction", True):
                self._before_write()
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{AUDIT_LOCK_TIMEOUT_S}s'")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK_ID})")

    def append(self, record: AuditRecord) -> None:
        """Append a record, written at once inside a savepoint.

        Raises:
            AuditConflictError: another writer took ``record.seq`` first; only the
                savepoint is rolled back, so the caller may re-read :meth:`last` and retry.
        """
        held = self._held_head()
        if held is not None and record.seq == held.seq + 1:
            # This transaction holds the append lock and wrote the head: no other writer
            # can take the link, so the row goes with the next flush (batched inserts).
            row = self._row(record)
            self._session.add(row)
            self._head = (self._session.get_transaction(), row, record)
            return
        self._begin()
        row = self._row(record)
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as err:
            raise AuditConflictError(
                f"audit record {record.seq} was written by another process"
            ) from err
        self._head = (self._session.get_transaction(), row, record)

    @staticmethod
    def _row(record: AuditRecord) -> AuditRow:
        return AuditRow(
            seq=record.seq,
            id=record.id,
            occurred_at=record.occurred_at,
            actor=record.actor,
            action=record.action,
            subject_id=record.subject_id,
            details=json.dumps(dict(record.details), sort_keys=True),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )

    def all(self) -> list[AuditRecord]:
        """Every record in sequence order."""
        return [_audit(r) for r in self._session.scalars(select(AuditRow).order_by(AuditRow.seq))]

    def newest(self, before_seq: int | None, limit: int) -> list[AuditRecord]:
        """At most ``limit`` records below ``before_seq`` (all when ``None``), newest first."""
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
        if before_seq is not None:
            query = query.where(AuditRow.seq < before_seq)
        return [_audit(r) for r in self._session.scalars(query)]

    def first_after(self, moment: datetime) -> AuditRecord | None:
        """The oldest record that occurred at or after ``moment``."""
        query = select(AuditRow).where(AuditRow.occurred_at >= moment).order_by(AuditRow.seq)
        row = self._session.scalars(query).first()
        return None if row is None else _audit(row)

    def delete_before_seq(self, seq: int) -> int:
        """Delete the records before ``seq``; returns how many."""
        return deleted_count(self._session, delete(AuditRow).where(AuditRow.seq < seq))
