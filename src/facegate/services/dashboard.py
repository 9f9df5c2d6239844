"""The console's dashboard: every door and lift with its gates, its state and today's counts.

What it knows of a door comes from three places the server already has: the gates'
latest reports (:mod:`facegate.services.gate_health`), the access events (today's counts
in one grouped query, the last grants of the last few seconds) and the alarms raised
stored in the alarm log (:mod:`facegate.services.alarm_log`). A door is
*unlocked* for ``unlock_s`` after a grant, *forced* or *held* for ``alarm_active_s``
after such an alarm until it is acknowledged (the latest of these wins), else *locked*;
a door whose gate reports its contact ``open`` (with each snapshot poll, about once a
second) and is neither forced nor held is *open*. Without a contact sensor (or before a
report) the door is never shown open: it is not inferred from grants.

Its reads are not audited one by one (the page refreshes itself every few seconds, like
the live event stream's polls); opening the dashboard is (:func:`open_dashboard`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from facegate.domain.accounts import GateKind
from facegate.domain.alarms import AlarmRecord
from facegate.domain.events import Event, EventQuery
from facegate.domain.gate import GateEventKind
from facegate.domain.reasons import Reason
from facegate.services.context import ServiceContext, audit
from facegate.services.gate_health import BOARD, GateBoard, GateHealth, gate_health

FEED_SIZE = 20
"""Latest events the dashboard's feed shows."""


class DoorState(StrEnum):
    """What a door is doing now, as far as the server can tell."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    OPEN = "open"
    HELD = "held"
    FORCED = "forced"


_ALARM_STATES = {
    GateEventKind.DOOR_FORCED_OPEN.value: DoorState.FORCED,
    GateEventKind.DOOR_HELD_OPEN.value: DoorState.HELD,
}


def door_state(
    now: datetime,
    last_grant: datetime | None,
    alarms: Iterable[tuple[str, datetime]],
    unlock_s: float,
    alarm_active_s: float,
    contact: str = "unknown",
) -> DoorState:
    """A door's state from its last grant, its alarms and its contact (pure).

    Args:
        now: the time (UTC).
        last_grant: the door's latest granted decision, if any.
        alarms: ``(alarm type, when)`` of the door's alarms (any type; the door ones count).
        unlock_s: how long a grant keeps the door unlocked (seconds, typical 5).
        alarm_active_s: how long a forced or held alarm marks the door (seconds, typical 300).
        contact: the door contact as its gates report it (``open``, ``closed``, ``unknown``).

    Returns:
        The state of the most recent signal still in force (an open contact turns
        ``locked`` or ``unlocked`` into ``open``; a forced or held alarm stays), else
        ``locked``.
    """
    signals: list[tuple[datetime, DoorState]] = []
    if last_grant is not None and now - last_grant <= timedelta(seconds=unlock_s):
        signals.append((last_grant, DoorState.UNLOCKED))
    for kind, at in alarms:
        state = _ALARM_STATES.get(kind)
        if state is not None and now - at <= timedelta(seconds=alarm_active_s):
            signals.append((at, state))
    state = max(signals, key=lambda s: s[0])[1] if signals else DoorState.LOCKED
    if contact == "open" and state in (DoorState.LOCKED, DoorState.UNLOCKED):
        return DoorState.OPEN
    return state


@dataclass(frozen=True, slots=True)
class GateLine:
    """One gate as the dashboard shows it.

    Attributes:
        health: the gate and its latest report.
        online: heard from within ``online_s``.
        seen_s: seconds since it was last heard (``None``: not since the server started).
        sync_s: seconds since its last successful snapshot check (``None``: unknown).
        liveness: its liveness mode when known (kiosks: the server's; edge gates: the
            one they report, ``None`` when they did not).
    """

    health: GateHealth
    online: bool
    seen_s: float | None
    sync_s: float | None
    liveness: str | None


@dataclass(frozen=True, slots=True)
class DoorLine:
    """A door or lift with its gates, state and today's counts.

    Attributes:
        id: the door or lift.
        name: its name.
        is_lift: a lift (else a door).
        state: what it is doing now.
        gates: its registered gates.
        entries: granted decisions today.
        denials: refused decisions today, by reason.
    """

    id: str
    name: str
    is_lift: bool
    state: DoorState
    gates: list[GateLine]
    entries: int
    denials: dict[Reason, int]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The whole dashboard.

    Attributes:
        doors: every door, then every lift, by name.
        entries: granted decisions today, all doors.
        denials: refused decisions today by reason, all doors.
        alarms: the alarms not yet acknowledged, newest first.
        recent: the latest events, newest first.
        day_start: where "today" began (UTC), midnight in the site's time zone.
    """

    doors: list[DoorLine]
    entries: int
    denials: dict[Reason, int]
    alarms: list[AlarmRecord]
    recent: list[Event]
    day_start: datetime


