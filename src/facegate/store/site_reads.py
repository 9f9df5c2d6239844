"""Batched reads a gate snapshot is built from, and the registered gates.

Each read is one query (or one per :data:`CHUNK` ids for ``IN`` lists), never one per
person: a 25,000-resident snapshot costs a handful of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.orm import Session

from facegate.domain.accounts import Gate, GateKind
from facegate.domain.credentials import SealedRow, VisitorPass, WrappedKey
from facegate.domain.errors import ConflictError, NotFoundError
from facegate.domain.people import ConsentPurpose, Role
from facegate.store.journal import _pass
from facegate.store.schema import (
    CardRow,
    ConsentRow,
    DataKeyRow,
    GateRow,
    PassRow,
    PersonRow,
    PinRow,
    TemplateRow,
    UnitRow,
)
from facegate.store.versioning import data_version

_ROLES = {role.value: role for role in Role}

_Ts = TypeVarTuple("_Ts")

CHUNK = 500
"""Ids per ``IN (...)`` list (keeps statements well under every backend's limits)."""


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class SqlSiteReads:
    """Whole-site reads for snapshots (see :class:`facegate.ports.SiteReads`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _all(self, query: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
        """Every row of ``query`` as plain rows, fetched at once (no ORM loading).

        Pending changes of the session are flushed first, as :meth:`Session.execute`
        would: a read in a transaction sees that transaction's own writes.
        """
        self._session.flush()
        return self._session.connection().execute(query).all()

    def data_version(self) -> int:
        """The site data version (one primary-key read)."""
        return data_version(self._session)

    def people(self) -> list[tuple[str, Role, bool]]:
        """``(id, role, moved out)`` of every person (plain columns, no ORM objects)."""
        query = select(PersonRow.id, PersonRow.role, PersonRow.moved_out_at.is_not(None))
        return [(r[0], _ROLES[r[1]], bool(r[2])) for r in self._all(query)]

    def homes(self) -> list[tuple[str, str, int]]:
        """``(person id, building id, floor)`` of every person with a unit (one join)."""
        query = select(PersonRow.id, UnitRow.building_id, UnitRow.floor).join(
            UnitRow, UnitRow.id == PersonRow.unit_id
        )
        return [(r[0], r[1], int(r[2])) for r in self._all(query)]

    def consenting(self, purpose: ConsentPurpose, now: datetime) -> set[str]:
        """The people with a consent to ``purpose`` in force at ``now``."""
        query = select(ConsentRow.person_id).where(
            ConsentRow.purpose == purpose.value,
            ConsentRow.granted_at <= now,
            or_(ConsentRow.withdrawn_at.is_(None), ConsentRow.withdrawn_at > now),
        )
        return {r[0] for r in self._all(query)}  # no DISTINCT: SQLite walked an index for it

    def template_index(self, model_id: str) -> list[tuple[str, str]]:
        """``(template id, person id)`` of every template of ``model_id`` (no ciphertext)."""
        query = select(TemplateRow.id, TemplateRow.person_id).where(
            TemplateRow.model_id == model_id
        )
        return [(row[0], row[1]) for row in self._all(query.order_by(TemplateRow.id))]

    def sealed_rows(self, model_id: str, template_ids: Sequence[str] | None) -> list[SealedRow]:
        """Templates of ``model_id`` as plain rows (no ORM objects, no creation time).

        ``None``: every template of the model in one scan (a cold gallery); else the
        ids, one query per :data:`CHUNK`. The ORM's per-row work (objects, the creation
        time's type) cost more than the decryption at 75,000 templates; reading each
        template's data key in a join cost a third more than :meth:`keys` apart.
        """
        query = select(TemplateRow.id, TemplateRow.person_id, TemplateRow.sealed).where(
            TemplateRow.model_id == model_id
        )
        if template_ids is None:
            return list(self._all(query))
        found: list[SealedRow] = []
        for chunk in _chunks(template_ids):
            found.extend(self._all(query.where(TemplateRow.id.in_(chunk))))
        return found

    def keys(self, person_ids: Iterable[str] | None) -> dict[str, WrappedKey]:
        """The wrapped data keys of these people (``None``: of everyone who has one)."""
        query = select(DataKeyRow.person_id, DataKeyRow.site_key_id, DataKeyRow.wrapped)
        if person_ids is None:
            return {r[0]: WrappedKey(*r) for r in self._all(query)}
        found: dict[str, WrappedKey] = {}
        for chunk in _chunks(sorted(set(person_ids))):
            for row in self._all(query.where(DataKeyRow.person_id.in_(chunk))):
                found[row[0]] = WrappedKey(*row)
        return found

    def card_numbers(self) -> list[tuple[str, str]]:
        """``(number, person id)`` of every card."""
        query = select(CardRow.number, CardRow.person_id).order_by(CardRow.number)
        return [(r[0], r[1]) for r in self._all(query)]

    def pin_hashes(self) -> list[tuple[str, str]]:
        """``(person id, PIN hash)`` of every PIN, by person.

        Sorted here: SQLite sorted by walking the person index and reading each row out
        of table order (three times the scan at 25,000 PINs).
        """
        query = select(PinRow.person_id, PinRow.pin_hash)
        return sorted((r[0], r[1]) for r in self._all(query))

    def passes(self) -> list[VisitorPass]:
        """Every visitor pass."""
        return [_pass(r) for r in self._session.scalars(select(PassRow).order_by(PassRow.id))]

    def person_names(self, person_ids: Iterable[str]) -> dict[str, str]:
        """The names of these people by id (ids of nobody are left out)."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(person_ids))):
            query = select(PersonRow.id, PersonRow.name).where(PersonRow.id.in_(chunk))
            found.update((r[0], r[1]) for r in self._session.execute(query))
        return found


def _gate(row: GateRow) -> Gate:
    return Gate(row.id, row.target_id, GateKind(row.kind), row.created_at, row.label)


class SqlGateRepository:
    """Registered gates (see :class:`facegate.ports.GateRepository`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, gate: Gate) -> None:
        """Register a gate (:class:`ConflictError` when the id is taken)."""
        if self._session.get(GateRow, gate.id) is not None:
            raise ConflictError(f"a gate with id {gate.id!r} is already registered")
        self._session.add(
            GateRow(
                id=gate.id,
                target_id=gate.target_id,
                kind=gate.kind.value,
                label=gate.label,
                created_at=gate.created_at,
            )
        )

    def find(self, gate_id: str) -> Gate | None:
        """The gate with ``gate_id``, if registered."""
        row = self._session.get(GateRow, gate_id)
        return None if row is None else _gate(row)

    def get(self, gate_id: str) -> Gate:
        """The gate with ``gate_id`` (:class:`NotFoundError` when none)."""
        gate = self.find(gate_id)
        if gate is None:
            raise NotFoundError(f"no gate with id {gate_id!r}")
        return gate

    def all(self) -> list[Gate]:
        """Every registered gate, by id."""
        return [_gate(r) for r in self._session.scalars(select(GateRow).order_by(GateRow.id))]
