"""Anti-passback zones, doors' places in them and people's presence.

See :class:`facegate.ports.ZoneRepository` and :mod:`facegate.domain.passback`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from facegate.domain.errors import NotFoundError
from facegate.domain.passback import Direction, PassbackMode, Presence, Zone, ZoneDoor
from facegate.store.repositories import deleted_count
from facegate.store.schema import DoorZoneRow, ZonePresenceRow, ZoneRow


class SqlZoneRepository:
    """Rows of ``zones``, ``door_zones`` and ``zone_presence``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, zone: Zone) -> None:
        """Add ``zone`` or change its mode and reset time."""
        row = self._session.get(ZoneRow, zone.name)
        if row is None:
            row = ZoneRow(name=zone.name)
            self._session.add(row)
        row.passback = zone.mode.value
        row.reset_at = None if zone.reset_at is None else zone.reset_at.strftime("%H:%M")
        row.cleared_at = zone.cleared_at

    def get(self, name: str) -> Zone:
        """The zone ``name``.

        Raises:
            NotFoundError: no such zone.
        """
        row = self._session.get(ZoneRow, name)
        if row is None:
            raise NotFoundError(f"no zone named {name!r}")
        return _zone(row)

    def all(self) -> list[Zone]:
        """Every zone, by name."""
        return [_zone(r) for r in self._session.scalars(select(ZoneRow).order_by(ZoneRow.name))]

    def place_door(self, door_id: str, zone: str | None, direction: Direction) -> None:
        """Put the door in ``zone`` going ``direction`` (``zone`` ``None``: in no zone)."""
        row = self._session.get(DoorZoneRow, door_id)
        if zone is None:
            if row is not None:
                self._session.delete(row)
            return
        if row is None:
            row = DoorZoneRow(door_id=door_id)
            self._session.add(row)
        row.zone, row.direction = zone, direction.value

    def doors(self) -> dict[str, tuple[str, Direction]]:
        """Door id to its zone and direction, for every door in a zone."""
        rows = self._session.scalars(select(DoorZoneRow))
        return {r.door_id: (r.zone, Direction(r.direction)) for r in rows}

    def door(self, door_id: str, time_zone: str) -> ZoneDoor | None:
        """The door's zone as its snapshot holds it (``None``: in no zone)."""
        row = self._session.get(DoorZoneRow, door_id)
        if row is None:
            return None
        zone = self.get(row.zone)
        return ZoneDoor(
            zone.name,
            Direction(row.direction),
            zone.mode,
            zone.reset_at,
            time_zone,
            zone.cleared_at,
        )

    def presence(self, zone: str) -> dict[str, Presence]:
        """Person id to their presence in ``zone``."""
        rows = self._session.scalars(select(ZonePresenceRow).where(ZonePresenceRow.zone == zone))
        return {r.person_id: Presence(r.inside, r.since) for r in rows}

    def record(self, zone: str, person_id: str, presence: Presence) -> bool:
        """Keep ``presence`` unless a later one is held (late events); whether it was kept."""
        row = self._session.get(ZonePresenceRow, (zone, person_id))
        if row is None:
            row = ZonePresenceRow(zone=zone, person_id=person_id)
            self._session.add(row)
        elif row.since >= presence.since:
            return False
        row.inside, row.since = presence.inside, presence.since
        return True

    def reset(self, zone: str) -> int:
        """Everyone counts as outside ``zone`` again; returns how many were on record."""
        statement = delete(ZonePresenceRow).where(ZonePresenceRow.zone == zone)
        return deleted_count(self._session, statement)

    def delete_for_person(self, person_id: str) -> int:
        """Forget the person's presence everywhere (erasure); returns how many rows."""
        statement = delete(ZonePresenceRow).where(ZonePresenceRow.person_id == person_id)
        return deleted_count(self._session, statement)

    def stamp(self, door_id: str) -> str:
        """A string that changes whenever the presence of the door's zone changes.

        One query: the count and latest time of the zone's presence rows (a passage
        moves the latest time, a reset the count); ``""`` for a door in no zone.
        """
        return self.stamps([door_id])[door_id]

    def stamps(self, door_ids: Sequence[str]) -> dict[str, str]:
        """:meth:`stamp` of each of ``door_ids``, in one query."""
        query = (
            select(
                DoorZoneRow.door_id,
                func.count(ZonePresenceRow.person_id),
                func.max(ZonePresenceRow.since),
            )
            .join(ZonePresenceRow, ZonePresenceRow.zone == DoorZoneRow.zone, isouter=True)
            .where(DoorZoneRow.door_id.in_(list(door_ids)))
            .group_by(DoorZoneRow.door_id)
        )
        found = dict.fromkeys(door_ids, "")
        for door_id, count, latest in self._session.execute(query):
            when = latest.isoformat() if isinstance(latest, datetime) else str(latest)
            found[door_id] = f"{count}@{when}"
        return found


def _zone(row: ZoneRow) -> Zone:
    reset = None if row.reset_at is None else time.fromisoformat(row.reset_at)
    return Zone(row.name, PassbackMode(row.passback), reset, row.cleared_at)
