"""Ports of the site's data: repositories, the unit of work, the template sealer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from facegate.domain.access import AccessRule, AlertEntry
from facegate.domain.audit import AuditRecord
from facegate.domain.credentials import (
    Card,
    PinCredential,
    SealedRow,
    SealedTemplate,
    VisitorPass,
    WrappedKey,
)
from facegate.domain.disclosure import Disclosure
from facegate.domain.events import Event, EventQuery
from facegate.domain.matching import FloatArray
from facegate.domain.people import ConsentRecord, Person, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import Building, Door, DoorLiveness, Lift, Site, Unit
from facegate.domain.snapshots import SealedSnapshot
from facegate.ports.accounts import AccountRepository
from facegate.ports.archive import TableRepository
from facegate.ports.gates import GateRepository, SiteModeRepository, SiteReads
from facegate.ports.work import AlarmRepository, SnapshotRepository, SubjectRequestRepository
from facegate.ports.zones import ZoneRepository


class PersonRepository(Protocol):
    """People of the site."""

    def add(self, person: Person) -> None:
        """Store a new person."""
        ...

    def get(self, person_id: str) -> Person:
        """The person with ``person_id`` (:class:`NotFoundError` when there is none)."""
        ...

    def all(self) -> list[Person]:
        """Every person, oldest first."""
        ...

    def page(self, name_contains: str, offset: int, limit: int) -> tuple[list[Person], int]:
        """Up to ``limit`` people from ``offset``, oldest first, and how many match in all.

        ``name_contains`` keeps the people whose name holds it (case-insensitive); empty keeps
        everyone.
        """
        ...

    def update(self, person: Person) -> None:
        """Store changed fields of an existing person."""
        ...

    def delete(self, person_id: str) -> None:
        """Remove the person's row."""
        ...


class ConsentRepository(Protocol):
    """Consent records; kept after erasure as proof, by person id only."""

    def add(self, record: ConsentRecord) -> None:
        """Store a new record."""
        ...

    def update(self, record: ConsentRecord) -> None:
        """Store a changed record (a withdrawal)."""
        ...

    def for_people(self, person_ids: list[str]) -> list[ConsentRecord]:
        """The records of every person in ``person_ids`` (one query), oldest first."""
        ...

    def for_person(self, person_id: str) -> list[ConsentRecord]:
        """The person's records, oldest first."""
        ...

    def delete_withdrawn_before(self, moment: datetime) -> int:
        """Delete records withdrawn before ``moment``; returns how many."""
        ...


class KeyRepository(Protocol):
    """People's wrapped data keys."""

    def get(self, person_id: str) -> WrappedKey | None:
        """The person's wrapped key, ``None`` when they have none."""
        ...

    def put(self, key: WrappedKey) -> None:
        """Store or replace the person's wrapped key."""
        ...

    def all(self) -> list[WrappedKey]:
        """Every wrapped key (for site key rotation)."""
        ...

    def delete(self, person_id: str) -> None:
        """Destroy the person's key (their templates become unreadable)."""
        ...


class TemplateRepository(Protocol):
    """Sealed face templates."""

    def add(self, template: SealedTemplate) -> None:
        """Store a new template."""
        ...

    def for_person(self, person_id: str) -> list[SealedTemplate]:
        """The person's templates, oldest first."""
        ...

    def counts_for(self, person_ids: list[str]) -> dict[str, int]:
        """How many templates each of ``person_ids`` has (one query; absent means none)."""
        ...

    def for_model(self, model_id: str) -> list[SealedTemplate]:
        """Every template made by ``model_id``."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Delete the person's templates; returns how many."""
        ...


class CredentialRepository(Protocol):
    """Cards and PINs."""

    def add_card(self, card: Card) -> None:
        """Store a card (:class:`ConflictError` when its number is in use)."""
        ...

    def find_card(self, number: str) -> Card | None:
        """The card with ``number``, if any."""
        ...

    def cards_for(self, person_id: str) -> list[Card]:
        """The person's cards."""
        ...

    def card_counts(self, person_ids: list[str]) -> dict[str, int]:
        """How many cards each of ``person_ids`` holds (one query; absent means none)."""
        ...

    def add_pin(self, pin: PinCredential) -> None:
        """Store a PIN hash (replacing the person's previous PIN)."""
        ...

    def pin_for(self, person_id: str) -> PinCredential | None:
        """The person's PIN hash, if any."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Delete the person's cards and PIN; returns how many."""
        ...


