"""Reads of what happened: access events, the alert list, the audit log (each audited).

Also the few actions that only leave a trace: a resident's erasure request, and a remote
unlock of a door by an operator.
"""

from __future__ import annotations

from datetime import datetime

from facegate.domain.access import AlertEntry
from facegate.domain.audit import AuditRecord, DetailValue
from facegate.domain.credentials import VisitorPass
from facegate.domain.events import Event, EventQuery
from facegate.ports import DoorOpener
from facegate.services.context import ServiceContext, audit


def search_events(context: ServiceContext, query: EventQuery) -> list[Event]:
    """Events matching ``query``, newest first (the read is audited)."""
    with context.store.unit_of_work() as uow:
        events = uow.events.search(query)
        details: dict[str, DetailValue] = {"count": len(events), "door_id": query.door_id}
        audit(uow, context, "event.read", query.person_id, details)
        uow.commit()
    return events


def list_alerts(context: ServiceContext) -> list[AlertEntry]:
    """The alert list, soonest expiry first (the read is audited)."""
    with context.store.unit_of_work() as uow:
        entries = uow.alerts.all()
        audit(uow, context, "alert.list", None, {"count": len(entries)})
        uow.commit()
    return entries


def read_audit(context: ServiceContext, after_seq: int = 0, limit: int = 200) -> list[AuditRecord]:
    """Audit records after ``after_seq``, oldest first, at most ``limit`` (read is audited)."""
    with context.store.unit_of_work() as uow:
        records = [r for r in uow.audit.all() if r.seq > after_seq][:limit]
        audit(uow, context, "audit.read", None, {"count": len(records)})
        uow.commit()
    return records


def read_audit_newest(
    context: ServiceContext, before_seq: int | None = None, limit: int = 200
) -> list[AuditRecord]:
    """At most ``limit`` audit records below ``before_seq``, newest first (read is audited).

    The console's order: the latest actions on top, ``before_seq`` of the last one shown
    pages back.
    """
    with context.store.unit_of_work() as uow:
        records = uow.audit.newest(before_seq, limit)
        audit(uow, context, "audit.read", None, {"count": len(records)})
        uow.commit()
    return records


def passes_of(context: ServiceContext, host_id: str) -> list[VisitorPass]:
    """The visitor passes ``host_id`` issued.

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        uow.people.get(host_id)
        return uow.passes.for_host(host_id)


def remote_unlock(context: ServiceContext, opener: DoorOpener, door_id: str) -> None:
    """Open a door by an operator's command; audited before and whether it worked.

    Raises:
        NotFoundError: unknown door.
        ServiceUnavailableError: the door's actuator is unreachable (audited as failed).
    """
    with context.store.unit_of_work() as uow:
        uow.places.door(door_id)
    outcome = "failed"
    try:
        opener.open(door_id)
        outcome = "opened"
    finally:
        with context.store.unit_of_work() as uow:
            audit(
                uow, context, "door.remote_unlock", None, {"door_id": door_id, "outcome": outcome}
            )
            uow.commit()


def open_event_stream(context: ServiceContext) -> None:
    """Record that someone opened the live event stream (its polls are not audited)."""
    with context.store.unit_of_work() as uow:
        audit(uow, context, "event.stream")
        uow.commit()


def events_after(context: ServiceContext, since: datetime, limit: int = 100) -> list[Event]:
    """Events at or after ``since``, oldest first: the live stream's poll.

    The stream's opening is audited once (:func:`open_event_stream`), not each poll.
    """
    with context.store.unit_of_work() as uow:
        events = uow.events.search(EventQuery(since=since, limit=limit))
    return sorted(events, key=lambda e: e.occurred_at)
