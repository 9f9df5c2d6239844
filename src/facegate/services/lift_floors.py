"""Use cases on lift floors: units, extra floors per person or role, what a person may reach.

A resident's unit gives its floor in their building's lifts (their *home floor*); extra
floors are access rules that name floors, optionally bound to one building's lifts. The
floors a person reaches in each lift now are computed by the same pure function the gate
uses (:func:`facegate.domain.lifts.person_floors`), so what the console shows is what the
lift will do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from facegate.domain.access import AccessRule, TimeWindow
from facegate.domain.errors import ValidationError
from facegate.domain.lifts import HOME_FLOOR_ROLES, LiftCar, person_floors
from facegate.domain.people import Person, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import FLOORS, Lift, Unit
from facegate.services import places
from facegate.services.context import ServiceContext, audit, new_id

ALL_WEEK = TimeWindow(frozenset(range(7)), time(0, 0), time(23, 59, 59, 999999))
"""The default window of extra floors: every day, all day."""

MAX_LABEL_CHARS = 64
"""Most characters in a unit's label ("12B")."""


def add_unit(context: ServiceContext, building_id: str, label: str, floor: int) -> Unit:
    """Add a unit (flat or office) on ``floor`` of a building.

    Raises:
        ValidationError: an empty or too long label, or a floor out of range.
        NotFoundError: unknown building.
    """
    label = label.strip()
    if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
        raise ValidationError(f"a unit needs a printable label of 1 to {MAX_LABEL_CHARS} chars")
    if floor not in FLOORS:
        raise ValidationError(f"floors are between {FLOORS[0]} and {FLOORS[-1]}")
    with context.store.unit_of_work() as uow:
        uow.places.building(building_id)
        unit = Unit(new_id(), building_id, label, floor)
        uow.places.add(unit)
        audit(uow, context, "unit.add", unit.id, {"building_id": building_id, "floor": floor})
        uow.commit()
    return unit


def list_units(context: ServiceContext) -> list[Unit]:
    """Every unit, by building, floor and label."""
    with context.store.unit_of_work() as uow:
        return uow.places.units()


def role_grants(context: ServiceContext) -> list[AccessRule]:
    """The extra-floor rules given to roles (a role's grants name no person)."""
    with context.store.unit_of_work() as uow:
        return [r for r in uow.rules.all() if r.floors and r.role is not None]


def grant_floors(
    context: ServiceContext,
    floors: Iterable[int],
    *,
    person_id: str | None = None,
    role: Role | None = None,
    building_id: str | None = None,
    windows: Iterable[TimeWindow] = (ALL_WEEK,),
) -> AccessRule:
    """Give a person, or everyone with a role, extra floors (an access rule; audited).

    Args:
        context: who asks and the store.
        floors: the extra floors.
        person_id: the person, or
        role: every person with this role.
        building_id: only in this building's lifts (``None``: in every building).
        windows: when, in the site's time zone (default all week, all day).

    Raises:
        ValidationError: no floor, a floor out of range, not exactly one of person and role.
        NotFoundError: unknown person or building.
    """
    chosen = frozenset(floors)
    if not chosen:
        raise ValidationError("name at least one floor")
    return places.add_access_rule(
        context, windows, person_id=person_id, role=role, floors=chosen, building_id=building_id
    )


@dataclass(frozen=True, slots=True)
class LiftReach:
    """What one lift enables for a person now.

    Attributes:
        lift: the lift.
        reason: ``granted``, ``outside_schedule`` or ``not_allowed_here``.
        floors: the floors it enables for them now (empty unless granted).
    """

    lift: Lift
    reason: Reason
    floors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PersonFloors:
    """A person's floors: home floor, extra-floor rules, and each lift's answer now.

    Attributes:
        person: who.
        unit: their unit, if any.
        home_floor: their unit's floor when their role gives one (visitors have none).
        rules: the rules giving them extra floors (theirs and their role's).
        lifts: each lift of the site and what it enables for them now.
    """

    person: Person
    unit: Unit | None
    home_floor: int | None
    rules: list[AccessRule]
    lifts: list[LiftReach]


def floors_of(context: ServiceContext, person_id: str) -> PersonFloors:
    """A person's floors in every lift now (the read is audited).

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        unit = uow.places.unit(person.unit_id) if person.unit_id is not None else None
        rules = [r for r in uow.rules.for_subject(person.id, person.role) if r.floors]
        lifts = uow.places.lifts()
        audit(uow, context, "person.floors", person.id, {"rules": len(rules)})
        uow.commit()
    home_floor = unit.floor if unit is not None and person.role in HOME_FLOOR_ROLES else None
    now = context.clock.now()
    reach = []
    for lift in lifts:
        car = LiftCar(lift.floors, lift.building_id)
        if person.moved_out_at is not None:  # every credential of theirs is refused
            reach.append(LiftReach(lift, Reason.NOT_ALLOWED_HERE, ()))
            continue
        home = home_floor if unit is not None and unit.building_id == lift.building_id else None
        reason, enabled = person_floors(rules, person.id, person.role, home, car, now)
        reach.append(LiftReach(lift, reason, enabled))
    return PersonFloors(person, unit, home_floor, rules, reach)
