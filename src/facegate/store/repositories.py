"""SQLAlchemy repositories of the site, people, consent, keys, templates and credentials.

Each maps rows to the domain's frozen dataclasses and back; none commits (the unit of
work does) and none leaks an ORM object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update, delete, func, inspect, select
from sqlalchemy.orm import Session

from facegate.domain.credentials import Card, PinCredential, SealedTemplate, WrappedKey
from facegate.domain.errors import ConflictError, NotFoundError
from facegate.domain.people import ConsentMethod, ConsentPurpose, ConsentRecord, Person, Role
from facegate.domain.site import Site
from facegate.store.schema import (
    CardRow,
    ConsentRow,
    DataKeyRow,
    PersonRow,
    PinRow,
    SiteRow,
    TemplateRow,
)


def deleted_count(session: Session, statement: Delete | Update) -> int:
    """Run a DELETE (or UPDATE) and return how many rows it touched."""
    result = cast("CursorResult[Any]", session.execute(statement))
    return result.rowcount


class SqlSiteRepository:
    """The site row."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self) -> Site | None:
        """The site, ``None`` before ``site init``."""
        row = self._session.scalars(select(SiteRow)).first()
        return None if row is None else Site(row.id, row.name, row.time_zone)

    def add(self, site: Site) -> None:
        """Store the site."""
        self._session.add(SiteRow(id=site.id, name=site.name, time_zone=site.time_zone))


def _person(row: PersonRow) -> Person:
    return Person(
        id=row.id,
        site_id=row.site_id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        unit_id=row.unit_id,
        minor=row.minor,
        moved_out_at=row.moved_out_at,
    )


def _fill_person(row: PersonRow, person: Person) -> None:
    row.site_id, row.name, row.role = person.site_id, person.name, person.role.value
    row.unit_id, row.minor, row.created_at = person.unit_id, person.minor, person.created_at
    row.moved_out_at = person.moved_out_at


def _counts(session: Session, column: Any, person_ids: list[str]) -> dict[str, int]:
    """Rows per person id in ``column``'s table, for ``person_ids`` only (one query)."""
    if not person_ids:
        return {}
    query = select(column, func.count()).where(column.in_(person_ids)).group_by(column)
    return {str(person_id): int(count) for person_id, count in session.execute(query)}


class SqlPersonRepository:
    """People.

    The rows this unit of work added are kept by id: the session's identity map holds
    rows only while something references them, so each later read of a person added in
    the same transaction (consent, enrolment, card, rule of a bulk import's batch) would
    flush and select it again.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._added: dict[str, PersonRow] = {}

    def add(self, person: Person) -> None:
        """Store a new person."""
        row = PersonRow(id=person.id)
        _fill_person(row, person)
        self._session.add(row)
        self._added[person.id] = row

    def _row(self, person_id: str) -> PersonRow:
        kept = self._added.get(person_id)
        if kept is not None:
            state = inspect(kept)
            if (state.pending or state.persistent) and kept not in self._session.deleted:
                return kept
        row = self._session.get(PersonRow, person_id)
        if row is None:
            raise NotFoundError(f"no person with id {person_id!r}")
        return row

    def get(self, person_id: str) -> Person:
        """The person with ``person_id`` (raises :class:`NotFoundError`)."""
        return _person(self._row(person_id))

    def all(self) -> list[Person]:
        """Every person, oldest first."""
        rows = self._session.scalars(select(PersonRow).order_by(PersonRow.created_at))
        return [_person(r) for r in rows]

    def page(self, name_contains: str, offset: int, limit: int) -> tuple[list[Person], int]:
        """Up to ``limit`` people from ``offset``, oldest first, and how many match in all."""
        query = select(PersonRow)
        if name_contains:
            needle = name_contains.lower()
            query = query.where(func.lower(PersonRow.name).contains(needle, autoescape=True))
        total = self._session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(PersonRow.created_at, PersonRow.id).offset(offset).limit(limit)
        return [_person(r) for r in self._session.scalars(ordered)], total

    def update(self, person: Person) -> None:
        """Store the fields of ``person``."""
        _fill_person(self._row(person.id), person)

    def delete(self, person_id: str) -> None:
        """Remove the person's row."""
        self._session.delete(self._row(person_id))


def _consent(row: ConsentRow) -> ConsentRecord:
    return ConsentRecord(
        id=row.id,
        person_id=row.person_id,
        purpose=ConsentPurpose(row.purpose),
        text_version=row.text_version,
        granted_at=row.granted_at,
        method=ConsentMethod(row.method),
        withdrawn_at=row.withdrawn_at,
        guardian=row.guardian,
    )


def _fill_consent(row: ConsentRow, record: ConsentRecord) -> None:
    row.person_id, row.purpose = record.person_id, record.purpose.value
    row.text_version, row.granted_at = record.text_version, record.granted_at
    row.method, row.withdrawn_at = record.method.value, record.withdrawn_at
    row.guardian = record.guardian


