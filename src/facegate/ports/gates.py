"""Ports of registered gates and of the batched reads a gate snapshot is built from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from facegate.domain.accounts import Gate
from facegate.domain.credentials import Card, PinCredential, SealedTemplate, VisitorPass, WrappedKey
from facegate.domain.people import ConsentRecord


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


class SiteReads(Protocol):
    """Whole-site reads, one query each (never one per person)."""

    def data_version(self) -> int:
        """The site data version, bumped with every change a decision depends on."""
        ...

    def consents(self) -> list[ConsentRecord]:
        """Every consent record, oldest first."""
        ...

    def template_index(self, model_id: str) -> list[tuple[str, str]]:
        """``(template id, person id)`` of every template of ``model_id``."""
        ...

    def templates(self, template_ids: Sequence[str]) -> list[SealedTemplate]:
        """The templates with these ids."""
        ...

    def keys(self, person_ids: Iterable[str]) -> dict[str, WrappedKey]:
        """The wrapped data keys of these people (those who have one)."""
        ...

    def cards(self) -> list[Card]:
        """Every card."""
        ...

    def pins(self) -> list[PinCredential]:
        """Every PIN hash."""
        ...

    def passes(self) -> list[VisitorPass]:
        """Every visitor pass."""
        ...
