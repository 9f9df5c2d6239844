"""The site side of a gate's sync: its events, each received once, if plausible (F7).

Snapshots are built in :mod:`facegate.services.snapshots` (re-exported here).

A gate's event is refused (not stored, its key receipted so the outbox lets it go, and
one ``gate.event_refused`` audit record says why) when it occurred more than
:data:`MAX_AHEAD_S` after the server's clock or longer than ``max_age_s`` before it; an
event naming another door than the gate's refuses the whole batch (a gate that does
that is not honest). Notes are bounded (:data:`MAX_NOTE_CHARS`). A visitor pass's use
counts only when the pass was valid at that time and the door is a door, once per
event key.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum

from facegate.domain import passback
from facegate.domain.accounts import Gate
from facegate.domain.audit import DetailValue
from facegate.domain.errors import NotFoundError, PolicyRefusedError, ValidationError
from facegate.domain.events import Event
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit
from facegate.services.snapshots import build_snapshot, gate_target

__all__ = ["build_snapshot", "canonical_json", "gate_target", "receive_events"]

MAX_AHEAD_S = 300.0
"""How far after the server's clock a gate's event may be dated (seconds)."""
DEFAULT_MAX_AGE_S = 30 * 86_400.0
"""How long before the server's clock a gate's event may be dated (seconds, 30 days;
``Settings.gate.event_max_age_s``)."""
MAX_NOTE_CHARS = 500
"""Longest note an event may carry (characters)."""
MAX_ID_CHARS = 64
"""Longest key, person or pass id an event may carry (characters)."""


def canonical_json(value: object) -> str:
    """``value`` as JSON that equal content always spells the same way, in any process.

    Dataclasses become objects, sets and frozensets sorted lists (their iteration order
    follows per-process string hashing), enums their values, dates ISO 8601, dict keys
    sorted.
    """
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=str)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def receive_events(
    context: ServiceContext,
    events: Sequence[GateEvent],
    gate: Gate | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
) -> int:
    """Store a gate's events, each once by its key; returns how many were new.

    A decision becomes an access event (its id is the key), counts a visitor pass's
    use and, granted at a door of an anti-passback zone, moves the person in or out
    of the zone (a later passage already held wins); an alarm or remote unlock becomes
    an audit record. All in one transaction.

    Args:
        context: who delivers (the gate's device or the gate's own database link).
        events: the batch.
        gate: the registered gate delivering (its door is the only one its events may
            name); ``None`` for a gate on the site database, trusted with the door.
        max_age_s: oldest event accepted (seconds before the server's clock).

    Raises:
        PolicyRefusedError: an event names another door than ``gate``'s (nothing stored).
        ValidationError: an event's key, ids or note are too long (nothing stored).
        DatabaseUnavailableError: the database cannot be reached (nothing is stored).
    """
    for event in events:
        _check_shape(event, gate)
    new = 0
    with context.store.unit_of_work() as uow:
        now = context.clock.now()
        for event in events:
            if not uow.events.claim_receipt(event.key, event.gate_id, now):
                continue
            refusal = _refusal(event, now, max_age_s)
            if refusal is None:
                _store_one(uow, context, event)
            else:
                _refuse(uow, context, event, refusal)
            new += refusal is None
        uow.commit()
    return new


def _check_shape(event: GateEvent, gate: Gate | None) -> None:
    if gate is not None and event.door_id != gate.target_id:
        raise PolicyRefusedError(f"gate {gate.id} may only report events of its own door")
    ids = (event.key, event.gate_id, event.door_id, event.person_id or "", event.pass_id or "")
    if any(len(value) > MAX_ID_CHARS for value in ids):
        raise ValidationError(f"an event's key and ids are at most {MAX_ID_CHARS} characters")
    if len(event.note) > MAX_NOTE_CHARS:
        raise ValidationError(f"an event's note is at most {MAX_NOTE_CHARS} characters")


def _refusal(event: GateEvent, now: datetime, max_age_s: float) -> str | None:
    if event.occurred_at > now + timedelta(seconds=MAX_AHEAD_S):
        return "in_the_future"
    if event.occurred_at < now - timedelta(seconds=max_age_s):
        return "too_old"
    return None


def _refuse(uow: UnitOfWork, context: ServiceContext, event: GateEvent, why: str) -> None:
    details: dict[str, DetailValue] = {
        "key": event.key,
        "gate_id": event.gate_id,
        "door_id": event.door_id,
        "occurred_at": event.occurred_at.isoformat(),
        "why": why,
    }
    audit(uow, context, "gate.event_refused", None, details)


def _store_one(uow: UnitOfWork, context: ServiceContext, event: GateEvent) -> None:
    if event.kind is not GateEventKind.DECISION or event.reason is None:
        details: dict[str, DetailValue] = {
            "door_id": event.door_id,
            "gate_id": event.gate_id,
            "key": event.key,
            "note": event.note,
        }
        audit(uow, context, f"door.{event.kind.value}", event.person_id, details)
        return
    scores = {name: float(value) for name, value in event.scores.items()}
    uow.events.add(
        Event(
            event.key,
            event.door_id,
            event.occurred_at,
            event.granted,
            event.reason,
            event.person_id,
            scores,
        )
    )
    if event.granted and event.pass_id is not None:
        _count_pass_use(uow, event, event.pass_id)
    if event.granted and event.person_id is not None:
        _keep_presence(uow, event, event.person_id)


def _keep_presence(uow: UnitOfWork, event: GateEvent, person_id: str) -> None:
    """A granted passage at a door of a zone moves the person in or out of it."""
    zone = uow.zones.door(event.door_id, "UTC")
    if zone is not None:
        uow.zones.record(zone.zone, person_id, passback.after(zone, event.occurred_at))


def _count_pass_use(uow: UnitOfWork, event: GateEvent, pass_id: str) -> None:
    """Count one use of the event's pass, if it was valid at that door at that time."""
    try:
        visitor_pass = uow.passes.get(pass_id)
        target, _ = gate_target(uow, event.door_id)
    except NotFoundError:
        return  # the pass (or door) was deleted since: nothing left to count
    if target.is_lift or visitor_pass.refusal(event.occurred_at) is not None:
        return
    uow.passes.update(visitor_pass.used())
