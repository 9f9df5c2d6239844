"""SQLAlchemy repository of disclosure records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.domain.disclosure import DataClass, Disclosure
from facegate.store.schema import DisclosureRow, DisclosureSubjectRow


class SqlDisclosureRepository:
    """Disclosure records and the people each is about."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, disclosure: Disclosure) -> None:
        """Store a new record with its subjects."""
        self._session.add(
            DisclosureRow(
                id=disclosure.id,
                requesting_body=disclosure.requesting_body,
                legal_basis=disclosure.legal_basis,
                data_classes=",".join(sorted(disclosure.data_classes)),
                period_start=disclosure.period_start,
                period_end=disclosure.period_end,
                approved_by=disclosure.approved_by,
                approved_at=disclosure.approved_at,
                recorded_by=disclosure.recorded_by,
                recorded_at=disclosure.recorded_at,
            )
        )
        # The parent row first: the subjects' foreign key needs it on every backend.
        self._session.flush()
        self._session.add_all(
            DisclosureSubjectRow(disclosure_id=disclosure.id, person_id=person_id)
            for person_id in disclosure.person_ids
        )

    def all(self, person_id: str | None = None) -> list[Disclosure]:
        """Every record (or those naming ``person_id``), oldest approval first."""
        query = select(DisclosureRow).order_by(DisclosureRow.approved_at, DisclosureRow.id)
        if person_id is not None:
            about = select(DisclosureSubjectRow.disclosure_id).where(
                DisclosureSubjectRow.person_id == person_id
            )
            query = query.where(DisclosureRow.id.in_(about))
        rows = list(self._session.scalars(query))
        subjects: dict[str, list[str]] = {row.id: [] for row in rows}
        pairs = select(DisclosureSubjectRow).where(
            DisclosureSubjectRow.disclosure_id.in_(list(subjects))
        )
        for pair in self._session.scalars(pairs.order_by(DisclosureSubjectRow.person_id)):
            subjects[pair.disclosure_id].append(pair.person_id)
        return [_disclosure(row, subjects[row.id]) for row in rows]


def _disclosure(row: DisclosureRow, person_ids: list[str]) -> Disclosure:
    return Disclosure(
        id=row.id,
        requesting_body=row.requesting_body,
        legal_basis=row.legal_basis,
        person_ids=tuple(person_ids),
        data_classes=frozenset(DataClass(name) for name in row.data_classes.split(",")),
        period_start=row.period_start,
        period_end=row.period_end,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
