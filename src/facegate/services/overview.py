"""Read models for the console and the portal: a person with their consent and templates."""

from __future__ import annotations

from dataclasses import dataclass

from facegate.domain.credentials import VisitorPass
from facegate.domain.people import ConsentPurpose, ConsentRecord, Person, consent_in_force
from facegate.domain.site import Lift, Site
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """A person as a list shows them.

    Attributes:
        person: the record.
        face_consent: the face_access consent in force, ``None`` when none is.
        templates: how many face templates are stored for them.
        cards: how many cards they hold.
    """

    person: Person
    face_consent: ConsentRecord | None
    templates: int
    cards: int


@dataclass(frozen=True, slots=True)
class PersonDetail:
    """A person with every consent record and the passes they host."""

    summary: PersonSummary
    consents: list[ConsentRecord]
    passes: list[VisitorPass]


def _summary(uow: UnitOfWork, context: ServiceContext, person: Person) -> PersonSummary:
    consents = uow.consents.for_person(person.id)
    return PersonSummary(
        person=person,
        face_consent=consent_in_force(consents, ConsentPurpose.FACE_ACCESS, context.clock.now()),
        templates=len(uow.templates.for_person(person.id)),
        cards=len(uow.credentials.cards_for(person.id)),
    )


def people_overview(context: ServiceContext) -> list[PersonSummary]:
    """Every person with their consent and enrollment state (the read is audited)."""
    with context.store.unit_of_work() as uow:
        found = [_summary(uow, context, person) for person in uow.people.all()]
        audit(uow, context, "person.list", None, {"count": len(found)})
        uow.commit()
    return found


def person_detail(context: ServiceContext, person_id: str) -> PersonDetail:
    """One person's consents, enrollment state and passes (the read is audited).

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        detail = PersonDetail(
            summary=_summary(uow, context, person),
            consents=sorted(uow.consents.for_person(person_id), key=lambda r: r.granted_at),
            passes=uow.passes.for_host(person_id),
        )
        audit(uow, context, "person.read", person_id)
        uow.commit()
    return detail


def list_lifts(context: ServiceContext) -> list[Lift]:
    """Every lift."""
    with context.store.unit_of_work() as uow:
        return uow.places.lifts()


def site_of(context: ServiceContext) -> Site | None:
    """The site's record (name, time zone); ``None`` before ``site init``."""
    with context.store.unit_of_work() as uow:
        return uow.site.get()
