"""The server's kiosk snapshot rounds at a site the site bench left (``--work-dir``).

On the site folder ``facegate bench site --work-dir DIR`` kept (``DIR/site``), as the
server keeps its 24 kiosk doors current: ``--rounds`` rounds where nothing changed and
``--rounds`` rounds after a new card of the bench's caretaker (``StoreUpstream.prepare``
then each door's poll), with the milliseconds and SQL statements of each; then, with the
server's own pipeline and its refresher thread running, ``--cards`` new cards, each
timed from its commit until every door's station holds it (seconds). JSON lines.
Writes cards and audit records into that site.

    FACEGATE_SERVER__ENVIRONMENT=development PYTHONPATH=src .venv/bin/python \\
        bench/kiosk_round.py --site /tmp/run/site --rounds 3 --cards 8
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sqlalchemy import event

from facegate.bootstrap import SystemClock, build_sealer, build_store
from facegate.bootstrap_server import build_server
from facegate.config import Settings
from facegate.gate.runner import SnapshotHolder
from facegate.gate.server_side import SERVER_GATE_ID, PipelineDecider
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import credentials
from facegate.services.context import ServiceContext
from facegate.store.unit_of_work import SqlStore
from facegate.vision.models import DESCRIPTOR_MODEL_ID

CARETAKER = "Bench caretaker"
"""The site bench's member of staff (allowed at every door: a new card changes them all)."""


def _targets(store: SqlStore) -> tuple[list[str], str]:
    with store.unit_of_work() as uow:
        targets = [d.id for d in uow.places.doors()] + [x.id for x in uow.places.lifts()]
        staff = next(p.id for p in uow.people.all() if p.name == CARETAKER)
    return targets, staff


def rounds(settings: Settings, count: int) -> None:
    """Rounds with and without a change: milliseconds and statements each."""
    store = build_store(settings)
    assert isinstance(store, SqlStore)
    targets, staff = _targets(store)
    match, _ = settings.match_policy(DESCRIPTOR_MODEL_ID)
    clock = SystemClock()
    upstream = StoreUpstream(
        lambda: store, build_sealer(settings), clock, DESCRIPTOR_MODEL_ID, match
    )
    holders = [SnapshotHolder(upstream, SERVER_GATE_ID, t) for t in targets]
    statements = [0]
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda *_: statements.__setitem__(0, statements[0] + 1),
    )
    context = ServiceContext(store, clock, "bench:kiosk-round")
    upstream.prepare(SERVER_GATE_ID, targets)  # the cold build, not timed
    for holder in holders:
        holder.refresh()
    for changed in [False] * count + [True] * count:
        if changed:
            credentials.add_card(context, staff, f"ROUND-{time.time_ns()}")
        statements[0] = 0
        began = time.perf_counter()
        upstream.prepare(SERVER_GATE_ID, targets)
        for holder in holders:
            holder.refresh()
        took = (time.perf_counter() - began) * 1000.0
        figures = {"changed": changed, "doors": len(targets), "ms": round(took, 1)}
        print(json.dumps({**figures, "statements": statements[0]}), flush=True)
    store.close()


def reach(settings: Settings, cards: int) -> None:
    """Seconds from each new card's commit until every door's station holds it."""
    deps = build_server(settings)
    decider = deps.decider
    assert isinstance(decider, PipelineDecider)
    assert isinstance(deps.store, SqlStore)
    targets, staff = _targets(deps.store)
    for target in targets:
        decider.station(target)
    context = ServiceContext(deps.store, SystemClock(), "bench:kiosk-round")
    time.sleep(1.0)  # the refresher's first rounds
    for _ in range(cards):
        card = f"REACH-{time.time_ns()}"
        credentials.add_card(context, staff, card)
        began = time.perf_counter()
        stations = decider.stations()
        while not all(card in s.holder().access.cards for s in stations):
            time.sleep(0.005)
        took = time.perf_counter() - began
        print(json.dumps({"card_at_every_station_s": round(took, 3)}), flush=True)
        time.sleep(0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, required=True, help="the bench's DIR/site")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cards", type=int, default=8)
    args = parser.parse_args()
    settings = Settings(data_dir=args.site)
    rounds(settings, args.rounds)
    if args.cards:
        reach(settings, args.cards)


if __name__ == "__main__":
    main()
