"""Disclosures to authorities: record one, list them (both audited).

The record itself is the site's proof of what left it: requesting body, legal basis,
people (by opaque id), data classes, time range, approver. Its audit record carries the
people's ids, the scope and the record's digest, so a later edit of the stored record
is detectable against the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from facegate.domain.audit import DetailValue
from facegate.domain.disclosure import DataClass, Disclosure, period_of
from facegate.domain.errors import SiteNotInitializedError, ValidationError
from facegate.services.context import ServiceContext, audit, new_id


@dataclass(frozen=True, slots=True)
class DisclosureRequest:
    """What an operator states about a hand-over.

    Attributes:
        requesting_body: who asked.
        legal_basis: the law, warrant or case reference.
        person_ids: whose data (ids from ``person add``).
        data_classes: which kinds of data.
        start: first day (a date) or moment of the range; local to the site when naive.
        end: last day (inclusive, a date) or end moment (exclusive).
        approved_by: who approved it.
        approved_at: when (aware); ``None`` means now.
    """

    requesting_body: str
    legal_basis: str
    person_ids: tuple[str, ...]
    data_classes: frozenset[DataClass]
    start: date | datetime
    end: date | datetime
    approved_by: str
    approved_at: datetime | None = None


def _details(disclosure: Disclosure) -> dict[str, DetailValue]:
    return {
        "person_ids": ",".join(sorted(disclosure.person_ids)),
        "data_classes": ",".join(sorted(disclosure.data_classes)),
        "period_start": disclosure.period_start.isoformat(),
        "period_end": disclosure.period_end.isoformat(),
        "approved_at": disclosure.approved_at.isoformat(),
        "digest": disclosure.digest(),
    }


def record_disclosure(context: ServiceContext, request: DisclosureRequest) -> Disclosure:
    """Record a disclosure (audited as ``disclosure.add``).

    Raises:
        NotFoundError: a person id names nobody.
        ValidationError: missing body, basis or approver; empty scope; a range that
            ends before it starts; an approval in the future.
        SiteNotInitializedError: no site yet.
    """
    now = context.clock.now()
    approved_at = request.approved_at or now
    if approved_at > now:
        raise ValidationError("a disclosure cannot be approved in the future")
    with context.store.unit_of_work() as uow:
        site = uow.site.get()
        if site is None:
            raise SiteNotInitializedError("no site yet: run 'facegate site init --name NAME'")
        for person_id in request.person_ids:
            uow.people.get(person_id)
        start, end = period_of(request.start, request.end, site.time_zone)
        disclosure = Disclosure(
            id=new_id(),
            requesting_body=request.requesting_body.strip(),
            legal_basis=request.legal_basis.strip(),
            person_ids=tuple(sorted(request.person_ids)),
            data_classes=request.data_classes,
            period_start=start,
            period_end=end,
            approved_by=request.approved_by.strip(),
            approved_at=approved_at,
            recorded_by=context.actor,
            recorded_at=now,
        )
        uow.disclosures.add(disclosure)
        audit(uow, context, "disclosure.add", disclosure.id, _details(disclosure))
        uow.commit()
    return disclosure


def list_disclosures(context: ServiceContext, person_id: str | None = None) -> list[Disclosure]:
    """Every disclosure, or those about ``person_id`` (the read is audited)."""
    with context.store.unit_of_work() as uow:
        found = uow.disclosures.all(person_id)
        audit(uow, context, "disclosure.list", person_id, {"count": len(found)})
        uow.commit()
    return found
