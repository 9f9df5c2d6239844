"""SQLAlchemy repositories of the site's layout (buildings, units, doors, lifts) and rules."""

from __future__ import annotations

import json
from datetime import date, time
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, delete, func, or_, select
from sqlalchemy.orm import Session

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.errors import NotFoundError
from facegate.domain.people import Role
from facegate.domain.site import (
    Building,
    CredentialKind,
    CredentialMode,
    Door,
    DoorKind,
    DoorLiveness,
    Lift,
    Unit,
)
from facegate.store.repositories import deleted_count
from facegate.store.schema import AccessRuleRow, BuildingRow, DoorRow, LiftRow, UnitRow


def _door(row: DoorRow) -> Door:
    accepted = frozenset(CredentialKind(k) for k in row.accepted.split(",") if k)
    return Door(
        row.id,
        row.site_id,
        row.name,
        DoorKind(row.kind),
        CredentialMode(row.mode),
        accepted,
        row.building_id,
        DoorLiveness(row.liveness),
    )


class SqlPlaceRepository:
    """Buildings, units, doors and lifts."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, place: Building | Unit | Door | Lift) -> None:
        """Store a new building, unit, door or lift."""
        self._session.add(_place_row(place))

    def building(self, building_id: str) -> Building:
        """The building with ``building_id`` (:class:`NotFoundError` when none)."""
        row = self._session.get(BuildingRow, building_id)
        if row is None:
            raise NotFoundError(f"no building with id {building_id!r}")
        return Building(row.id, row.site_id, row.name)

    def buildings(self) -> list[Building]:
        """Every building, by name."""
        rows = self._session.scalars(select(BuildingRow).order_by(BuildingRow.name, BuildingRow.id))
        return [Building(r.id, r.site_id, r.name) for r in rows]

    def unit(self, unit_id: str) -> Unit:
        """The unit with ``unit_id`` (:class:`NotFoundError` when none)."""
        row = self._session.get(UnitRow, unit_id)
        if row is None:
            raise NotFoundError(f"no unit with id {unit_id!r}")
        return Unit(row.id, row.building_id, row.label, row.floor)

    def units(self) -> list[Unit]:
        """Every unit, by building, floor and label."""
        order = (UnitRow.building_id, UnitRow.floor, UnitRow.label, UnitRow.id)
        rows = self._session.scalars(select(UnitRow).order_by(*order))
        return [Unit(r.id, r.building_id, r.label, r.floor) for r in rows]

    def door(self, door_id: str) -> Door:
        """The door with ``door_id`` (:class:`NotFoundError` when none)."""
        row = self._session.get(DoorRow, door_id)
        if row is None:
            raise NotFoundError(f"no door with id {door_id!r}")
        return _door(row)

    def doors(self) -> list[Door]:
        """Every door, by name."""
        return [_door(r) for r in self._session.scalars(select(DoorRow).order_by(DoorRow.name))]

    def set_door_liveness(self, door_id: str, liveness: DoorLiveness) -> Door:
        """Set a door's liveness mode; the door as it is now.

        Raises:
            NotFoundError: no door with ``door_id``.
        """
        row = self._session.get(DoorRow, door_id)
        if row is None:
            raise NotFoundError(f"no door with id {door_id!r}")
        row.liveness = liveness.value
        return _door(row)

    def lifts(self) -> list[Lift]:
        """Every lift, by name."""
        rows = self._session.scalars(select(LiftRow).order_by(LiftRow.name))
        return [Lift(r.id, r.building_id, r.name, tuple(json.loads(r.floors))) for r in rows]


def _place_row(place: Building | Unit | Door | Lift) -> BuildingRow | UnitRow | DoorRow | LiftRow:
    if isinstance(place, Building):
        return BuildingRow(id=place.id, site_id=place.site_id, name=place.name)
    if isinstance(place, Unit):
        return UnitRow(
            id=place.id, building_id=place.building_id, label=place.label, floor=place.floor
        )
    if isinstance(place, Lift):
        return LiftRow(
            id=place.id,
            building_id=place.building_id,
            name=place.name,
            floors=json.dumps(list(place.floors)),
        )
    return DoorRow(
        id=place.id,
        site_id=place.site_id,
        name=place.name,
        kind=place.kind.value,
        mode=place.mode.value,
        accepted=",".join(sorted(k.value for k in place.accepted)),
        building_id=place.building_id,
        liveness=place.liveness.value,
    )


def schedule_json(schedule: WeeklySchedule) -> str:
    """A schedule as the JSON document stored in ``access_rules.schedule``."""
    return json.dumps(
        {
            "time_zone": schedule.time_zone,
            "windows": [
                {
                    "weekdays": sorted(w.weekdays),
                    "start": w.start.isoformat("minutes"),
                    "end": w.end.isoformat("minutes"),
                }
                for w in schedule.windows
            ],
            "closed_days": sorted(d.isoformat() for d in schedule.closed_days),
        },
        sort_keys=True,
    )


@lru_cache(maxsize=4096)
def schedule_from_json(text: str) -> WeeklySchedule:
    """The schedule :func:`schedule_json` wrote (schedules are frozen: alike ones shared)."""
    document: dict[str, Any] = json.loads(text)
    windows = tuple(
        TimeWindow(
            frozenset(w["weekdays"]), time.fromisoformat(w["start"]), time.fromisoformat(w["end"])
        )
        for w in document["windows"]
    )
    closed = frozenset(date.fromisoformat(d) for d in document["closed_days"])
    return WeeklySchedule(document["time_zone"], windows, closed)


@lru_cache(maxsize=4096)
def _ids(text: str) -> frozenset[Any]:
    """A JSON list as a frozen set (alike ones shared)."""
    return frozenset(json.loads(text))


def _rule(row: AccessRuleRow | Row[Any]) -> AccessRule:  # a row or its columns
    return AccessRule(
        id=row.id,
        schedule=schedule_from_json(row.schedule),
        person_id=row.person_id,
        role=None if row.role is None else Role(row.role),
        door_ids=_ids(row.door_ids),
        floors=_ids(row.floors),
        building_id=row.building_id,
    )


_RULE_COLUMNS = (
    AccessRuleRow.id,
    AccessRuleRow.schedule,
    AccessRuleRow.person_id,
    AccessRuleRow.role,
    AccessRuleRow.door_ids,
    AccessRuleRow.floors,
    AccessRuleRow.building_id,
)
"""What :func:`_rule` reads, as plain columns (no ORM objects for a whole-table read)."""

_LAST_READ: dict[str, tuple[tuple[Any, ...], AccessRule]] = {}
"""The last whole read of the rules (any store): rule id to its row's columns and the rule.