class PassRepository(Protocol):
    """Visitor passes."""

    def add(self, visitor_pass: VisitorPass) -> None:
        """Store a new pass."""
        ...

    def get(self, pass_id: str) -> VisitorPass:
        """The pass with ``pass_id`` (:class:`NotFoundError` when there is none)."""
        ...

    def find_by_code_hash(self, code_hash: str) -> VisitorPass | None:
        """The pass whose code hashes to ``code_hash``, if any."""
        ...

    def update(self, visitor_pass: VisitorPass) -> None:
        """Store a changed pass (a use counted)."""
        ...

    def for_host(self, host_id: str) -> list[VisitorPass]:
        """The passes ``host_id`` issued."""
        ...

    def delete_for_host(self, host_id: str) -> int:
        """Delete the passes ``host_id`` issued; returns how many."""
        ...

    def delete_ended_before(self, moment: datetime) -> int:
        """Delete passes whose validity ended before ``moment``; returns how many."""
        ...


class AlertRepository(Protocol):
    """The alert list."""

    def add(self, entry: AlertEntry) -> None:
        """Store a new entry."""
        ...

    def for_person(self, person_id: str) -> list[AlertEntry]:
        """Entries about ``person_id``."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Delete entries about ``person_id``; returns how many."""
        ...

    def all(self) -> list[AlertEntry]:
        """Every entry, soonest expiry first."""
        ...

    def delete_expired_before(self, moment: datetime) -> int:
        """Delete entries that expired before ``moment``; returns how many."""
        ...


class EventRepository(Protocol):
    """Access events."""

    def add(self, event: Event) -> None:
        """Store an event."""
        ...

    def for_person(self, person_id: str) -> list[Event]:
        """Events naming ``person_id``, oldest first."""
        ...

    def search(self, query: EventQuery) -> list[Event]:
        """Events matching ``query``, newest first, at most ``query.limit``."""
        ...

    def counts_since(self, moment: datetime) -> list[tuple[str, Reason, int]]:
        """``(door id, reason, how many)`` of the events at or after ``moment``."""
        ...

    def received(self, key: str) -> bool:
        """Whether a gate already delivered the event with idempotency ``key``."""
        ...

    def add_receipt(self, key: str, gate_id: str, at: datetime) -> None:
        """Record that ``gate_id`` delivered the event with idempotency ``key`` at ``at``."""
        ...

    def delivered(self, key: str, gate_id: str) -> Event | None:
        """The access event ``gate_id`` delivered with idempotency ``key``, if it was stored.

        ``None`` when no gate delivered it, another gate did, or it was refused (a
        refused event is receipted but not stored).
        """
        ...

    def claim_receipt(self, key: str, gate_id: str, at: datetime) -> bool:
        """Record the receipt of ``key`` atomically unless it is recorded; whether this did.

        Two transactions claiming the same key at once never both get ``True`` and never
        fail: the second waits for the first, then gets ``False``.
        """
        ...

    def anonymise(self, person_id: str) -> int:
        """Remove ``person_id`` from their events; returns how many."""
        ...

    def delete_before(self, moment: datetime) -> int:
        """Delete events that occurred before ``moment``; returns how many."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log."""

    def last(self) -> AuditRecord | None:
        """The newest record, ``None`` for an empty log."""
        ...

    def last_for_append(self) -> AuditRecord | None:
        """The newest record, read holding the chain's append lock.

        The lock is held until the transaction ends: other appenders wait instead of
        racing for the next link.
        """
        ...

    def append(self, record: AuditRecord) -> None:
        """Append a record (:class:`ConflictError` when another writer got there first)."""
        ...

    def all(self) -> list[AuditRecord]:
        """Every record in sequence order."""
        ...

    def newest(self, before_seq: int | None, limit: int) -> list[AuditRecord]:
        """At most ``limit`` records below ``before_seq`` (all when ``None``), newest first."""
        ...

    def first_after(self, moment: datetime) -> AuditRecord | None:
        """The oldest record that occurred at or after ``moment``."""
        ...

    def delete_before_seq(self, seq: int) -> int:
        """Delete the records before ``seq`` (retention); returns how many."""
        ...


class DisclosureRepository(Protocol):
    """Records of data handed to authorities (kept after an erasure, by person id)."""

    def add(self, disclosure: Disclosure) -> None:
        """Store a new record."""
        ...

    def all(self, person_id: str | None = None) -> list[Disclosure]:
        """Every record (or those naming ``person_id``), oldest approval first."""
        ...


class SiteRepository(Protocol):
    """The site a database holds (one per database)."""

    def get(self) -> Site | None:
        """The site, ``None`` before ``site init``."""
        ...

    def add(self, site: Site) -> None:
        """Store the site."""
        ...


class PlaceRepository(Protocol):
    """The site's layout: buildings, units, doors and lifts."""

    def add(self, place: Building | Unit | Door | Lift) -> None:
        """Store a new building, unit, door or lift."""
        ...

    def building(self, building_id: str) -> Building:
        """The building with ``building_id`` (:class:`NotFoundError` when none)."""
        ...

    def buildings(self) -> list[Building]:
        """Every building, by name."""
        ...

    def unit(self, unit_id: str) -> Unit:
        """The unit with ``unit_id`` (:class:`NotFoundError` when none)."""
        ...

    def units(self) -> list[Unit]:
        """Every unit, by building, floor and label."""
        ...

    def door(self, door_id: str) -> Door:
        """The door with ``door_id`` (:class:`NotFoundError` when none)."""
        ...

    def doors(self) -> list[Door]:
        """Every door, by name."""
        ...

    def set_door_liveness(self, door_id: str, liveness: DoorLiveness) -> Door:
        """Set a door's liveness mode (:class:`NotFoundError` when no such door)."""
        ...

    def lifts(self) -> list[Lift]:
        """Every lift, by name."""
        ...