class SqlConsentRepository:
    """Consent records."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: ConsentRecord) -> None:
        """Store a new record."""
        row = ConsentRow(id=record.id)
        _fill_consent(row, record)
        self._session.add(row)

    def update(self, record: ConsentRecord) -> None:
        """Store the fields of ``record``."""
        row = self._session.get(ConsentRow, record.id)
        if row is None:
            raise NotFoundError(f"no consent record with id {record.id!r}")
        _fill_consent(row, record)

    def for_people(self, person_ids: list[str]) -> list[ConsentRecord]:
        """The records of every person in ``person_ids`` (one query), oldest first."""
        if not person_ids:
            return []
        query = select(ConsentRow).where(ConsentRow.person_id.in_(person_ids))
        return [_consent(r) for r in self._session.scalars(query.order_by(ConsentRow.granted_at))]

    def for_person(self, person_id: str) -> list[ConsentRecord]:
        """The person's records, oldest first."""
        query = select(ConsentRow).where(ConsentRow.person_id == person_id)
        return [_consent(r) for r in self._session.scalars(query.order_by(ConsentRow.granted_at))]

    def delete_withdrawn_before(self, moment: datetime) -> int:
        """Delete records withdrawn before ``moment``; returns how many."""
        return deleted_count(
            self._session, delete(ConsentRow).where(ConsentRow.withdrawn_at < moment)
        )


class SqlKeyRepository:
    """Wrapped data keys."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, person_id: str) -> WrappedKey | None:
        """The person's wrapped key, if any."""
        row = self._session.get(DataKeyRow, person_id)
        return None if row is None else WrappedKey(row.person_id, row.site_key_id, row.wrapped)

    def put(self, key: WrappedKey) -> None:
        """Store or replace the person's wrapped key."""
        row = self._session.get(DataKeyRow, key.person_id) or DataKeyRow(person_id=key.person_id)
        row.site_key_id, row.wrapped = key.site_key_id, key.wrapped
        self._session.add(row)

    def all(self) -> list[WrappedKey]:
        """Every wrapped key."""
        rows = self._session.scalars(select(DataKeyRow).order_by(DataKeyRow.person_id))
        return [WrappedKey(r.person_id, r.site_key_id, r.wrapped) for r in rows]

    def delete(self, person_id: str) -> None:
        """Destroy the person's key."""
        self._session.execute(delete(DataKeyRow).where(DataKeyRow.person_id == person_id))


def _template(row: TemplateRow) -> SealedTemplate:
    return SealedTemplate(row.id, row.person_id, row.model_id, row.created_at, row.sealed)


class SqlTemplateRepository:
    """Sealed face templates."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, template: SealedTemplate) -> None:
        """Store a new template."""
        self._session.add(
            TemplateRow(
                id=template.id,
                person_id=template.person_id,
                model_id=template.model_id,
                created_at=template.created_at,
                sealed=template.sealed,
            )
        )

    def for_person(self, person_id: str) -> list[SealedTemplate]:
        """The person's templates, oldest first."""
        query = select(TemplateRow).where(TemplateRow.person_id == person_id)
        rows = self._session.scalars(query.order_by(TemplateRow.created_at, TemplateRow.id))
        return [_template(r) for r in rows]

    def counts_for(self, person_ids: list[str]) -> dict[str, int]:
        """How many templates each of ``person_ids`` has (one query; absent means none)."""
        return _counts(self._session, TemplateRow.person_id, person_ids)

    def for_model(self, model_id: str) -> list[SealedTemplate]:
        """Every template made by ``model_id``."""
        query = select(TemplateRow).where(TemplateRow.model_id == model_id)
        return [_template(r) for r in self._session.scalars(query.order_by(TemplateRow.id))]

    def delete_for_person(self, person_id: str) -> int:
        """Delete the person's templates; returns how many."""
        statement = delete(TemplateRow).where(TemplateRow.person_id == person_id)
        return deleted_count(self._session, statement)


class SqlCredentialRepository:
    """Cards and PINs."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_card(self, card: Card) -> None:
        """Store a card (raises :class:`ConflictError` for a number in use)."""
        if self.find_card(card.number) is not None:
            raise ConflictError(f"card number {card.number!r} is already in use")
        row = CardRow(
            id=card.id, person_id=card.person_id, number=card.number, created_at=card.created_at
        )
        self._session.add(row)

    def find_card(self, number: str) -> Card | None:
        """The card with ``number``, if any."""
        row = self._session.scalars(select(CardRow).where(CardRow.number == number)).first()
        return None if row is None else Card(row.id, row.person_id, row.number, row.created_at)

    def cards_for(self, person_id: str) -> list[Card]:
        """The person's cards."""
        query = select(CardRow).where(CardRow.person_id == person_id).order_by(CardRow.created_at)
        return [
            Card(r.id, r.person_id, r.number, r.created_at) for r in self._session.scalars(query)
        ]

    def card_counts(self, person_ids: list[str]) -> dict[str, int]:
        """How many cards each of ``person_ids`` holds (one query; absent means none)."""
        return _counts(self._session, CardRow.person_id, person_ids)

    def add_pin(self, pin: PinCredential) -> None:
        """Store a PIN hash, replacing the person's previous PIN."""
        self._session.execute(delete(PinRow).where(PinRow.person_id == pin.person_id))
        row = PinRow(
            id=pin.id, person_id=pin.person_id, pin_hash=pin.pin_hash, created_at=pin.created_at
        )
        self._session.add(row)

    def pin_for(self, person_id: str) -> PinCredential | None:
        """The person's PIN hash, if any."""
        row = self._session.scalars(select(PinRow).where(PinRow.person_id == person_id)).first()
        return (
            None
            if row is None
            else PinCredential(row.id, row.person_id, row.pin_hash, row.created_at)
        )

    def delete_for_person(self, person_id: str) -> int:
        """Delete the person's cards and PIN; returns how many."""
        cards = deleted_count(self._session, delete(CardRow).where(CardRow.person_id == person_id))
        pins = deleted_count(self._session, delete(PinRow).where(PinRow.person_id == person_id))
        return cards + pins
