"""SQLAlchemy repository of data subjects' requests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.domain.errors import NotFoundError
from facegate.domain.requests import RequestKind, RequestState, SubjectRequest
from facegate.store.schema import SubjectRequestRow


class SqlSubjectRequestRepository:
    """Data subjects' requests, kept after they are closed."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, request: SubjectRequest) -> None:
        """Store a new request."""
        self._session.add(
            SubjectRequestRow(
                id=request.id,
                person_id=request.person_id,
                kind=request.kind.value,
                state=request.state.value,
                requested_at=request.requested_at,
                due_at=request.due_at,
                handled_at=request.handled_at,
                handled_by=request.handled_by,
                note=request.note,
            )
        )

    def get(self, request_id: str) -> SubjectRequest:
        """The request with ``request_id`` (:class:`NotFoundError` when none)."""
        row = self._session.get(SubjectRequestRow, request_id)
        if row is None:
            raise NotFoundError(f"no request {request_id}")
        return _request(row)

    def save(self, request: SubjectRequest) -> None:
        """Store how the stored request ``request`` was closed."""
        row = self._session.get(SubjectRequestRow, request.id)
        if row is None:
            raise NotFoundError(f"no request {request.id}")
        row.state, row.note = request.state.value, request.note
        row.handled_at, row.handled_by = request.handled_at, request.handled_by

    def open_of(self, person_id: str, kind: RequestKind) -> SubjectRequest | None:
        """The person's open request of ``kind``, if any."""
        query = select(SubjectRequestRow).where(
            SubjectRequestRow.person_id == person_id,
            SubjectRequestRow.kind == kind.value,
            SubjectRequestRow.state == RequestState.OPEN.value,
        )
        row = self._session.scalars(query.limit(1)).first()
        return None if row is None else _request(row)

    def listed(
        self, state: RequestState | None, person_id: str | None, limit: int
    ) -> list[SubjectRequest]:
        """Up to ``limit`` requests, due soonest first."""
        query = select(SubjectRequestRow)
        if state is not None:
            query = query.where(SubjectRequestRow.state == state.value)
        if person_id is not None:
            query = query.where(SubjectRequestRow.person_id == person_id)
        query = query.order_by(SubjectRequestRow.due_at, SubjectRequestRow.id).limit(limit)
        return [_request(row) for row in self._session.scalars(query)]


def _request(row: SubjectRequestRow) -> SubjectRequest:
    return SubjectRequest(
        id=row.id,
        person_id=row.person_id,
        kind=RequestKind(row.kind),
        state=RequestState(row.state),
        requested_at=row.requested_at,
        due_at=row.due_at,
        handled_at=row.handled_at,
        handled_by=row.handled_by,
        note=row.note,
    )
