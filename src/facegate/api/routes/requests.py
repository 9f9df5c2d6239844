"""Residents' erasure and export requests: the queue staff work through."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from facegate.domain.accounts import AccountRole
from facegate.domain.requests import RequestState, SubjectRequest
from facegate.http.deps import Deps, Staff, context_for
from facegate.services import subject_requests

router = APIRouter(prefix="/requests", tags=["requests"])


class SubjectRequestPublic(BaseModel):
    """A request and where it stands; ``overdue`` when still open past ``due_at``."""

    id: str
    person_id: str
    kind: str
    state: str
    requested_at: datetime
    due_at: datetime
    overdue: bool
    handled_at: datetime | None
    handled_by: str | None
    note: str

    @classmethod
    def of(cls, request: SubjectRequest, now: datetime) -> SubjectRequestPublic:
        """From the domain record, as of ``now``."""
        return cls(
            id=request.id,
            person_id=request.person_id,
            kind=request.kind.value,
            state=request.state.value,
            requested_at=request.requested_at,
            due_at=request.due_at,
            overdue=request.overdue(now),
            handled_at=request.handled_at,
            handled_by=request.handled_by,
            note=request.note,
        )


class RequestClose(BaseModel):
    """What staff write when closing a request (a refusal needs it)."""

    note: str = Field(default="", max_length=subject_requests.NOTE_MAX)


@router.get("")
def list_requests(
    deps: Deps, principal: Staff, state: RequestState | None = RequestState.OPEN
) -> list[SubjectRequestPublic]:
    """The queue, due soonest first (``state`` omitted: the open ones; audited)."""
    found = subject_requests.queue(context_for(deps, principal), state)
    now = deps.clock.now()
    return [SubjectRequestPublic.of(r, now) for r in found]


@router.post("/{request_id}/complete")
def complete(
    deps: Deps, principal: Staff, request_id: str, body: RequestClose
) -> SubjectRequestPublic:
    """Carry the request out (an erasure: administrators only) and close it as done."""
    may_erase = principal.user is not None and principal.user.role is AccountRole.ADMIN
    done = subject_requests.complete_request(
        context_for(deps, principal), request_id, body.note, may_erase=may_erase
    )
    return SubjectRequestPublic.of(done, deps.clock.now())


@router.post("/{request_id}/refuse")
def refuse(
    deps: Deps, principal: Staff, request_id: str, body: RequestClose
) -> SubjectRequestPublic:
    """Close the request as refused, with the reason the resident sees."""
    refused = subject_requests.refuse_request(context_for(deps, principal), request_id, body.note)
    return SubjectRequestPublic.of(refused, deps.clock.now())
