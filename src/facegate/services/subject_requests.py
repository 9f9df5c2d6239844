"""Residents' requests as work: erasure and export requests queue with a due date.

A resident asks from the portal (or ``/api/v1/me``); the request waits in the queue,
due ``Settings.request_due_days`` after it was made, until staff close it from the
console: an erasure request is *done* by erasing the person
(:func:`facegate.services.rights.erase_person`, administrators only), an export
request by handing over the export (the console's download of it is itself audited as
``person.export``), and either may be *refused* with a reason the resident sees. Every
step is audited. Withdrawing face consent never waits here: it is immediate
(:func:`facegate.services.consent.withdraw_consent`).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from facegate.domain.errors import ConflictError, NotFoundError, PolicyRefusedError, ValidationError
from facegate.domain.requests import (
    DEFAULT_DUE_DAYS,
    RequestKind,
    RequestState,
    SubjectRequest,
)
from facegate.services import rights
from facegate.services.context import ServiceContext, audit, new_id

NOTE_MAX = 2000
"""Longest note staff may write when closing a request, in characters."""
LIST_LIMIT = 500
"""Most requests one listing returns."""

_FILED_ACTION = {
    RequestKind.ERASURE: "person.erasure_requested",
    RequestKind.EXPORT: "person.export_requested",
}


@dataclass(frozen=True, slots=True)
class Filed:
    """A filed request and whether it is new (``False``: one was open already)."""

    request: SubjectRequest
    new: bool


def file_request(
    context: ServiceContext,
    person_id: str,
    kind: RequestKind,
    due_days: int = DEFAULT_DUE_DAYS,
) -> Filed:
    """Put the person's request in the queue, due in ``due_days`` days.

    A second request of the same kind while one is open returns the open one (not
    filed twice, not audited twice). Audited as ``person.erasure_requested`` or
    ``person.export_requested`` with the due date.

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        uow.people.get(person_id)
        existing = uow.requests.open_of(person_id, kind)
        if existing is not None:
            return Filed(existing, new=False)
        now = context.clock.now()
        request = SubjectRequest(
            new_id(),
            person_id,
            kind,
            RequestState.OPEN,
            requested_at=now,
            due_at=now + timedelta(days=due_days),
        )
        uow.requests.add(request)
        details = {"request_id": request.id, "due_at": request.due_at.isoformat()}
        audit(uow, context, _FILED_ACTION[kind], person_id, details)
        uow.commit()
    return Filed(request, new=True)


def requests_of(context: ServiceContext, person_id: str) -> list[SubjectRequest]:
    """The person's own requests, open and closed, due soonest first (for the portal)."""
    with context.store.unit_of_work() as uow:
        return uow.requests.listed(None, person_id, LIST_LIMIT)


def queue(
    context: ServiceContext, state: RequestState | None = RequestState.OPEN
) -> list[SubjectRequest]:
    """The queue (requests of ``state``; every one with ``None``), due soonest first.

    The read is audited as ``request.list`` (it lists who asked).
    """
    with context.store.unit_of_work() as uow:
        found = uow.requests.listed(state, None, LIST_LIMIT)
        state_name = state.value if state is not None else "all"
        audit(uow, context, "request.list", None, {"state": state_name, "count": len(found)})
        uow.commit()
    return found


def _open(context: ServiceContext, request_id: str) -> SubjectRequest:
    with context.store.unit_of_work() as uow:
        request = uow.requests.get(request_id)
    if request.state is not RequestState.OPEN:
        raise ConflictError(f"request {request_id} was {request.state.value} already")
    return request


def _note(note: str, required: bool) -> str:
    text = note.strip()
    if len(text) > NOTE_MAX:
        raise ValidationError(f"a note holds at most {NOTE_MAX} characters")
    if required and not text:
        raise ValidationError("a refusal needs a reason the resident can read")
    return text


def _close(
    context: ServiceContext, request: SubjectRequest, state: RequestState, note: str
) -> SubjectRequest:
    closed = request.closed(state, context.clock.now(), context.actor, note)
    with context.store.unit_of_work() as uow:
        uow.requests.save(closed)
        details = {
            "request_id": closed.id,
            "kind": closed.kind.value,
            "overdue": request.overdue(context.clock.now()),
            "note_chars": len(note),
        }
        action = "request.done" if state is RequestState.DONE else "request.refuse"
        audit(uow, context, action, closed.person_id, details)
        uow.commit()
    return closed


def complete_request(
    context: ServiceContext, request_id: str, note: str = "", *, may_erase: bool
) -> SubjectRequest:
    """Carry the request out and close it as done (audited as ``request.done``).

    An erasure request erases the person (audited as ``person.erase``) before the
    request closes; a person erased already (from the person's page) closes it too.
    An export request closes once staff handed the export over.

    Args:
        context: who acts.
        request_id: which request.
        note: what staff write (shown to the resident while their account lasts).
        may_erase: whether the actor may erase people (administrators).

    Raises:
        NotFoundError: no such request.
        ConflictError: it was closed already.
        PolicyRefusedError: an erasure by someone who may not erase.
        ValidationError: a note too long.
    """
    text = _note(note, required=False)
    request = _open(context, request_id)
    if request.kind is RequestKind.ERASURE:
        if not may_erase:
            raise PolicyRefusedError("only an administrator may carry out an erasure")
        with suppress(NotFoundError):  # erased already: the request is done all the same
            rights.erase_person(context, request.person_id)
    return _close(context, request, RequestState.DONE, text)


def refuse_request(context: ServiceContext, request_id: str, reason: str) -> SubjectRequest:
    """Close the request as refused, with the reason the resident sees (``request.refuse``).

    Raises:
        NotFoundError: no such request.
        ConflictError: it was closed already.
        ValidationError: no reason, or one too long.
    """
    text = _note(reason, required=True)
    return _close(context, _open(context, request_id), RequestState.REFUSED, text)
