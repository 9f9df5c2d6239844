"""Hand-written fakes of the ports for unit tests (no MagicMock).

``FakeStore`` keeps every table as a dict; a unit of work edits a deep copy that
replaces the store's tables only on commit, so "nothing half-written" is testable.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from facegate.domain.access import AccessRule, AlertEntry
from facegate.domain.accounts import Gate
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
from facegate.domain.errors import (
    AuditConflictError,
    ConflictError,
    KeyFileError,
    NoFaceError,
    NotFoundError,
)
from facegate.domain.events import Event
from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import FloatArray
from facegate.domain.passback import Direction, Presence, Zone, ZoneDoor
from facegate.domain.people import ConsentPurpose, ConsentRecord, Person, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import Building, Door, DoorLiveness, Lift, Site, Unit
from facegate.domain.site_mode import ModeRequest, ModeSource
from facegate.domain.snapshots import SealedSnapshot, SnapshotRecord


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeTicks:
    """A monotonic time source (seconds) that moves only when ``at`` is moved."""

    def __init__(self, at: float = 100.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@dataclass
class Tables:
    site: Site | None = None
    people: dict[str, Person] = field(default_factory=dict)
    consents: dict[str, ConsentRecord] = field(default_factory=dict)
    keys: dict[str, WrappedKey] = field(default_factory=dict)
    templates: dict[str, SealedTemplate] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    pins: dict[str, PinCredential] = field(default_factory=dict)
    passes: dict[str, VisitorPass] = field(default_factory=dict)
    alerts: dict[str, AlertEntry] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    receipts: dict[str, str] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    places: dict[str, Building | Unit | Door | Lift] = field(default_factory=dict)
    rules: dict[str, AccessRule] = field(default_factory=dict)
    disclosures: dict[str, Disclosure] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    snapshots: dict[str, tuple[SnapshotRecord, SealedSnapshot]] = field(default_factory=dict)
    site_modes: dict[str, ModeRequest] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    door_zones: dict[str, tuple[str, Direction]] = field(default_factory=dict)
    presence: dict[tuple[str, str], Presence] = field(default_factory=dict)


def _drop(table: dict[str, Any], keep: Any) -> int:
    gone = [k for k, v in table.items() if not keep(v)]
    for k in gone:
        del table[k]
    return len(gone)


class _Site:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def get(self) -> Site | None:
        return self.t.site

    def add(self, site: Site) -> None:
        self.t.site = site


class _People:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, person: Person) -> None:
        self.t.people[person.id] = person

    def get(self, person_id: str) -> Person:
        if person_id not in self.t.people:
            raise NotFoundError(f"no person with id {person_id!r}")
        return self.t.people[person_id]

    def all(self) -> list[Person]:
        return sorted(self.t.people.values(), key=lambda p: p.created_at)

    def page(self, name_contains: str, offset: int, limit: int) -> tuple[list[Person], int]:
        found = [p for p in self.all() if name_contains.lower() in p.name.lower()]
        return found[offset : offset + limit], len(found)

    def update(self, person: Person) -> None:
        self.get(person.id)
        self.t.people[person.id] = person

    def delete(self, person_id: str) -> None:
        self.get(person_id)
        del self.t.people[person_id]


class _Consents:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, record: ConsentRecord) -> None:
        self.t.consents[record.id] = record

    def update(self, record: ConsentRecord) -> None:
        self.t.consents[record.id] = record

    def for_person(self, person_id: str) -> list[ConsentRecord]:
        return [c for c in self.t.consents.values() if c.person_id == person_id]

    def for_people(self, person_ids: list[str]) -> list[ConsentRecord]:
        return [c for c in self.t.consents.values() if c.person_id in person_ids]

    def delete_withdrawn_before(self, moment: datetime) -> int:
        return _drop(self.t.consents, lambda c: c.withdrawn_at is None or c.withdrawn_at >= moment)


class _Keys:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def get(self, person_id: str) -> WrappedKey | None:
        return self.t.keys.get(person_id)

    def put(self, key: WrappedKey) -> None:
        self.t.keys[key.person_id] = key

    def all(self) -> list[WrappedKey]:
        return list(self.t.keys.values())

    def delete(self, person_id: str) -> None:
        self.t.keys.pop(person_id, None)


class _Templates:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, template: SealedTemplate) -> None:
        self.t.templates[template.id] = template

    def for_person(self, person_id: str) -> list[SealedTemplate]:
        return [x for x in self.t.templates.values() if x.person_id == person_id]

    def for_model(self, model_id: str) -> list[SealedTemplate]:
        return [x for x in self.t.templates.values() if x.model_id == model_id]

    def counts_for(self, person_ids: list[str]) -> dict[str, int]:
        return {i: n for i in person_ids if (n := len(self.for_person(i)))}

    def delete_for_person(self, person_id: str) -> int:
        return _drop(self.t.templates, lambda x: x.person_id != person_id)


class _Credentials:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add_card(self, card: Card) -> None:
        if self.find_card(card.number):
            raise ConflictError(f"card number {card.number!r} is already in use")
        self.t.cards[card.id] = card

    def find_card(self, number: str) -> Card | None:
        return next((c for c in self.t.cards.values() if c.number == number), None)

    def cards_for(self, person_id: str) -> list[Card]:
        return [c for c in self.t.cards.values() if c.person_id == person_id]

    def card_counts(self, person_ids: list[str]) -> dict[str, int]:
        return {i: n for i in person_ids if (n := len(self.cards_for(i)))}

    def add_pin(self, pin: PinCredential) -> None:
        self.t.pins[pin.person_id] = pin

    def pin_for(self, person_id: str) -> PinCredential | None:
        return self.t.pins.get(person_id)

    def delete_for_person(self, person_id: str) -> int:
        cards = _drop(self.t.cards, lambda c: c.person_id != person_id)
        return cards + (1 if self.t.pins.pop(person_id, None) else 0)


class _Passes:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, visitor_pass: VisitorPass) -> None:
        self.t.passes[visitor_pass.id] = visitor_pass

    def get(self, pass_id: str) -> VisitorPass:
        if pass_id not in self.t.passes:
            raise NotFoundError(pass_id)
        return self.t.passes[pass_id]

    def find_by_code_hash(self, code_hash: str) -> VisitorPass | None:
        return next((p for p in self.t.passes.values() if p.code_hash == code_hash), None)

    def update(self, visitor_pass: VisitorPass) -> None:
        self.t.passes[visitor_pass.id] = visitor_pass

    def for_host(self, host_id: str) -> list[VisitorPass]:
        return [p for p in self.t.passes.values() if p.host_id == host_id]

    def delete_for_host(self, host_id: str) -> int:
        return _drop(self.t.passes, lambda p: p.host_id != host_id)

    def delete_ended_before(self, moment: datetime) -> int:
        return _drop(self.t.passes, lambda p: p.valid_until >= moment)


class _Alerts:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, entry: AlertEntry) -> None:
        self.t.alerts[entry.id] = entry

    def for_person(self, person_id: str) -> list[AlertEntry]:
        return [a for a in self.t.alerts.values() if a.person_id == person_id]

    def delete_for_person(self, person_id: str) -> int:
        return _drop(self.t.alerts, lambda a: a.person_id != person_id)

    def delete_expired_before(self, moment: datetime) -> int:
        return _drop(self.t.alerts, lambda a: a.expires_at >= moment)

    def all(self) -> list[AlertEntry]:
        return sorted(self.t.alerts.values(), key=lambda a: (a.expires_at, a.id))


class _Events:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, event: Event) -> None:
        self.t.events[event.id] = event

    def for_person(self, person_id: str) -> list[Event]:
        return [e for e in self.t.events.values() if e.person_id == person_id]

    def received(self, key: str) -> bool:
        return key in self.t.receipts

    def add_receipt(self, key: str, gate_id: str, at: datetime) -> None:
        if key in self.t.receipts:
            raise ConflictError(f"receipt {key} exists")
        self.t.receipts[key] = gate_id

    def delivered(self, key: str, gate_id: str) -> Event | None:
        found = self.t.events.get(key)
        return found if self.t.receipts.get(key) == gate_id else None

    def claim_receipt(self, key: str, gate_id: str, at: datetime) -> bool:
        if key in self.t.receipts:
            return False
        self.t.receipts[key] = gate_id
        return True

    def anonymise(self, person_id: str) -> int:
        mine = self.for_person(person_id)
        for event in mine:
            self.t.events[event.id] = replace(event, person_id=None)
        return len(mine)

    def delete_before(self, moment: datetime) -> int:
        return _drop(self.t.events, lambda e: e.occurred_at >= moment)

    def counts_since(self, moment: datetime) -> list[tuple[str, Reason, int]]:
        counts: dict[tuple[str, Reason], int] = {}
        for e in self.t.events.values():
            if e.occurred_at >= moment:
                counts[(e.door_id, e.reason)] = counts.get((e.door_id, e.reason), 0) + 1
        return [(door, reason, n) for (door, reason), n in sorted(counts.items())]


class _Audit:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def last(self) -> AuditRecord | None:
        return self.t.audit[-1] if self.t.audit else None

    def last_for_append(self) -> AuditRecord | None:
        return self.last()

    def append(self, record: AuditRecord) -> None:
        if self.t.audit and record.seq <= self.t.audit[-1].seq:
            raise AuditConflictError(f"audit record {record.seq} exists")
        self.t.audit.append(record)

    def all(self) -> list[AuditRecord]:
        return list(self.t.audit)

    def newest(self, before_seq: int | None, limit: int) -> list[AuditRecord]:
        below = [r for r in self.t.audit if before_seq is None or r.seq < before_seq]
        return sorted(below, key=lambda r: -r.seq)[:limit]

    def first_after(self, moment: datetime) -> AuditRecord | None:
        return next((r for r in self.t.audit if r.occurred_at >= moment), None)

    def delete_before_seq(self, seq: int) -> int:
        before = len(self.t.audit)
        self.t.audit = [r for r in self.t.audit if r.seq >= seq]
        return before - len(self.t.audit)


class _Places:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, place: Building | Unit | Door | Lift) -> None:
        self.t.places[place.id] = place

    def _get(self, kind: type, place_id: str) -> Any:
        place = self.t.places.get(place_id)
        if not isinstance(place, kind):
            raise NotFoundError(f"no {kind.__name__.lower()} with id {place_id!r}")
        return place

    def building(self, building_id: str) -> Building:
        return self._get(Building, building_id)

    def buildings(self) -> list[Building]:
        found = [p for p in self.t.places.values() if isinstance(p, Building)]
        return sorted(found, key=lambda b: (b.name, b.id))

    def unit(self, unit_id: str) -> Unit:
        return self._get(Unit, unit_id)

    def units(self) -> list[Unit]:
        found = [p for p in self.t.places.values() if isinstance(p, Unit)]
        return sorted(found, key=lambda u: (u.building_id, u.floor, u.label, u.id))

    def door(self, door_id: str) -> Door:
        return self._get(Door, door_id)

    def doors(self) -> list[Door]:
        return [p for p in self.t.places.values() if isinstance(p, Door)]

    def set_door_liveness(self, door_id: str, liveness: DoorLiveness) -> Door:
        door = replace(self._get(Door, door_id), liveness=liveness)
        self.t.places[door_id] = door
        return door

    def lifts(self) -> list[Lift]:
        return [p for p in self.t.places.values() if isinstance(p, Lift)]


class _Rules:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, rule: AccessRule) -> None:
        self.t.rules[rule.id] = rule

    def for_subject(self, person_id: str, role: Role) -> list[AccessRule]:
        return [r for r in self.t.rules.values() if r.applies_to(person_id, role)]

    def all(self) -> list[AccessRule]:
        return sorted(self.t.rules.values(), key=lambda r: r.id)

    def page(self, offset: int, limit: int) -> tuple[list[AccessRule], int]:
        found = self.all()
        return found[offset : offset + limit], len(found)

    def delete_for_person(self, person_id: str) -> int:
        return _drop(self.t.rules, lambda r: r.person_id != person_id)


class _Disclosures:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, disclosure: Disclosure) -> None:
        self.t.disclosures[disclosure.id] = disclosure

    def all(self, person_id: str | None = None) -> list[Disclosure]:
        found = [
            d for d in self.t.disclosures.values() if person_id is None or person_id in d.person_ids
        ]
        return sorted(found, key=lambda d: (d.approved_at, d.id))


class _Snapshots:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, record: SnapshotRecord, sealed: SealedSnapshot) -> bool:
        if self.for_event(record.event_id) is not None:
            return False
        self.t.snapshots[record.id] = (record, sealed)
        return True

    def for_event(self, event_id: str) -> tuple[SnapshotRecord, SealedSnapshot] | None:
        found = [s for s in self.t.snapshots.values() if s[0].event_id == event_id]
        return found[0] if found else None

    def sealed_all(self) -> list[tuple[str, SealedSnapshot]]:
        return sorted((k, v[1]) for k, v in self.t.snapshots.items())

    def replace_key(self, snapshot_id: str, sealed: SealedSnapshot) -> None:
        self.t.snapshots[snapshot_id] = (self.t.snapshots[snapshot_id][0], sealed)

    def delete_before(self, moment: datetime) -> int:
        return _drop(self.t.snapshots, lambda s: s[0].taken_at >= moment)

    def delete_for_person(self, person_id: str) -> int:
        return _drop(self.t.snapshots, lambda s: s[0].person_id != person_id)


class _Gates:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def add(self, gate: Gate) -> None:
        if gate.id in self.t.gates:
            raise ConflictError(f"a gate with id {gate.id!r} is already registered")
        self.t.gates[gate.id] = gate

    def find(self, gate_id: str) -> Gate | None:
        return self.t.gates.get(gate_id)

    def get(self, gate_id: str) -> Gate:
        gate = self.find(gate_id)
        if gate is None:
            raise NotFoundError(f"no gate with id {gate_id!r}")
        return gate

    def all(self) -> list[Gate]:
        return sorted(self.t.gates.values(), key=lambda g: g.id)


class _SiteModes:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def all(self) -> list[ModeRequest]:
        return [self.t.site_modes[k] for k in sorted(self.t.site_modes)]

    def put(self, request: ModeRequest) -> None:
        self.t.site_modes[request.source.value] = request

    def delete(self, source: ModeSource) -> bool:
        return self.t.site_modes.pop(source.value, None) is not None


class _Zones:
    def __init__(self, t: Tables) -> None:
        self.t = t

    def put(self, zone: Zone) -> None:
        self.t.zones[zone.name] = zone

    def get(self, name: str) -> Zone:
        if name not in self.t.zones:
            raise NotFoundError(f"no zone named {name!r}")
        return self.t.zones[name]

    def all(self) -> list[Zone]:
        return [self.t.zones[k] for k in sorted(self.t.zones)]

    def place_door(self, door_id: str, zone: str | None, direction: Direction) -> None:
        if zone is None:
            self.t.door_zones.pop(door_id, None)
        else:
            self.t.door_zones[door_id] = (zone, direction)

    def doors(self) -> dict[str, tuple[str, Direction]]:
        return dict(self.t.door_zones)

    def door(self, door_id: str, time_zone: str) -> ZoneDoor | None:
        if door_id not in self.t.door_zones:
            return None
        name, direction = self.t.door_zones[door_id]
        z = self.get(name)
        return ZoneDoor(name, direction, z.mode, z.reset_at, time_zone, z.cleared_at)

    def presence(self, zone: str) -> dict[str, Presence]:
        return {pid: p for (z, pid), p in self.t.presence.items() if z == zone}

    def record(self, zone: str, person_id: str, presence: Presence) -> bool:
        held = self.t.presence.get((zone, person_id))
        if held is not None and held.since >= presence.since:
            return False
        self.t.presence[(zone, person_id)] = presence
        return True

    def reset(self, zone: str) -> int:
        gone = [k for k in self.t.presence if k[0] == zone]
        for k in gone:
            del self.t.presence[k]
        return len(gone)

    def delete_for_person(self, person_id: str) -> int:
        gone = [k for k in self.t.presence if k[1] == person_id]
        for k in gone:
            del self.t.presence[k]
        return len(gone)

    def stamp(self, door_id: str) -> str:
        if door_id not in self.t.door_zones:
            return ""
        found = self.presence(self.t.door_zones[door_id][0]).values()
        return f"{len(found)}@{max((p.since for p in found), default=None)}"

    def stamps(self, door_ids: Any) -> dict[str, str]:
        return {door_id: self.stamp(door_id) for door_id in door_ids}


class _Reads:
    """Whole-site reads; the data version is a digest of what decisions read."""

    def __init__(self, t: Tables) -> None:
        self.t = t

    def data_version(self) -> int:
        t = self.t
        parts = (t.site, t.people, t.consents, t.keys, t.templates, t.cards, t.pins)
        more = (t.passes, t.alerts, t.places, t.rules, t.gates, t.site_modes, t.zones)
        more = (*more, t.door_zones)
        from facegate.services.gate_sync import canonical_json

        return zlib.crc32(canonical_json((parts, more)).encode())

    def people(self) -> list[tuple[str, Role, bool]]:
        return [(p.id, p.role, p.moved_out_at is not None) for p in self.t.people.values()]

    def homes(self) -> list[tuple[str, str, int]]:
        units = {u.id: u for u in self.t.places.values() if isinstance(u, Unit)}
        return [
            (p.id, units[p.unit_id].building_id, units[p.unit_id].floor)
            for p in self.t.people.values()
            if p.unit_id in units
        ]

    def consenting(self, purpose: ConsentPurpose, now: datetime) -> set[str]:
        found = self.t.consents.values()
        return {c.person_id for c in found if c.purpose is purpose and c.in_force(now)}

    def template_index(self, model_id: str) -> list[tuple[str, str]]:
        found = [(x.id, x.person_id) for x in self.t.templates.values() if x.model_id == model_id]
        return sorted(found)

    def sealed_rows(self, model_id: str, template_ids: Sequence[str] | None) -> list[SealedRow]:
        every = self.t.templates
        found = (
            every.values()
            if template_ids is None
            else [every[i] for i in template_ids if i in every]
        )
        return [(x.id, x.person_id, x.sealed) for x in found if x.model_id == model_id]

    def keys(self, person_ids: Iterable[str] | None) -> dict[str, WrappedKey]:
        if person_ids is None:
            return dict(self.t.keys)
        return {p: self.t.keys[p] for p in set(person_ids) if p in self.t.keys}

    def card_numbers(self) -> list[tuple[str, str]]:
        return sorted((c.number, c.person_id) for c in self.t.cards.values())

    def pin_hashes(self) -> list[tuple[str, str]]:
        return sorted((p.person_id, p.pin_hash) for p in self.t.pins.values())

    def passes(self) -> list[VisitorPass]:
        return sorted(self.t.passes.values(), key=lambda p: p.id)

    def person_names(self, person_ids: Iterable[str]) -> dict[str, str]:
        return {i: self.t.people[i].name for i in set(person_ids) if i in self.t.people}


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._tables = copy.deepcopy(store.tables)
        t = self._tables
        self.site, self.people, self.consents = _Site(t), _People(t), _Consents(t)
        self.keys, self.templates, self.credentials = _Keys(t), _Templates(t), _Credentials(t)
        self.passes, self.alerts, self.events = _Passes(t), _Alerts(t), _Events(t)
        self.audit, self.places, self.rules = _Audit(t), _Places(t), _Rules(t)
        self.disclosures = _Disclosures(t)
        self.gates, self.reads = _Gates(t), _Reads(t)
        self.snapshots = _Snapshots(t)
        self.site_modes = _SiteModes(t)
        self.zones = _Zones(t)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        self._store.tables = copy.deepcopy(self._tables)
        self._store.commits += 1


class FakeStore:
    def __init__(self) -> None:
        self.tables = Tables()
        self.commits = 0
        self.reclaims = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def reclaim_erased(self) -> None:
        self.reclaims += 1


_READ_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""A creation time for templates the fake sealer opens from rows (it does not read it)."""


