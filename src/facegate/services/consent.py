"""Use cases on consent: grant, and withdraw (which destroys face data at once)."""

from __future__ import annotations

from dataclasses import dataclass

from facegate.domain.audit import DetailValue
from facegate.domain.errors import NotFoundError
from facegate.domain.people import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    consent_in_force,
    new_consent_for,
)
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id


def grant_consent(
    context: ServiceContext,
    person_id: str,
    purpose: ConsentPurpose,
    text_version: str,
    method: ConsentMethod,
    guardian: str | None = None,
) -> ConsentRecord:
    """Record a person's consent to ``purpose``.

    Raises:
        NotFoundError: unknown person.
        ValidationError: a minor's consent without a guardian, or an empty text version.
    """
    with context.store.unit_of_work() as uow:
        record = grant_consent_in(uow, context, person_id, purpose, text_version, method, guardian)
        uow.commit()
    return record


def grant_consent_in(
    uow: UnitOfWork,
    context: ServiceContext,
    person_id: str,
    purpose: ConsentPurpose,
    text_version: str,
    method: ConsentMethod,
    guardian: str | None = None,
) -> ConsentRecord:
    """:func:`grant_consent` inside ``uow`` (the caller commits: a bulk import's batch)."""
    person = uow.people.get(person_id)
    record = ConsentRecord(
        id=new_id(),
        person_id=person.id,
        purpose=purpose,
        text_version=text_version.strip(),
        granted_at=context.clock.now(),
        method=method,
        guardian=guardian.strip() if guardian else None,
    )
    uow.consents.add(new_consent_for(person, record))
    details = {"purpose": purpose.value, "text_version": record.text_version}
    audit(uow, context, "consent.grant", person_id, {**details, "method": method.value})
    return record


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What a withdrawal did.

    Attributes:
        record: the consent record, now withdrawn.
        templates_deleted: face templates destroyed (with the person's data key).
    """

    record: ConsentRecord
    templates_deleted: int


def withdraw_consent(
    context: ServiceContext, person_id: str, purpose: ConsentPurpose
) -> Withdrawal:
    """Withdraw the consent in force; for face access, destroy the face data at once.

    The person's cards, PIN and passes keep working.

    Raises:
        NotFoundError: unknown person, or no consent for ``purpose`` in force.
    """
    with context.store.unit_of_work() as uow:
        uow.people.get(person_id)
        now = context.clock.now()
        record = consent_in_force(uow.consents.for_person(person_id), purpose, now)
        if record is None:
            raise NotFoundError(f"person {person_id} has no {purpose.value} consent in force")
        withdrawn = record.withdrawn(now)
        uow.consents.update(withdrawn)
        deleted = 0
        if purpose is ConsentPurpose.FACE_ACCESS:
            deleted = uow.templates.delete_for_person(person_id)
            uow.keys.delete(person_id)
        details: dict[str, DetailValue] = {"purpose": purpose.value, "templates_deleted": deleted}
        audit(uow, context, "consent.withdraw", person_id, details)
        uow.commit()
    if deleted:
        context.store.reclaim_erased()
    return Withdrawal(withdrawn, deleted)