A rule is frozen and made from its columns alone, so an equal row gives an equal rule:
reused, not made again. Replaced by each whole read (as large as the rules table).
"""


class SqlAccessRuleRepository:
    """Access rules."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, rule: AccessRule) -> None:
        """Store a new rule."""
        self._session.add(
            AccessRuleRow(
                id=rule.id,
                person_id=rule.person_id,
                role=None if rule.role is None else rule.role.value,
                door_ids=json.dumps(sorted(rule.door_ids)),
                floors=json.dumps(sorted(rule.floors)),
                schedule=schedule_json(rule.schedule),
                building_id=rule.building_id,
            )
        )

    def for_subject(self, person_id: str, role: Role) -> list[AccessRule]:
        """The rules about ``person_id`` or their ``role``."""
        query = select(AccessRuleRow).where(
            or_(AccessRuleRow.person_id == person_id, AccessRuleRow.role == role.value)
        )
        return [_rule(r) for r in self._session.scalars(query.order_by(AccessRuleRow.id))]

    def page(self, offset: int, limit: int) -> tuple[list[AccessRule], int]:
        """Up to ``limit`` rules from ``offset`` (by id) and how many there are in all."""
        total = self._session.scalar(select(func.count()).select_from(AccessRuleRow)) or 0
        query = select(AccessRuleRow).order_by(AccessRuleRow.id).offset(offset).limit(limit)
        return [_rule(r) for r in self._session.scalars(query)], total

    def all(self) -> list[AccessRule]:
        """Every rule, in a stable order (by id, as Python orders strings).

        Read as plain rows on the session's connection (pending changes flushed first)
        and sorted here: at 25,000 rules SQLite's sort by id walked the primary key's
        index and read each row out of table order (twice the plain scan). A rule whose
        row is unchanged since the last whole read is the very rule that read made
        (:data:`_LAST_READ`): making 25,000 of them again cost as much as reading them.
        """
        global _LAST_READ
        self._session.flush()
        found: list[Row[Any]] = list(self._session.connection().execute(select(*_RULE_COLUMNS)))
        found.sort(key=itemgetter(0))
        last, kept = _LAST_READ, dict[str, tuple[tuple[Any, ...], AccessRule]]()
        rules = []
        for row in found:
            columns: tuple[Any, ...] = tuple(row)
            known = last.get(row[0])
            rule = known[1] if known is not None and known[0] == columns else _rule(row)
            kept[row[0]] = (columns, rule)
            rules.append(rule)
        _LAST_READ = kept
        return rules

    def delete_for_person(self, person_id: str) -> int:
        """Delete the rules naming ``person_id``; returns how many."""
        statement = delete(AccessRuleRow).where(AccessRuleRow.person_id == person_id)
        return deleted_count(self._session, statement)
