"""What one site data version costs the server's CPU: 24 targets rebuilt, edge answers encoded.

The site bench's complex (4 buildings of 5 doors and a lift of floors 0-9; each resident a
rule for their building's doors and one floor, a card and a PIN hash, ``--templates``
sealed synthetic templates) filled directly as rows into a SQLite file (kept, its site
key beside it as ``<file>.key``; ``--refill`` makes it again). Then, per ``--repeat``
version (``--change card``: a new card for the caretaker, as the site bench's writer gives;
``rule``: a new rule of the caretaker's naming five doors, as an enrolment adds one; no
face changes), CPU milliseconds (``time.process_time``, this process) of:

- ``rows_cpu_ms``: the site's rows read once for the version (:mod:`facegate.services.site_rows`),
  with the garbage collector paused as ``build_snapshots`` reads them;
- ``assemble_cpu_ms``: every target's snapshot assembled from those rows in one batch
  (``build_snapshots``, audited and committed, as the server's kiosk refresher does);
- ``edge_cpu_ms``: what the edge gates' snapshot route then does for each of the 20 doors
  (``build_snapshot`` of the door and its access sections encoded, as ``GET
  /gates/{id}/snapshot`` does before sealing, with the route's memo of shared sections
  where the checkout has one), ``edge_sections`` times: with several gates at one door
  the route is asked that many times per door.

The template cache and the gallery are warm (one build first): the figures are the
per-version work that competes with the frame path for the CPUs and the GIL. Prints one
JSON line with the medians, the checkout it ran and the load average before and after.

    PYTHONPATH=src .venv/bin/python bench/version_cpu.py --people 25000 --repeat 5
    PYTHONPATH=../main/src .venv/bin/python bench/version_cpu.py --people 25000  # before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import facegate
from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.people import Role
from facegate.domain.policy import AccessData
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.snapshot_sections import Sections
from facegate.services import credentials, people, places
from facegate.services.bulk import collector_paused
from facegate.services.context import ServiceContext
from facegate.services.site_rows import RowMemo
from facegate.services.snapshots import (
    SnapshotRequest,
    TemplateCache,
    build_snapshot,
    build_snapshots,
)
from facegate.store.crypto import AesGcmSealer
from facegate.store.database import create_db_engine
from facegate.store.schema import PersonRow
from facegate.store.unit_of_work import SqlStore
from snapshot_scale import MODEL, POLICY, Clock, _fill, fresh_site

BUILDINGS, DOORS, FLOORS = 4, 5, tuple(range(10))
ALWAYS = TimeWindow(frozenset(range(7)), datetime.min.time(), datetime.max.time())


def _layout(context: ServiceContext) -> tuple[list[list[str]], list[str]]:
    """Buildings with their doors and lifts (the site bench's layout), by building."""
    doors, lifts = [], []
    kinds = list(CredentialKind)
    for b in range(BUILDINGS):
        building = places.add_building(context, f"Building {b + 1}").id
        doors.append(
            [
                places.add_door(
                    context, f"B{b} door {d}", DoorKind.BUILDING, CredentialMode.ALL_OF, kinds,
                    building,
                ).id
                for d in range(DOORS)
            ]
        )  # fmt: skip
        lifts.append(places.add_lift(context, building, f"B{b} lift", FLOORS).id)
    return doors, lifts


def fill(url: str, residents: int, templates: int) -> None:
    """A fresh site at ``url`` (SQLite) with ``residents`` people and their rules."""
    store, context, site_id, key = fresh_site(url)
    engine, sealer = store.engine, AesGcmSealer(key)
    doors, _ = _layout(context)
    _fill(store, sealer, site_id, residents, templates)
    window = TimeWindow(frozenset(range(7)), datetime.min.time(), datetime.max.time())
    schedule = WeeklySchedule("UTC", (window,))
    with Session(engine) as session:
        ids = list(session.scalars(select(PersonRow.id).order_by(PersonRow.name)))
    with store.unit_of_work() as uow:
        for i, pid in enumerate(ids):
            building = i % BUILDINGS
            uow.rules.add(
                AccessRule(
                    str(uuid.uuid4()), schedule, person_id=pid,
                    door_ids=frozenset(doors[building]), floors=frozenset({1 + i % 9}),
                )
            )  # fmt: skip
        uow.commit()
    caretaker = people.add_person(context, "Bench caretaker", Role.STAFF).id  # every place
    every = [d for b in doors for d in b]
    places.add_access_rule(
        context, [window], person_id=caretaker, door_ids=every, floors=list(FLOORS)
    )
    Path(url.removeprefix("sqlite:///") + ".key").write_bytes(key)
    store.close()


def _route_encoder() -> Callable[[AccessData], object]:
    """How the snapshot route encodes a snapshot's sections (shared ones kept, if it can)."""
    try:
        from facegate.api.routes.gates import SECTION_PARTS
    except ImportError:  # a checkout before the route kept them
        return Sections.of
    return lambda access: Sections.of(access, SECTION_PARTS)


def _cpu_ms(action: Callable[[], object]) -> float:
    started = time.process_time()
    action()
    return (time.process_time() - started) * 1000


def measure(url: str, repeat: int, edge_sections: int, change: str) -> dict[str, object]:
    """The per-version CPU figures of the kept site at ``url``."""
    store = SqlStore(create_db_engine(url))
    sealer = AesGcmSealer(Path(url.removeprefix("sqlite:///") + ".key").read_bytes())
    context = ServiceContext(store=store, clock=Clock(), actor="bench")
    with store.unit_of_work() as uow:
        doors = [d.id for d in uow.places.doors()]
        lifts = [lift.id for lift in uow.places.lifts()]
        caretaker = next(p.id for p in uow.people.all() if p.role is Role.STAFF)
    requests = [SnapshotRequest(t, MODEL, POLICY) for t in [*doors, *lifts]]
    cache, memo = TemplateCache(), RowMemo()
    encode = _route_encoder()
    build_snapshots(context, sealer, requests, cache=cache, memo=memo)  # warm: cold build
    figures: dict[str, list[float]] = {"rows_cpu_ms": [], "assemble_cpu_ms": [], "edge_cpu_ms": []}
    for r in range(repeat):
        if change == "card":
            credentials.add_card(context, caretaker, f"BENCH-{uuid.uuid4().hex[:8]}-{r}")
        else:  # a rule naming five doors, as an enrolment's (an erasure deletes one)
            places.add_access_rule(context, [ALWAYS], person_id=caretaker, door_ids=doors[:5])

        def rows() -> None:  # as build_snapshots reads them: the collector paused
            with collector_paused(), store.unit_of_work() as uow:
                memo.rows(store, uow, uow.reads.data_version(), context.clock.now())

        def assemble() -> None:
            build_snapshots(context, sealer, requests, cache=cache, memo=memo)

        def edge() -> None:
            for door in doors:
                for _ in range(edge_sections):
                    built = build_snapshot(
                        context, sealer, door, MODEL, POLICY, gate_id="g", cache=cache, memo=memo
                    )
                    encode(built.access)

        figures["rows_cpu_ms"].append(_cpu_ms(rows))
        figures["assemble_cpu_ms"].append(_cpu_ms(assemble))
        figures["edge_cpu_ms"].append(_cpu_ms(edge))
    store.close()
    result: dict[str, object] = {
        "checkout": str(Path(facegate.__file__).parents[1]),
        "targets": len(requests),
        "edge_doors": len(doors),
        "edge_sections": edge_sections,
        "repeat": repeat,
        "change": change,
    }
    for name, values in figures.items():
        result[name] = round(statistics.median(values), 1)
        result[name.replace("_ms", "_max_ms")] = round(max(values), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/version_cpu{people}.db")
    parser.add_argument("--people", type=int, default=25000)
    parser.add_argument("--templates", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--edge-sections", type=int, default=1, help="route asks per door")
    parser.add_argument("--refill", action="store_true", help="fill the site again")
    parser.add_argument(
        "--change", choices=["card", "rule"], default="card", help="what each version changes"
    )
    args = parser.parse_args()
    url = args.url.format(people=args.people)
    if args.refill or not Path(url.removeprefix("sqlite:///")).exists():
        started = time.perf_counter()
        fill(url, args.people, args.templates)
        print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    load_before = os.getloadavg()[0]
    result = measure(url, args.repeat, args.edge_sections, args.change)
    result["people"] = args.people
    result["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
