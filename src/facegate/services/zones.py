"""Anti-passback zones: set a zone up, put doors in it, reset it (audited).

The rules are :mod:`facegate.domain.passback`; presence is kept from the granted
passages the doors report (:func:`facegate.services.gate_sync.receive_events`) and
decided on at the door (:class:`facegate.gate.controller.DoorController`).

Public functions: :func:`set_zone`, :func:`list_zones`, :func:`place_door`,
:func:`reset_zone`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time

from facegate.domain.audit import DetailValue
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.domain.passback import Direction, PassbackMode, Zone, last_reset, zone_name
from facegate.services.context import ServiceContext, audit


@dataclass(frozen=True, slots=True)
class ZoneView:
    """A zone with its doors and how many people are on record inside.

    Attributes:
        zone: the zone.
        doors: door id to its direction.
        inside: people whose last passage took them in (since the last reset).
    """

    zone: Zone
    doors: dict[str, Direction]
    inside: int

    def to_json(self) -> dict[str, object]:
        """The zone as the CLI's ``--json`` and the API print it."""
        reset = self.zone.reset_at
        cleared = self.zone.cleared_at
        return {
            "name": self.zone.name,
            "passback": self.zone.mode.value,
            "reset_at": None if reset is None else reset.strftime("%H:%M"),
            "cleared_at": None if cleared is None else cleared.isoformat(),
            "doors": {door: direction.value for door, direction in sorted(self.doors.items())},
            "inside": self.inside,
        }


def set_zone(
    context: ServiceContext, name: str, mode: PassbackMode, reset_at: time | None = None
) -> Zone:
    """Add a zone, or change its anti-passback mode and daily reset time; audited.

    Args:
        context: who acts.
        name: the zone's name (1 to 64 characters).
        mode: ``off``, ``soft`` (grant with an alarm) or ``hard`` (refuse).
        reset_at: local time (site time zone) when everyone counts as outside again;
            ``None``: no daily reset.

    Raises:
        ValidationError: a bad name.
    """
    try:
        cleaned = zone_name(name)
    except ValueError as err:
        raise ValidationError(str(err)) from err
    with context.store.unit_of_work() as uow:
        try:
            cleared = uow.zones.get(cleaned).cleared_at
        except NotFoundError:
            cleared = None
        zone = Zone(cleaned, mode, reset_at, cleared)
        uow.zones.put(zone)
        reset = None if reset_at is None else reset_at.strftime("%H:%M")
        details: dict[str, DetailValue] = {"zone": cleaned, "passback": mode.value}
        details["reset_at"] = reset
        audit(uow, context, "zone.set", None, details)
        uow.commit()
    return zone


def list_zones(context: ServiceContext) -> list[ZoneView]:
    """Every zone with its doors and how many people count as inside now."""
    now = context.clock.now()
    with context.store.unit_of_work() as uow:
        site = uow.site.get()
        time_zone = site.time_zone if site is not None else "UTC"
        placed = uow.zones.doors()
        views = []
        for zone in uow.zones.all():
            doors = {d: direction for d, (z, direction) in placed.items() if z == zone.name}
            last = last_reset(zone.reset_at, zone.cleared_at, time_zone, now)
            inside = sum(
                1
                for p in uow.zones.presence(zone.name).values()
                if p.inside and (last is None or p.since >= last)
            )
            views.append(ZoneView(zone, doors, inside))
        return views


def place_door(
    context: ServiceContext, door_id: str, zone: str | None, direction: Direction = Direction.IN
) -> None:
    """Put a door in ``zone`` going ``direction`` (``zone`` ``None``: in no zone); audited.

    Raises:
        NotFoundError: unknown door or zone.
    """
    with context.store.unit_of_work() as uow:
        uow.places.door(door_id)
        if zone is not None:
            uow.zones.get(zone)
        uow.zones.place_door(door_id, zone, direction)
        details: dict[str, DetailValue] = {"zone": zone, "direction": direction.value}
        audit(uow, context, "door.zone", door_id, details)
        uow.commit()


def reset_zone(context: ServiceContext, name: str, reason: str) -> int:
    """Everyone counts as outside ``name`` from now (staff, audited).

    Returns:
        How many presence records were forgotten.

    Raises:
        NotFoundError: unknown zone.
        ValidationError: no reason.
    """
    if not reason.strip() or len(reason) > 500:
        raise ValidationError("a zone reset needs a reason of 1 to 500 characters")
    now = context.clock.now()
    with context.store.unit_of_work() as uow:
        zone = uow.zones.get(name)
        uow.zones.put(replace(zone, cleared_at=now))
        forgotten = uow.zones.reset(name)
        details: dict[str, DetailValue] = {"zone": name, "forgotten": forgotten, "reason": reason}
        audit(uow, context, "zone.reset", None, details)
        uow.commit()
    return forgotten
