"""The site's alarm log: every raised alarm stored once, acknowledged from the console.

:class:`facegate.services.alarms.AlarmService` records each alarm it raises here (see
:func:`alarm_recorder`); staff acknowledge it with a note (audited as ``alarm.ack``), and
the dashboard lists the active ones. An alarm is acknowledged once: a second
acknowledgement is refused, so the first "who, when, why" stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from facegate.domain.alarms import AlarmRecord
from facegate.domain.errors import ConflictError, ValidationError
from facegate.domain.gate import GateEvent
from facegate.services.context import ServiceContext, audit

log = logging.getLogger(__name__)

ACK_NOTE_MAX = 2000
"""Longest acknowledgement note, in characters."""

LIST_LIMIT = 200
"""Most alarms one listing returns."""


def record_alarm(context: ServiceContext, event: GateEvent) -> bool:
    """Store the alarm ``event`` unless stored already; whether it was new.

    Not audited: the gate raised it, nobody acted.
    """
    with context.store.unit_of_work() as uow:
        new = uow.alarms.add(AlarmRecord.of(event))
        uow.commit()
    return new


def alarm_recorder(
    context: ServiceContext | Callable[[], ServiceContext],
) -> Callable[[GateEvent], None]:
    """A recorder for :class:`facegate.services.alarms.AlarmService`.

    Args:
        context: the context, or what builds it on the first alarm (a gate that starts
            while the database is away must still start).

    A failing store is logged; the alarm is still raised on every channel.
    """

    def record(event: GateEvent) -> None:
        try:
            record_alarm(context if isinstance(context, ServiceContext) else context(), event)
        except Exception:  # the channels must still get an alarm the database missed
            log.exception("alarm %s not stored", event.key)

    return record


def acknowledge_alarm(context: ServiceContext, key: str, note: str) -> AlarmRecord:
    """Acknowledge the alarm ``key`` as ``context.actor`` now, with ``note``.

    Audited as ``alarm.ack`` (the note's length only: it may name people).

    Raises:
        NotFoundError: no alarm ``key``.
        ConflictError: it was acknowledged already.
        ValidationError: a note longer than :data:`ACK_NOTE_MAX` characters.
    """
    text = note.strip()
    if len(text) > ACK_NOTE_MAX:
        raise ValidationError(f"an acknowledgement note holds at most {ACK_NOTE_MAX} characters")
    with context.store.unit_of_work() as uow:
        alarm = uow.alarms.get(key)
        if not alarm.active:
            raise ConflictError(f"alarm {key} was acknowledged by {alarm.acked_by} already")
        done = alarm.acknowledged(context.clock.now(), context.actor, text)
        uow.alarms.save(done)
        details = {
            "key": key,
            "kind": done.kind.value,
            "door_id": done.door_id,
            "note_chars": len(text),
        }
        audit(uow, context, "alarm.ack", None, details)
        uow.commit()
    return done


def list_alarms(
    context: ServiceContext, active_only: bool = True, limit: int = LIST_LIMIT
) -> list[AlarmRecord]:
    """The newest alarms (only active ones unless ``active_only`` is false), newest first."""
    with context.store.unit_of_work() as uow:
        return uow.alarms.recent(active_only, max(1, min(limit, LIST_LIMIT)))
