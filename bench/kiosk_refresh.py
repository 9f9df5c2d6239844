"""One refresh round of the server's kiosk doors after a change: batched or door by door.

Fills a SQLite site (``--people`` residents, 3 synthetic templates each, ``--doors``
doors; kept at ``--url`` with its key beside it, reused by later runs), then ``--rounds``
times: one enrolment (a change), then every door's snapshot brought current as the
server's ``SnapshotRefresher`` does it, either ``batched`` (``StoreUpstream.prepare``:
every door in one transaction, then each door's poll) or ``one-by-one`` (each door's
poll rebuilds and commits on its own, as before 2026-11-28; the gallery is shared in
both). Prints wall and CPU seconds per round, as JSON lines.

    PYTHONPATH=src .venv/bin/python bench/kiosk_refresh.py --people 2000 --doors 24
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import snapshot_scale as scale
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import places, site_admin
from facegate.services.context import ServiceContext
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore


def _site(url: str, people: int, doors: int) -> tuple[SqlStore, AesGcmSealer]:
    kept = Path(url.removeprefix("sqlite:///") + ".key")
    if not kept.exists():
        scale._fresh(url)
        engine = create_db_engine(url)
        upgrade(engine)
        store = SqlStore(engine)
        context = ServiceContext(store=store, clock=scale.Clock(), actor="bench")
        site, _ = site_admin.init_site(context, "Bench", "UTC")
        key = generate_key()
        kinds = list(CredentialKind)
        for n in range(doors):
            places.add_door(context, f"D{n}", DoorKind.ENTRANCE, CredentialMode.ALL_OF, kinds)
        scale._fill(store, AesGcmSealer(key), site.id, people, 3)
        kept.write_bytes(key)
        store.close()
    engine = create_db_engine(url)
    upgrade(engine)  # a site kept by an older checkout
    return SqlStore(engine), AesGcmSealer(kept.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/kiosk_refresh.db")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--doors", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store, sealer = _site(args.url, args.people, args.doors)
    with store.unit_of_work() as uow:
        site = uow.site.get()
        doors = [d.id for d in uow.places.doors()]
    assert site is not None
    upstream = StoreUpstream(lambda: store, sealer, scale.Clock(), scale.MODEL, scale.POLICY)
    held = {d: upstream.fetch_snapshot("server", d).version for d in doors}
    for mode in ("one-by-one", "batched"):
        for n in range(args.rounds):
            scale._enrol_one(store, sealer, site.id)
            cpu, wall = time.process_time(), time.perf_counter()
            if mode == "batched":
                upstream.prepare("server", doors)
            for door in doors:
                fresh = upstream.poll_snapshot("server", door, held[door])
                assert fresh is not None
                held[door] = fresh.version
            figures = {
                "mode": mode,
                "round": n,
                "doors": len(doors),
                "wall_s": round(time.perf_counter() - wall, 3),
                "cpu_s": round(time.process_time() - cpu, 3),
            }
            print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
