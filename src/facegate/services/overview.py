"""Read models for the console and the portal: a person with their consent and templates."""

from __future__ import annotations

from dataclasses import dataclass

from facegate.domain.audit import DetailValue
from facegate.domain.credentials import VisitorPass
from facegate.domain.errors import ValidationError
from facegate.domain.people import ConsentPurpose, ConsentRecord, Person, consent_in_force
from facegate.domain.site import Lift, Site
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit
from facegate.services.paging import MAX_QUERY, PAGE_SIZE, Page, offset_of


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


def _summaries(
    uow: UnitOfWork, context: ServiceContext, found: list[Person]
) -> list[PersonSummary]:
    """The summaries of ``found`` in a fixed number of queries, however many people."""
    ids = [person.id for person in found]
    consents: dict[str, list[ConsentRecord]] = {}
    for record in uow.consents.for_people(ids):
        consents.setdefault(record.person_id, []).append(record)
    templates, cards = uow.templates.counts_for(ids), uow.credentials.card_counts(ids)
    now = context.clock.now()
    return [
        PersonSummary(
            person=person,
            face_consent=consent_in_force(
                consents.get(person.id, []), ConsentPurpose.FACE_ACCESS, now
            ),
            templates=templates.get(person.id, 0),
            cards=cards.get(person.id, 0),
        )
        for person in found
    ]


def people_overview(
    context: ServiceContext, page: int = 1, name_contains: str = ""
) -> Page[PersonSummary]:
    """One page of people with their consent and enrollment state (the read is audited).

    Args:
        context: who asks, the store and the clock.
        page: the page's number, 1-based (:data:`~facegate.services.paging.PAGE_SIZE` rows).
        name_contains: keep the people whose name holds this (case-insensitive; at most
            :data:`~facegate.services.paging.MAX_QUERY` characters); empty keeps everyone.

    Raises:
        ValidationError: a page number out of range or a search too long.
    """
    if len(name_contains) > MAX_QUERY:
        raise ValidationError(f"a name search is at most {MAX_QUERY} characters")
    offset = offset_of(page)
    with context.store.unit_of_work() as uow:
        found, total = uow.people.page(name_contains, offset, PAGE_SIZE)
        summaries = _summaries(uow, context, found)
        details: dict[str, DetailValue] = {"count": len(summaries), "total": total, "page": page}
        details["filtered"] = bool(name_contains)  # never the search itself: names are personal
        audit(uow, context, "person.list", None, details)
        uow.commit()
    return Page(summaries, total, page)


def person_detail(context: ServiceContext, person_id: str) -> PersonDetail:
    """One person's consents, enrollment state and passes (the read is audited).

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        person = uow.people.get(person_id)
        detail = PersonDetail(
            summary=_summaries(uow, context, [person])[0],
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