class FakeSealer:
    """'Seals' by tagging the bytes with the key's person and the template id: not crypto,
    but it checks the binding the real sealer enforces."""

    site_key_id = "fake-key"

    def new_data_key(self, person_id: str) -> WrappedKey:
        return WrappedKey(person_id, self.site_key_id, b"wrapped:" + person_id.encode())

    def seal(
        self, key: WrappedKey, template_id: str, model_id: str, descriptor: FloatArray
    ) -> bytes:
        tag = f"{key.person_id}|{template_id}|{model_id}|".encode()
        return tag + np.asarray(descriptor, dtype=np.float32).tobytes()

    def open(self, key: WrappedKey, template: SealedTemplate) -> FloatArray:
        tag = f"{key.person_id}|{template.id}|{template.model_id}|".encode()
        if not template.sealed.startswith(tag):
            raise KeyFileError(f"template {template.id} does not decrypt")
        return np.frombuffer(template.sealed[len(tag) :], dtype=np.float32).copy()

    def open_person(self, key: WrappedKey, templates: Sequence[SealedTemplate]) -> list[FloatArray]:
        return [self.open(key, template) for template in templates]

    def open_rows(
        self, model_id: str, rows: Sequence[SealedRow], keys: Mapping[str, WrappedKey]
    ) -> FloatArray:
        opened = []
        for t, p, sealed in rows:
            template = SealedTemplate(t, p, model_id, _READ_AT, sealed)
            opened.append(self.open(keys[p], template))
        return np.array(opened, dtype=np.float32).reshape(-1, 128)

    def rewrap(self, key: WrappedKey, new_site_key: bytes) -> WrappedKey:
        return WrappedKey(key.person_id, new_site_key.hex(), key.wrapped)