class AccessRuleRepository(Protocol):
    """Who may pass which door or reach which floor, and when."""

    def add(self, rule: AccessRule) -> None:
        """Store a new rule."""
        ...

    def for_subject(self, person_id: str, role: Role) -> list[AccessRule]:
        """The rules about ``person_id`` or their ``role``."""
        ...

    def page(self, offset: int, limit: int) -> tuple[list[AccessRule], int]:
        """Up to ``limit`` rules from ``offset`` (by id) and how many there are in all."""
        ...

    def all(self) -> list[AccessRule]:
        """Every rule, in a stable order (by id)."""
        ...

    def delete_for_person(self, person_id: str) -> int:
        """Delete the rules naming ``person_id``; returns how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository: all of it is stored, or none of it.

    Leaving the ``with`` block without :meth:`commit` rolls back.
    """

    site: SiteRepository
    people: PersonRepository
    consents: ConsentRepository
    keys: KeyRepository
    templates: TemplateRepository
    credentials: CredentialRepository
    passes: PassRepository
    alerts: AlertRepository
    events: EventRepository
    audit: AuditRepository
    places: PlaceRepository
    rules: AccessRuleRepository
    accounts: AccountRepository
    disclosures: DisclosureRepository
    tables: TableRepository
    gates: GateRepository
    site_modes: SiteModeRepository
    zones: ZoneRepository
    reads: SiteReads
    alarms: AlarmRepository
    requests: SubjectRequestRepository
    snapshots: SnapshotRepository

    def __enter__(self) -> UnitOfWork:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End it, rolling back what was not committed."""
        ...

    def commit(self) -> None:
        """Make everything done so far permanent."""
        ...


class Store(Protocol):
    """A database: opens units of work and reclaims space after an erasure."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work."""
        ...

    def reclaim_erased(self) -> None:
        """Make deleted rows unrecoverable from the files (checkpoint, vacuum)."""
        ...


class TemplateSealer(Protocol):
    """Encrypts face templates under per-person data keys wrapped by the site key."""

    @property
    def site_key_id(self) -> str:
        """Fingerprint of the site key in use."""
        ...

    def new_data_key(self, person_id: str) -> WrappedKey:
        """A fresh data key for ``person_id``, wrapped."""
        ...

    def seal(
        self, key: WrappedKey, template_id: str, model_id: str, descriptor: FloatArray
    ) -> bytes:
        """Encrypt ``descriptor``, bound to the key's person, ``template_id`` and ``model_id``."""
        ...

    def open(self, key: WrappedKey, template: SealedTemplate) -> FloatArray:
        """Decrypt ``template``.

        Raises:
            KeyFileError: wrong site key, or the ciphertext was altered or moved.
        """
        ...

    def open_person(self, key: WrappedKey, templates: Sequence[SealedTemplate]) -> list[FloatArray]:
        """Decrypt several of ``key``'s person's templates (the data key unwrapped once).

        Raises:
            KeyFileError: one does not decrypt.
        """
        ...

    def open_rows(
        self, model_id: str, rows: Sequence[SealedRow], keys: Mapping[str, WrappedKey]
    ) -> FloatArray:
        """Decrypt templates of ``model_id`` in bulk, each under its person's key in ``keys``.

        Returns:
            ``(len(rows), 128)`` float32, row ``i`` the descriptor of ``rows[i]``.

        Raises:
            KeyFileError: one does not decrypt, or its person has no key in ``keys``.
        """
        ...

    def rewrap(self, key: WrappedKey, new_site_key: bytes) -> WrappedKey:
        """``key``'s data key wrapped by ``new_site_key`` (32 bytes) instead."""
        ...

    def seal_snapshot(
        self, snapshot_id: str, image: bytes, person_key: WrappedKey | None = None
    ) -> SealedSnapshot:
        """Encrypt an event snapshot (under ``person_key`` when given)."""
        ...

    def open_snapshot(
        self, snapshot_id: str, snapshot: SealedSnapshot, person_key: WrappedKey | None = None
    ) -> bytes:
        """Decrypt an event snapshot (:class:`KeyFileError` when it does not decrypt)."""
        ...

    def rewrap_snapshot(
        self, snapshot_id: str, snapshot: SealedSnapshot, new_site_key: bytes
    ) -> SealedSnapshot:
        """``snapshot`` with its data key wrapped by ``new_site_key`` instead."""
        ...
