"""Ports of registered gates and of the batched reads a gate snapshot is built from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from facegate.domain.accounts import Gate
from facegate.domain.credentials import SealedRow, VisitorPass, WrappedKey
from facegate.domain.people import ConsentPurpose, Role
from facegate.domain.site_mode import ModeRequest, ModeSource


class GateRepository(Protocol):
    """Gates registered for a door or lift."""

    def add(self, gate: Gate) -> None:
        """Register a gate (:class:`ConflictError` when the id is taken)."""
        ...

    def find(self, gate_id: str) -> Gate | None:
        """The gate with ``gate_id``, if registered."""
        ...

    def get(self, gate_id: str) -> Gate:
        """The gate with ``gate_id`` (:class:`NotFoundError` when none)."""
        ...

    def all(self) -> list[Gate]:
        """Every registered gate, by id."""
        ...


class SiteModeRepository(Protocol):
    """Each source's request for a site mode (at most one per source)."""

    def all(self) -> list[ModeRequest]:
        """Every source's request, running or ended, by source."""
        ...

    def put(self, request: ModeRequest) -> None:
        """Store ``request``, replacing its source's earlier one."""
        ...

    def delete(self, source: ModeSource) -> bool:
        """Withdraw ``source``'s request; whether there was one."""
        ...


class SiteReads(Protocol):
    """Whole-site reads, one query each (never one per person)."""

    def data_version(self) -> int:
        """The site data version, bumped with every change a decision depends on."""
        ...

    def people(self) -> list[tuple[str, Role, bool]]:
        """``(id, role, moved out)`` of every person."""
        ...

    def homes(self) -> list[tuple[str, str, int]]:
        """``(person id, building id, floor)`` of every person with a unit."""
        ...

    def consenting(self, purpose: ConsentPurpose, now: datetime) -> set[str]:
        """The people with a consent to ``purpose`` in force at ``now``."""
        ...

    def template_index(self, model_id: str) -> list[tuple[str, str]]:
        """``(template id, person id)`` of every template of ``model_id``."""
        ...

    def sealed_rows(self, model_id: str, template_ids: Sequence[str] | None) -> list[SealedRow]:
        """Templates of ``model_id`` as plain tuples (no object per template).

        ``template_ids`` ``None``: every template of the model (a cold gallery, one
        scan); else those ids.
        """
        ...

    def keys(self, person_ids: Iterable[str] | None) -> dict[str, WrappedKey]:
        """The wrapped data keys of these people (``None``: of everyone who has one)."""
        ...

    def card_numbers(self) -> list[tuple[str, str]]:
        """``(number, person id)`` of every card."""
        ...

    def pin_hashes(self) -> list[tuple[str, str]]:
        """``(person id, PIN hash)`` of every PIN."""
        ...

    def passes(self) -> list[VisitorPass]:
        """Every visitor pass."""
        ...

    def person_names(self, person_ids: Iterable[str]) -> dict[str, str]:
        """The names of these people by id (ids of nobody are left out)."""
        ...