def unit_descriptor(seed: int) -> FloatArray:
    """A deterministic 128-D descriptor; different seeds are far apart (> 0.57)."""
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=128).astype(np.float32)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class FakeDescriber:
    """Describes 'photos' by file name: ``<seed>.jpg`` is :func:`unit_descriptor` (seed),
    anything else has no face."""

    model_id = "fake-model"

    def __init__(self) -> None:
        self.described: list[Path] = []

    def describe(self, path: Path | UploadedPhoto) -> FloatArray:
        stem = Path(str(path)).stem
        self.described.append(Path(str(path)))
        if not stem.isdigit():
            raise NoFaceError(f"{path}: no face found")
        return unit_descriptor(int(stem))


# -- gate ports: the face engine, the door, the event sink ----------------------------


def fake_frame(index: int, person: int = 0, good: bool = True, fail: bool = False) -> Any:
    """A frame :class:`FakeFaceEngine` reads: ``person`` 0 shows no face.

    Pixel ``[0, 0]`` holds the person's seed, whether the face passes the quality gate,
    and whether the detector should fail on it. Frames are 25 per second.
    """
    from facegate.ports import Frame

    image = np.zeros((120, 160, 3), np.uint8)
    image[0, 0] = (person, int(good), int(fail))
    return Frame(image, index, index / 25.0)


