"""Which floors a lift enables for one ride: the home floor, extra floors, a visitor's host.

A person's floors in a lift are the union of:

- their *home floor*: the floor of their unit, when the unit is in the lift's building
  (residents, household members and staff with an office unit; never visitors), open at
  all hours;
- their *extra floors*: access rules that name floors, for them or for their role, either
  in every building (the rule names no building) or in the lift's building only, each
  open on its own schedule.

A visitor pass rides to its host's home floor only, in the host's building, within the
pass's validity window (a ride does not count as a use: the uses are counted at doors).

Only floors the lift serves are ever enabled. Pure functions: no I/O, no clock reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from facegate.domain.access import AccessRule
from facegate.domain.people import Role
from facegate.domain.reasons import Reason

HOME_FLOOR_ROLES = frozenset({Role.RESIDENT, Role.HOUSEHOLD_MEMBER, Role.STAFF})
"""Roles whose unit gives them its floor in their building's lifts (visitors have none)."""


@dataclass(frozen=True, slots=True)
class LiftCar:
    """The lift a decision is for.

    Attributes:
        floors: the floors it serves, ascending.
        building_id: its building; ``None`` when unknown (then only rules that name no
            building apply, and no home floor does).
    """

    floors: tuple[int, ...]
    building_id: str | None = None


def rule_serves(rule: AccessRule, car: LiftCar) -> bool:
    """Whether ``rule`` names a floor of ``car`` in its building (or in every building)."""
    return _serves(rule, car.building_id, frozenset(car.floors))


def rules_serving(rules: Iterable[AccessRule], car: LiftCar) -> tuple[AccessRule, ...]:
    """The rules of ``rules`` that serve ``car`` (:func:`rule_serves`), in their order.

    The car's floors are made a set once, not once per rule: a lift's snapshot filters
    every rule of the site (25,000 at a large one).
    """
    floors = frozenset(car.floors)
    return tuple(r for r in rules if _serves(r, car.building_id, floors))


def _serves(rule: AccessRule, building_id: str | None, floors: frozenset[int]) -> bool:
    if rule.building_id is not None and rule.building_id != building_id:
        return False
    return not rule.floors.isdisjoint(floors)


def home_floors(
    people: Mapping[str, tuple[Role, str | None, int | None]], building_id: str
) -> dict[str, int]:
    """Person id to home floor in ``building_id``, for people whose role gives one.

    Args:
        people: person id to (role, their unit's building id, their unit's floor).
        building_id: the lift's building.
    """
    return {
        pid: floor
        for pid, (role, building, floor) in people.items()
        if role in HOME_FLOOR_ROLES and building == building_id and floor is not None
    }


def person_floors(
    rules: Iterable[AccessRule],
    person_id: str,
    role: Role,
    home_floor: int | None,
    car: LiftCar,
    now: datetime,
) -> tuple[Reason, tuple[int, ...]]:
    """The floors ``person_id`` may ride to in ``car`` at ``now``, with the reason.

    Returns:
        ``(granted, floors)`` with the served floors allowed now (ascending);
        ``(outside_schedule, ())`` when rules name served floors but none is open now;
        ``(not_allowed_here, ())`` when nothing names a floor this lift serves.
    """
    served = set(car.floors)
    relevant = [r for r in rules if r.applies_to(person_id, role) and rule_serves(r, car)]
    home = {home_floor} & served if home_floor is not None else set()
    named = home | {floor for rule in relevant for floor in rule.floors} & served
    if not named:
        return Reason.NOT_ALLOWED_HERE, ()
    open_now = home | {f for r in relevant if r.schedule.is_open(now) for f in r.floors}
    floors = tuple(sorted(named & open_now))
    if not floors:
        return Reason.OUTSIDE_SCHEDULE, ()
    return Reason.GRANTED, floors


def pass_floors(host_floor: int | None, car: LiftCar) -> tuple[Reason, tuple[int, ...]]:
    """The floors a visitor pass rides to: its host's home floor, if this lift serves it.

    Args:
        host_floor: the host's home floor in ``car``'s building, ``None`` when the host
            has none there (another building, no unit, moved out).
        car: the lift.
    """
    if host_floor is None or host_floor not in car.floors:
        return Reason.NOT_ALLOWED_HERE, ()
    return Reason.GRANTED, (host_floor,)
