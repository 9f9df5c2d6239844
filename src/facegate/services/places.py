"""Use cases on the site's layout and access rules: buildings, doors, lifts, rules."""

from __future__ import annotations

from collections.abc import Iterable

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule, access_reason
from facegate.domain.audit import DetailValue
from facegate.domain.errors import SiteNotInitializedError, ValidationError
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import (
    FLOORS,
    Building,
    CredentialKind,
    CredentialMode,
    Door,
    DoorKind,
    DoorLiveness,
    Lift,
)
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id
from facegate.services.paging import PAGE_SIZE, Page, offset_of


def _site_id(uow: UnitOfWork) -> str:
    site = uow.site.get()
    if site is None:
        raise SiteNotInitializedError("no site yet: run 'facegate site init --name NAME'")
    return site.id


def add_building(context: ServiceContext, name: str) -> Building:
    """Add a building to the site."""
    with context.store.unit_of_work() as uow:
        building = Building(new_id(), _site_id(uow), name.strip())
        uow.places.add(building)
        audit(uow, context, "building.add", building.id)
        uow.commit()
    return building


def add_door(
    context: ServiceContext,
    name: str,
    kind: DoorKind,
    mode: CredentialMode,
    accepted: Iterable[CredentialKind],
    building_id: str | None = None,
    liveness: DoorLiveness = DoorLiveness.DEFAULT,
) -> Door:
    """Add a door (``liveness``: see :class:`DoorLiveness`).

    Raises:
        ValidationError: it accepts nothing, or faces only (a non-face way in is required).
        NotFoundError: unknown building.
    """
    with context.store.unit_of_work() as uow:
        door = Door(
            new_id(),
            _site_id(uow),
            name.strip(),
            kind,
            mode,
            frozenset(accepted),
            building_id,
            liveness,
        )
        if building_id is not None:
            uow.places.building(building_id)
        uow.places.add(door)
        kinds = ",".join(sorted(k.value for k in door.accepted))
        details = {"kind": kind.value, "accepted": kinds, "liveness": liveness.value}
        audit(uow, context, "door.add", door.id, details)
        uow.commit()
    return door


def set_door_liveness(context: ServiceContext, door_id: str, liveness: DoorLiveness) -> Door:
    """Set how a door checks that a face is live (audited as ``door.liveness``).

    The change reaches the door with its next snapshot (the site data version moves).

    Raises:
        NotFoundError: unknown door.
    """
    with context.store.unit_of_work() as uow:
        door = uow.places.set_door_liveness(door_id, liveness)
        audit(uow, context, "door.liveness", door.id, {"liveness": liveness.value})
        uow.commit()
    return door


def add_lift(context: ServiceContext, building_id: str, name: str, floors: Iterable[int]) -> Lift:
    """Add a lift serving ``floors`` of a building."""
    with context.store.unit_of_work() as uow:
        uow.places.building(building_id)
        lift = Lift(new_id(), building_id, name.strip(), tuple(sorted(set(floors))))
        uow.places.add(lift)
        audit(uow, context, "lift.add", lift.id)
        uow.commit()
    return lift


def list_doors(context: ServiceContext) -> list[Door]:
    """Every door, by name."""
    with context.store.unit_of_work() as uow:
        return uow.places.doors()


def list_buildings(context: ServiceContext) -> list[Building]:
    """Every building, by name."""
    with context.store.unit_of_work() as uow:
        return uow.places.buildings()


def list_rules(context: ServiceContext, page: int = 1) -> Page[AccessRule]:
    """One page of access rules, by id (the read is audited: rules name people).

    Args:
        context: who asks and the store.
        page: the page's number, 1-based (:data:`~facegate.services.paging.PAGE_SIZE` rows).

    Raises:
        ValidationError: a page number out of range.
    """
    offset = offset_of(page)
    with context.store.unit_of_work() as uow:
        found, total = uow.rules.page(offset, PAGE_SIZE)
        audit(uow, context, "rule.list", None, {"count": len(found), "total": total, "page": page})
        uow.commit()
    return Page(found, total, page)


def add_access_rule(
    context: ServiceContext,
    windows: Iterable[TimeWindow],
    *,
    person_id: str | None = None,
    role: Role | None = None,
    door_ids: Iterable[str] = (),
    floors: Iterable[int] = (),
    building_id: str | None = None,
) -> AccessRule:
    """Let a person, or a role, through doors or to floors in weekly ``windows``.

    The windows are read in the site's time zone. ``building_id`` limits the floors to
    that building's lifts (``None``: the floors in every building).

    Raises:
        ValidationError: not exactly one of person and role, no door or floor, a floor
            out of :data:`~facegate.domain.site.FLOORS`, or a building without floors.
        NotFoundError: unknown person, door or building.
    """
    floors = frozenset(floors)
    if any(floor not in FLOORS for floor in floors):
        raise ValidationError(f"floors are between {FLOORS[0]} and {FLOORS[-1]}")
    with context.store.unit_of_work() as uow:
        rule = add_access_rule_in(
            uow,
            context,
            windows,
            person_id=person_id,
            role=role,
            door_ids=door_ids,
            floors=floors,
            building_id=building_id,
        )
        uow.commit()
    return rule


def add_access_rule_in(
    uow: UnitOfWork,
    context: ServiceContext,
    windows: Iterable[TimeWindow],
    *,
    person_id: str | None = None,
    role: Role | None = None,
    door_ids: Iterable[str] = (),
    floors: Iterable[int] = (),
    building_id: str | None = None,
) -> AccessRule:
    """:func:`add_access_rule` inside ``uow`` (the caller commits: a bulk import's batch)."""
    site = uow.site.get()
    if site is None:
        raise SiteNotInitializedError("no site yet: run 'facegate site init --name NAME'")
    schedule = WeeklySchedule(site.time_zone, tuple(windows))
    rule = AccessRule(
        new_id(), schedule, person_id, role, frozenset(door_ids), frozenset(floors), building_id
    )
    if person_id is not None:
        uow.people.get(person_id)
    for door_id in sorted(rule.door_ids):
        uow.places.door(door_id)
    if building_id is not None:
        uow.places.building(building_id)
    uow.rules.add(rule)
    details: dict[str, DetailValue] = {"rule_id": rule.id, "role": role and role.value}
    if rule.floors:
        details["floors"] = ",".join(str(f) for f in sorted(rule.floors))
        details["building_id"] = building_id
    audit(uow, context, "rule.add", person_id, details)
    return rule


def may_pass(context: ServiceContext, person_id: str, door_id: str) -> Reason:
    """Whether a person may pass a door now (``granted``, ``outside_schedule``...).

    Raises:
        NotFoundError: unknown person or door.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        uow.places.door(door_id)
        rules = uow.rules.for_subject(person.id, person.role)
    return access_reason(rules, person.id, person.role, door_id, context.clock.now())