class FakeFaceEngine:
    """The face engine as perception uses it, reading the frames of :func:`fake_frame`.

    A person's face is one box in the middle; its descriptor is :func:`unit_descriptor`
    of the person's seed. ``embedded`` counts the descriptors computed.
    """

    def __init__(self) -> None:
        self.embedded = 0
        self.detector = self
        self.embedder = self

    def detect(self, image: Any) -> list[Any]:
        from facegate.domain.faces import Box
        from facegate.vision.detection import Detection

        person, _, fail = (int(v) for v in image[0, 0])
        if fail:
            raise RuntimeError("detector crashed")
        return [Detection(Box(40, 20, 120, 100), 1.0, "hog")] if person else []

    def measure(self, image: Any, detections: Any, describe: bool = False) -> list[Any]:
        from facegate.domain.faces import FaceQuality, FivePointLandmarks, QualityVerdict
        from facegate.vision.engine import Face

        person, good, _ = (int(v) for v in image[0, 0])
        points = ((90.0, 50.0), (80.0, 50.0), (60.0, 50.0), (70.0, 50.0), (75.0, 70.0))
        quality = FaceQuality(80.0, 25.0, 100.0, 120.0, 40.0, 0.0, 0.0)
        verdict = QualityVerdict(bool(good), () if good else ("sharpness",))
        chip = np.full((150, 150, 3), person, np.uint8)
        faces = []
        for detection in detections:
            descriptor = None
            if describe:
                self.embedded += 1
                descriptor = unit_descriptor(person)
            landmarks = FivePointLandmarks(points)
            faces.append(Face(detection, landmarks, quality, verdict, chip, descriptor))
        return faces

    def embed(self, chips: Any) -> FloatArray:
        self.embedded += len(chips)
        return np.stack([unit_descriptor(int(chip[0, 0, 0])) for chip in chips])


class FakeDoor:
    """A door that records its commands; ``fail`` raises the given exception."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.commands: list[Any] = []

    def send(self, command: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.commands.append(command)

    def close(self) -> None:
        pass


class ListSink:
    """An event sink (the outbox port) that keeps the events in a list."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def put(self, event: Any) -> None:
        self.events.append(event)
