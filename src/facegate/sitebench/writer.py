"""The site's writer during the bench: enrolments, erasures, new cards, through the services."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from facegate.domain.errors import DuplicateFaceError, FacegateError
from facegate.ports import TemplateSealer
from facegate.services import credentials, rights
from facegate.services.context import ServiceContext
from facegate.sitebench.clients import reach_every_door
from facegate.sitebench.fill import FillModel
from facegate.sitebench.population import (
    BUILDINGS,
    CachedDescriber,
    Layout,
    Resident,
    add_resident,
)
from facegate.sitebench.report import Roster

CHANGE_CARDS = "BENCH-"
"""The prefix of the caretaker's new cards (edge gates report when they reach them)."""

Reach = Callable[[str, float, threading.Event], float | None]
"""Seconds from a change (a card number, its commit time) until it reached a set of gates."""


@dataclass
class Toggled:
    """A real resident the writer erases and enrols again, in turn."""

    who: str
    keys: list[str]
    building: int
    resident: Resident | None


@dataclass
class Writer:
    """Changes the site every ``interval_s`` while the load runs.

    In turn: erase (or enrol again) a real resident who is being presented; enrol a new
    synthetic resident (the full enrolment path with its duplicate check, timed); give
    the caretaker a new card and time until every door knows it (the server's door
    stations by asking each door, and ``edges`` by their own report); erase a synthetic
    resident.
    """

    context: ServiceContext
    sealer: TemplateSealer
    describer: CachedDescriber
    layout: Layout
    fill: FillModel
    fill_residents: list[Resident]
    toggled: list[Toggled]
    roster: Roster
    url: str
    door_keys: dict[str, str]
    staff_id: str
    edges: Reach | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reach_s: list[float | None] = field(default_factory=list)
    edge_reach_s: list[float | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    enrol_ms: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, stop: threading.Event, interval_s: float) -> None:
        """Change the site until ``stop``."""
        actions: list[Callable[[int], None]] = [
            self._toggle,
            self._enrol,
            self._new_card,
            self._erase,
        ]
        self._stop = stop
        for n in itertools.count():
            if stop.wait(interval_s):
                return
            try:
                actions[n % len(actions)](n)
            except DuplicateFaceError:
                self._count("refused_as_duplicates")
            except (FacegateError, httpx.HTTPError) as err:
                self.errors.append(f"{type(err).__name__}: {err}")

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _enrol(self, n: int) -> None:
        (person,) = self.fill.people(1, 3, seed=10_000 + n)
        keys = [f"writer/{n}/{t}" for t in range(3)]
        self.describer.known.update(dict(zip(keys, person, strict=True)))
        begin = time.perf_counter()
        resident = add_resident(
            self.context, self.sealer, self.describer, self.layout, f"New {n}", keys, n % BUILDINGS
        )
        self.enrol_ms.append((time.perf_counter() - begin) * 1000.0)
        self.fill_residents.append(resident)
        self._count("enrolments")

    def _new_card(self, n: int) -> None:
        card = f"{CHANGE_CARDS}{n:06d}"
        credentials.add_card(self.context, self.staff_id, card)
        changed_at = time.time()
        self._count("cards")
        reach = reach_every_door(self.url, self.door_keys, card, changed_at, self._stop)
        if self.edges is not None:
            at_edges = self.edges(card, changed_at, self._stop)
            if at_edges is None or at_edges == at_edges:
                self.edge_reach_s.append(at_edges)
            reach = None if reach is None or at_edges is None else max(reach, at_edges)
        if reach is None or reach == reach:  # nan: the bench ended before every door was seen
            self.reach_s.append(reach)

    def _erase(self, n: int) -> None:
        if self.fill_residents:
            rights.erase_person(self.context, self.fill_residents.pop(0).person_id)
            self._count("erasures")

    def _toggle(self, n: int) -> None:
        if not self.toggled:
            return
        real = self.toggled[(n // 8) % len(self.toggled)]  # erased, then back 4 turns later
        if real.resident is not None:
            rights.erase_person(self.context, real.resident.person_id)
            real.resident = None
            self.roster.set(real.who, None, time.time())
            self._count("erasures")
        else:
            real.resident = add_resident(
                self.context,
                self.sealer,
                self.describer,
                self.layout,
                real.who,
                real.keys,
                real.building,
            )
            self.roster.set(real.who, real.building, time.time())
            self._count("enrolments")
