"""Use cases on people: add, list, move out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from facegate.domain.errors import SiteNotInitializedError
from facegate.domain.people import Person, Role, check_name
from facegate.services.context import ServiceContext, audit, new_id


def add_person(
    context: ServiceContext,
    name: str,
    role: Role = Role.RESIDENT,
    *,
    unit_id: str | None = None,
    minor: bool = False,
) -> Person:
    """Add a person to the site (audited by id and role only).

    Raises:
        SiteNotInitializedError: no site yet.
        ValidationError: empty, too long (over 200 characters) or with control characters.
        NotFoundError: unknown unit.
    """
    with context.store.unit_of_work() as uow:
        site = uow.site.get()
        if site is None:
            raise SiteNotInitializedError("no site yet: run 'facegate site init --name NAME'")
        if unit_id is not None:
            uow.places.unit(unit_id)
        person = Person(
            id=new_id(),
            site_id=site.id,
            name=check_name(name),
            role=role,
            created_at=context.clock.now(),
            unit_id=unit_id,
            minor=minor,
        )
        uow.people.add(person)
        audit(uow, context, "person.add", person.id, {"role": role.value, "minor": minor})
        uow.commit()
    return person


def list_people(context: ServiceContext) -> list[Person]:
    """Every person, oldest first (the read is audited)."""
    with context.store.unit_of_work() as uow:
        people = uow.people.all()
        audit(uow, context, "person.list", None, {"count": len(people)})
        uow.commit()
    return people


def move_out(context: ServiceContext, person_id: str) -> Person:
    """Record that a person left; their templates go at the next purge past retention.

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        moved = replace(person, moved_out_at=context.clock.now())
        uow.people.update(moved)
        audit(uow, context, "person.move_out", person_id)
        uow.commit()
    return moved


def set_unit(context: ServiceContext, person_id: str, unit_id: str | None) -> Person:
    """Record the unit a person lives or works in (``None``: none); audited.

    Their unit's floor becomes their home floor in their building's lifts (see
    :mod:`facegate.domain.lifts`).

    Raises:
        NotFoundError: unknown person or unit.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        if unit_id is not None:
            uow.places.unit(unit_id)
        moved = replace(person, unit_id=unit_id)
        uow.people.update(moved)
        audit(uow, context, "person.unit", person_id, {"unit_id": unit_id})
        uow.commit()
    return moved


def names_of(context: ServiceContext, person_ids: Iterable[str]) -> dict[str, str]:
    """The names of those of ``person_ids`` still on file, by id.

    Pages show names; an erased person has none. Not audited: a name beside a record
    the page shows anyway.
    """
    with context.store.unit_of_work() as uow:
        return uow.reads.person_names(person_ids)  # batched: a fixed number of queries
