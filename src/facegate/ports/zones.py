"""Port of anti-passback zones (see :mod:`facegate.domain.passback`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from facegate.domain.passback import Direction, Presence, Zone, ZoneDoor


class ZoneRepository(Protocol):
    """Zones, doors' places in them and people's presence per zone."""

    def put(self, zone: Zone) -> None:
        """Add ``zone`` or change its mode and reset time."""
        ...

    def get(self, name: str) -> Zone:
        """The zone ``name`` (:class:`NotFoundError` when none)."""
        ...

    def all(self) -> list[Zone]:
        """Every zone, by name."""
        ...

    def place_door(self, door_id: str, zone: str | None, direction: Direction) -> None:
        """Put the door in ``zone`` going ``direction`` (``zone`` ``None``: in no zone)."""
        ...

    def doors(self) -> dict[str, tuple[str, Direction]]:
        """Door id to its zone and direction, for every door in a zone."""
        ...

    def door(self, door_id: str, time_zone: str) -> ZoneDoor | None:
        """The door's zone as its snapshot holds it (``None``: in no zone)."""
        ...

    def presence(self, zone: str) -> dict[str, Presence]:
        """Person id to their presence in ``zone``."""
        ...

    def record(self, zone: str, person_id: str, presence: Presence) -> bool:
        """Keep ``presence`` unless a later one is held; whether it was kept."""
        ...

    def reset(self, zone: str) -> int:
        """Everyone counts as outside ``zone`` again; how many were on record."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Forget the person's presence everywhere; how many rows."""
        ...

    def stamp(self, door_id: str) -> str:
        """A string that changes whenever the presence of the door's zone changes."""
        ...

    def stamps(self, door_ids: Sequence[str]) -> dict[str, str]:
        """:meth:`stamp` of each of ``door_ids`` at once (``""`` for a door in no zone)."""
        ...
