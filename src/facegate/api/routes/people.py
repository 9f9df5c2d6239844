"""People: list, add, move out, export, erase; and their consent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from facegate.api.routes.layout import TOTAL_HEADER
from facegate.api.schemas import ConsentCreate, ConsentPublic, PersonPublic, WithdrawalPublic
from facegate.domain.people import ConsentPurpose, Role
from facegate.http.deps import Admin, Deps, Reader, Staff, context_for
from facegate.services import overview, people, rights
from facegate.services.consent import grant_consent, withdraw_consent
from facegate.services.paging import MAX_PAGE, MAX_QUERY

router = APIRouter(prefix="/people", tags=["people"])


class PersonCreate(BaseModel):
    """A person to add."""

    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.RESIDENT
    unit_id: str | None = None
    minor: bool = False


class ErasurePublic(BaseModel):
    """What an erasure removed."""

    erased: str
    counts: dict[str, int]


@router.get("")
def list_people(
    deps: Deps,
    principal: Reader,
    response: Response,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    page: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
) -> list[PersonPublic]:
    """Every person, or with ``q`` or ``page`` one page of those whose name holds ``q``.

    A page holds :data:`~facegate.services.paging.PAGE_SIZE` people by name; the whole
    count is in ``X-Total-Count``. The read is audited (never the search text).
    """
    context = context_for(deps, principal)
    if not q and page is None:
        return [PersonPublic.of(p) for p in people.list_people(context)]
    found = overview.people_overview(context, page or 1, q.strip())
    response.headers[TOTAL_HEADER] = str(found.total)
    return [PersonPublic.of(s.person) for s in found.items]


@router.post("", status_code=201)
def add_person(deps: Deps, principal: Staff, body: PersonCreate) -> PersonPublic:
    """Add a person."""
    person = people.add_person(
        context_for(deps, principal), body.name, body.role, unit_id=body.unit_id, minor=body.minor
    )
    return PersonPublic.of(person)


@router.post("/{person_id}/move-out")
def move_out(deps: Deps, principal: Staff, person_id: str) -> PersonPublic:
    """Record that a person left (templates go at the next purge past retention)."""
    return PersonPublic.of(people.move_out(context_for(deps, principal), person_id))


@router.get("/{person_id}/export")
def export_person(deps: Deps, principal: Staff, person_id: str) -> dict[str, Any]:
    """Everything held about a person (audited)."""
    visible = deps.settings.disclosures_visible_to_person
    return rights.export_person(
        context_for(deps, principal), person_id, include_disclosures=visible
    )


@router.delete("/{person_id}")
def erase_person(deps: Deps, principal: Admin, person_id: str) -> ErasurePublic:
    """Erase a person; their templates become unreadable at once."""
    erasure = rights.erase_person(context_for(deps, principal), person_id)
    return ErasurePublic(erased=erasure.person_id, counts=erasure.counts)


@router.post("/{person_id}/consents", status_code=201)
def grant(deps: Deps, principal: Staff, person_id: str, body: ConsentCreate) -> ConsentPublic:
    """Record a person's consent (before any face enrollment)."""
    record = grant_consent(
        context_for(deps, principal),
        person_id,
        body.purpose,
        body.text_version,
        body.method,
        body.guardian,
    )
    return ConsentPublic.of(record)


@router.delete("/{person_id}/consents/{purpose}")
def withdraw(
    deps: Deps, principal: Staff, person_id: str, purpose: ConsentPurpose
) -> WithdrawalPublic:
    """Withdraw consent; for face access the face data is destroyed at once."""
    result = withdraw_consent(context_for(deps, principal), person_id, purpose)
    return WithdrawalPublic(
        withdrawn_at=result.record.withdrawn_at, templates_deleted=result.templates_deleted
    )