@dataclass(frozen=True, slots=True)
class Timing:
    """How long things count on the dashboard, in seconds.

    Attributes:
        unlock_s: a grant keeps a door unlocked (the gates' unlock duration, typical 5).
        online_s: a gate heard within this is online (the silent-gate limit, typical 60).
        alarm_active_s: a forced or held alarm marks its door (typical 300).
    """

    unlock_s: float = 5.0
    online_s: float = 60.0
    alarm_active_s: float = 300.0


def _day_start(context: ServiceContext, now: datetime) -> datetime:
    with context.store.unit_of_work() as uow:
        site = uow.site.get()
    zone = ZoneInfo(site.time_zone if site is not None else "UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


def gate_line(item: GateHealth, now: datetime, timing: Timing, liveness: str) -> GateLine:
    """``item`` as the console shows it at ``now``."""
    seen = None if item.last_seen is None else (now - item.last_seen).total_seconds()
    sync = item.report.last_sync
    return GateLine(
        item,
        seen is not None and seen <= timing.online_s,
        seen,
        None if sync is None else (now - sync).total_seconds(),
        liveness if item.kind is GateKind.KIOSK else (item.report.liveness or None),
    )


def build_dashboard(
    context: ServiceContext,
    alarms: Sequence[AlarmRecord],
    timing: Timing,
    kiosk_liveness: str,
    board: GateBoard = BOARD,
) -> Dashboard:
    """Everything the dashboard shows, now.

    Args:
        context: who asks.
        alarms: the latest stored alarms, acknowledged or not
            (:func:`facegate.services.alarm_log.list_alarms`).
        timing: how long grants, silences and alarms count.
        kiosk_liveness: the liveness mode the server decides kiosk frames with.
        board: the gates' latest reports.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    now = context.clock.now()
    start = _day_start(context, now)
    health = gate_health(context, board)
    with context.store.unit_of_work() as uow:
        targets = [(d.id, d.name, False) for d in uow.places.doors()]
        targets += [(lift.id, lift.name, True) for lift in uow.places.lifts()]
        counts = uow.events.counts_since(start)
        grants = uow.events.search(EventQuery(granted=True, since=now - _s(timing.unlock_s)))
        recent = uow.events.search(EventQuery(limit=FEED_SIZE))
    active = [a for a in alarms if a.acked_at is None]
    lines = [
        _door_line(target, now, health, counts, grants, active, timing, kiosk_liveness)
        for target in targets
    ]
    denials: dict[Reason, int] = {}
    for _, reason, n in counts:
        if reason is not Reason.GRANTED:
            denials[reason] = denials.get(reason, 0) + n
    entries = sum(n for _, reason, n in counts if reason is Reason.GRANTED)
    newest = sorted(active, key=lambda a: a.occurred_at, reverse=True)
    return Dashboard(lines, entries, denials, newest, recent, start)


def _door_line(
    target: tuple[str, str, bool],
    now: datetime,
    health: list[GateHealth],
    counts: list[tuple[str, Reason, int]],
    grants: list[Event],
    alarms: list[AlarmRecord],
    timing: Timing,
    kiosk_liveness: str,
) -> DoorLine:
    target_id, name, is_lift = target
    last_grant = max((e.occurred_at for e in grants if e.door_id == target_id), default=None)
    mine = [(a.kind.value, a.occurred_at) for a in alarms if a.door_id == target_id]
    gates = [
        gate_line(item, now, timing, kiosk_liveness)
        for item in health
        if item.target_id == target_id
    ]
    contact = _contact(gates)
    state = door_state(now, last_grant, mine, timing.unlock_s, timing.alarm_active_s, contact)
    denials: dict[Reason, int] = {
        r: n for door, r, n in counts if door == target_id and r is not Reason.GRANTED
    }
    entries = sum(n for door, r, n in counts if door == target_id and r is Reason.GRANTED)
    return DoorLine(target_id, name, is_lift, state, gates, entries, denials)


def _contact(gates: list[GateLine]) -> str:
    """The door contact as the door's online gates report it: any ``open`` wins."""
    said = {g.health.report.door for g in gates if g.online}
    return "open" if "open" in said else "closed" if "closed" in said else "unknown"


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def open_dashboard(context: ServiceContext) -> None:
    """Record that someone opened the dashboard (its refreshes are not audited)."""
    with context.store.unit_of_work() as uow:
        audit(uow, context, "dashboard.open")
        uow.commit()
