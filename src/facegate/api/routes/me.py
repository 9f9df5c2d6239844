"""The resident's own data: consent, access history, export, visitor passes, erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from facegate.api.routes.credentials import issue_pass
from facegate.api.routes.requests import SubjectRequestPublic
from facegate.api.schemas import (
    ConsentCreate,
    ConsentPublic,
    EventPublic,
    PassCreate,
    PassPublic,
    WithdrawalPublic,
)
from facegate.domain.errors import ValidationError
from facegate.domain.events import EventQuery
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.domain.requests import RequestKind
from facegate.http.deps import Deps, Resident, context_for
from facegate.http.security import Principal
from facegate.services import accounts, activity, rights, subject_requests
from facegate.services.consent import grant_consent, withdraw_consent

router = APIRouter(prefix="/me", tags=["resident"])


def _person(principal: Principal) -> str:
    if principal.user is None:
        raise ValidationError("not a resident session")
    return accounts.require_person(principal.user)


@router.get("/events")
def my_events(deps: Deps, principal: Resident) -> list[EventPublic]:
    """My own access history, newest first."""
    query = EventQuery(person_id=_person(principal), limit=1000)
    return [EventPublic.of(e) for e in activity.search_events(context_for(deps, principal), query)]


@router.get("/export")
def my_export(deps: Deps, principal: Resident) -> dict[str, Any]:
    """Everything held about me."""
    visible = deps.settings.disclosures_visible_to_person
    context = context_for(deps, principal)
    return rights.export_person(context, _person(principal), include_disclosures=visible)


@router.post("/consents", status_code=201)
def my_consent(deps: Deps, principal: Resident, body: ConsentCreate) -> ConsentPublic:
    """Give my consent (recorded as electronic, whatever the body says)."""
    record = grant_consent(
        context_for(deps, principal),
        _person(principal),
        body.purpose,
        body.text_version,
        ConsentMethod.ELECTRONIC,
        body.guardian,
    )
    return ConsentPublic.of(record)


@router.delete("/consents/{purpose}")
def my_withdrawal(deps: Deps, principal: Resident, purpose: ConsentPurpose) -> WithdrawalPublic:
    """Withdraw my consent; my face data is destroyed at once, my card keeps working."""
    result = withdraw_consent(context_for(deps, principal), _person(principal), purpose)
    return WithdrawalPublic(
        withdrawn_at=result.record.withdrawn_at, templates_deleted=result.templates_deleted
    )


@router.get("/passes")
def my_passes(deps: Deps, principal: Resident) -> list[PassPublic]:
    """The visitor passes I issued."""
    visits = activity.passes_of(context_for(deps, principal), _person(principal))
    return [PassPublic.of(p) for p in visits]


@router.post("/passes", status_code=201)
def invite(deps: Deps, principal: Resident, body: PassCreate) -> PassPublic:
    """Invite a visitor: a time-limited QR pass (the code comes back once)."""
    return issue_pass(deps, principal, _person(principal), body)


def _file(deps: Deps, principal: Resident, kind: RequestKind) -> SubjectRequestPublic:
    context = context_for(deps, principal)
    filed = subject_requests.file_request(
        context, _person(principal), kind, deps.settings.request_due_days
    )
    return SubjectRequestPublic.of(filed.request, deps.clock.now())


@router.post("/erasure-request", status_code=202)
def request_erasure(deps: Deps, principal: Resident) -> SubjectRequestPublic:
    """Ask the site to erase me: the request waits in the staff's queue with a due date.

    An open one is answered again, not filed twice; audited.
    """
    return _file(deps, principal, RequestKind.ERASURE)


@router.post("/export-request", status_code=202)
def request_export(deps: Deps, principal: Resident) -> SubjectRequestPublic:
    """Ask the office for a copy of my data (``GET /me/export`` gives it at once too)."""
    return _file(deps, principal, RequestKind.EXPORT)


@router.get("/requests")
def my_requests(deps: Deps, principal: Resident) -> list[SubjectRequestPublic]:
    """My erasure and export requests and where each stands."""
    found = subject_requests.requests_of(context_for(deps, principal), _person(principal))
    now = deps.clock.now()
    return [SubjectRequestPublic.of(r, now) for r in found]
