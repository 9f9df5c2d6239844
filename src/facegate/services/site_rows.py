"""The site's rows a snapshot is assembled from, read once per data version.

Every door's gate asks for its snapshot after a change; the rows they all need (people,
face consent, rules, alerts, cards, PINs, passes, each model's template index) are read
once per site data version and store, and each door's snapshot is assembled from them.
Rows read in a transaction that saw version ``v`` hold at least ``v``'s data (the version
is read first): a newer change is picked up at the next version, never lost.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from facegate.domain.access import AccessRule, AlertEntry
from facegate.domain.credentials import VisitorPass
from facegate.domain.lifts import LiftCar, rules_serving
from facegate.domain.people import ConsentPurpose, Role
from facegate.domain.policy import PersonAccess
from facegate.ports import Store, UnitOfWork

_T = TypeVar("_T")


@dataclass(slots=True)
class SiteRows:
    """What every door's snapshot at one data version is assembled from.

    Kept until the next version, so kept in few objects: cards and PINs as dicts, people
    alike sharing one (role, moved out) tuple, not a tuple per entry (the cyclic garbage
    collector walked each of those 75,000 at 25,000 residents once, a few ms per 10,000).

    Attributes:
        version: the site data version they were read at.
        people: person id to (role, moved out).
        consenting: people with face consent in force when read.
        rules: every access rule, by id.
        alerts: every alert-list entry, by id.
        cards: card number to person id, of every card (by number).
        pins: person id to PIN hash, of every PIN (by person).
        passes: every visitor pass.
        homes: ``(person id, building id, floor)`` of every person with a unit.
        indexes: per model, ``(template id, person id)`` of its templates (filled on use).
    """

    version: int
    people: dict[str, tuple[Role, bool]]
    consenting: frozenset[str]
    rules: tuple[AccessRule, ...]
    alerts: tuple[AlertEntry, ...]
    cards: dict[str, str]
    pins: dict[str, str]
    passes: list[VisitorPass]
    homes: list[tuple[str, str, int]] = field(default_factory=list)
    indexes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    derivations: int = 0
    """How many values :meth:`derived` made (for tests and benches)."""
    _access: dict[frozenset[str] | None, dict[str, PersonAccess]] = field(default_factory=dict)
    _by_door: dict[str, tuple[AccessRule, ...]] | None = None
    _earlier_by_door: dict[str, tuple[AccessRule, ...]] | None = None
    _by_car: dict[LiftCar, tuple[AccessRule, ...]] = field(default_factory=dict)
    _derived: dict[tuple[str, Hashable], Any] = field(default_factory=dict)

    def door_rules(self, door_id: str) -> tuple[AccessRule, ...]:
        """The rules naming the door ``door_id``, by id (indexed on first use, for all doors).

        Each door's snapshot would otherwise walk every rule (24 doors x 2,000 rules).
        Doors named by the very same rules (the doors of one building, as a rule names
        them) get one shared tuple, so what :meth:`derived` makes of it is made once.
        A door whose rules are the very ones it had at the version before (a rule added
        for another building's doors) keeps that version's tuple, so what is kept per
        tuple (the edge route's encoded rules, ``SectionMemo``) is not made again.
        """
        if self._by_door is None:
            by_door: dict[str, list[AccessRule]] = {}
            for rule in self.rules:
                for named in rule.door_ids:
                    by_door.setdefault(named, []).append(rule)
            earlier = self._earlier_by_door or {}
            shared: dict[tuple[int, ...], tuple[AccessRule, ...]] = {}
            indexed: dict[str, tuple[AccessRule, ...]] = {}
            for door, found in by_door.items():
                ids = tuple(map(id, found))
                if ids not in shared:
                    kept = earlier.get(door)
                    same = kept is not None and tuple(map(id, kept)) == ids
                    shared[ids] = kept if same and kept is not None else tuple(found)
                indexed[door] = shared[ids]
            self._by_door, self._earlier_by_door = indexed, None
        return self._by_door.get(door_id, ())

    def carry(self, earlier: SiteRows) -> None:
        """Take ``earlier``'s indexes of the rules (by door, by lift car) if its rules are ours.

        Else :meth:`door_rules` keeps ``earlier``'s tuple of each door whose rules did not
        change (``earlier``'s index is held until this version's is made, then let go).

        Most versions change no rule (a card, an enrolment); indexing 25,000 rules again
        cost about 70 ms a version. The rules read reuses the rule objects of unchanged
        rows, so the comparison goes mostly by identity.
        """
        if earlier.rules == self.rules:
            self._by_door = earlier._by_door
            self._by_car = dict(earlier._by_car)
        else:
            self._earlier_by_door = earlier._by_door

    def lift_rules(self, car: LiftCar) -> tuple[AccessRule, ...]:
        """The rules serving ``car`` (:func:`~facegate.domain.lifts.rules_serving`), once a car."""
        if car not in self._by_car:
            self._by_car[car] = rules_serving(self.rules, car)
        return self._by_car[car]

    def derived(self, kind: str, key: Hashable, make: Callable[[], _T]) -> _T:
        """``make()``, made once per ``kind`` and ``key`` at this version.

        What a snapshot derives from its rule set or its people (who is allowed, their
        cards and PIN hashes, who has a usable face) walks the whole site at 25,000
        residents (12-14 ms a door); the doors that share a rule set (one tuple, see
        :meth:`door_rules`) or people (:meth:`access`) share what is made of it.
        ``key`` is a value (a lift's car), or the ``id`` of an object these rows hold
        for their version (a door's rule set, the people shown, a set made here), so
        that the id is its own while it is a key.
        """
        slot = (kind, key)
        if slot not in self._derived:
            self._derived[slot] = make()
            self.derivations += 1
        return cast(_T, self._derived[slot])

    def index(
        self,
        uow: UnitOfWork,
        model_id: str,
        read: Callable[[], list[tuple[str, str]] | None] | None = None,
    ) -> list[tuple[str, str]]:
        """``(template id, person id)`` of ``model_id``'s templates (read on first use).

        ``read``: what reads it on first use when it can (``None`` from it when it
        cannot): a cold template cache reads it with the templates themselves
        (:meth:`facegate.services.template_cache.TemplateCache.prime`), in the order
        they were read rather than by id.
        """
        if model_id in self.indexes:
            return self.indexes[model_id]
        found = None if read is None else read()
        found = uow.reads.template_index(model_id) if found is None else found
        if found:  # a model without templates is not kept (a gate may name any model)
            self.indexes[model_id] = found
        return found

    def homes_by_person(self) -> dict[str, tuple[Role, str | None, int | None]]:
        """Person id to (role, unit's building, unit's floor), of people still living here."""
        return {
            pid: (self.people[pid][0], building, floor)
            for pid, building, floor in self.homes
            if pid in self.people and not self.people[pid][1]
        }

    def access(self, shown: frozenset[str] | None) -> dict[str, PersonAccess]:
        """What the policy needs of the people ``shown`` (``None``: everyone), by id.

        PersonAccess is frozen, so people alike share one instance.
        """
        if shown not in self._access:
            shared: dict[tuple[Role, bool, bool], PersonAccess] = {}
            found: dict[str, PersonAccess] = {}
            for pid in sorted(self.people if shown is None else shown & self.people.keys()):
                role, moved = self.people[pid]
                kind = (role, pid in self.consenting, moved)
                if kind not in shared:
                    shared[kind] = PersonAccess(role, kind[1], None, moved)
                found[pid] = shared[kind]
            self._access[shown] = found
        return self._access[shown]


def read_rows(uow: UnitOfWork, version: int, now: datetime) -> SiteRows:
    """Every row a snapshot needs, in a handful of whole-table queries."""
    reads = uow.reads
    return SiteRows(
        version=version,
        people=_people(reads.people()),
        consenting=frozenset(reads.consenting(ConsentPurpose.FACE_ACCESS, now)),
        rules=tuple(uow.rules.all()),
        alerts=tuple(sorted(uow.alerts.all(), key=lambda a: a.id)),
        cards=dict(reads.card_numbers()),
        pins=dict(reads.pin_hashes()),
        passes=reads.passes(),
        homes=reads.homes(),
    )


def _people(read: Iterable[tuple[str, Role, bool]]) -> dict[str, tuple[Role, bool]]:
    """Person id to (role, moved out), people alike sharing one tuple (see SiteRows)."""
    kinds: dict[tuple[Role, bool], tuple[Role, bool]] = {}
    people: dict[str, tuple[Role, bool]] = {}
    for pid, role, moved in read:
        kind = (role, moved)
        people[pid] = kinds.setdefault(kind, kind)
    return people


class RowMemo:
    """The last :class:`SiteRows` read of each store (thread-safe; stores held weakly).

    One read at a time: after a change, the server's kiosk refresher and the edge gates'
    polls ask for the new version at once; the first reads the rows, the others wait
    for it and take them instead of reading the whole site again each.

    Args:
        read: reads the rows (:func:`read_rows`; tests pass one they can hold).
    """

    def __init__(self, read: Callable[[UnitOfWork, int, datetime], SiteRows] | None = None) -> None:
        self._read = read or read_rows
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Store, SiteRows] = weakref.WeakKeyDictionary()
        self.reads = 0
        """How many times the rows were read (for tests and benches)."""

    def _current(self, store: Store, version: int) -> SiteRows | None:
        with self._lock:
            kept = self._kept.get(store)
        return kept if kept is not None and kept.version == version else None

    def rows(self, store: Store, uow: UnitOfWork, version: int, now: datetime) -> SiteRows:
        """The rows at ``version``: kept ones when they are of it, else read in ``uow``."""
        kept = self._current(store, version)
        if kept is not None:
            return kept
        with self._reading:
            kept = self._current(store, version)  # read by whoever held the turn
            if kept is not None:
                return kept
            fresh = self._read(uow, version, now)
            with self._lock:
                earlier = self._kept.get(store)
            if earlier is not None:
                fresh.carry(earlier)
            with self._lock:
                self._kept[store] = fresh
                self.reads += 1
        return fresh


ROWS = RowMemo()
"""The process's memo."""
