"""What event partitions cost the hub's city-wide search: the attack of a site whose
events name thousands of months (before the ingest worker kept only dated ones).

Makes a scratch database, stores one event now, times the city-wide search (newest
first, no filter, as the console's first page), then stores batches of 1,000 events,
each in a month of its own (``HubStore.store_events`` makes a partition per month, as the
ingest worker used to for any date), timing each batch, and times the search again
after each. A search that fails prints its error (PostgreSQL's lock table: each
partition and its indexes take a lock, ``max_locks_per_transaction`` x
``max_connections`` slots in all).

    python bench/hub_partitions.py [--batches 4]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from facegate.city.wire import WireEvent
from facegate.domain.reasons import Reason
from facegate.hub import queries
from facegate.hub.access import HubAccount, HubRole
from facegate.hub.store import HubStore
from facegate.sitebench.processes import POSTGRES_ADMIN_URL, scratch_postgres
from facegate.store.database import create_db_engine

BATCH = 1000
"""Events (and months) per batch."""


def _event(seq: int, when: datetime) -> WireEvent:
    return WireEvent(key=f"k{seq}", seq=seq, door_id="d", occurred_at=when, granted=True,
                     reason=Reason.GRANTED)  # fmt: skip


def _search(store: HubStore, now: datetime) -> float | str:
    """Seconds of the best of three city-wide searches, or the error's first line."""
    account = HubAccount("bench", HubRole.AUDITOR, ())
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        try:
            queries.search_events(store, account, queries.EventFilter(), now)
        except SQLAlchemyError as err:
            return str(err.orig).splitlines()[0] if err.orig else str(err)
        best = min(best, time.perf_counter() - started)
    return round(best, 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--server", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    now = datetime.now(UTC)
    steps: list[dict[str, object]] = []
    with scratch_postgres(args.server) as url:
        store = HubStore(create_db_engine(url))
        store.migrate()
        store.store_events([("honest", _event(1, now))], now)
        steps.append({"partitions": 1, "search_s": _search(store, now)})
        for batch in range(args.batches):
            first = 2100 + batch * BATCH // 12  # months far from any real event
            months = [datetime(first + m // 12, m % 12 + 1, 15, tzinfo=UTC) for m in range(BATCH)]
            started = time.perf_counter()
            store.store_events([("hostile", _event(batch * BATCH + i + 1, when))
                                for i, when in enumerate(months)], now)  # fmt: skip
            stored_s = round(time.perf_counter() - started, 2)
            partitions = 1 + (batch + 1) * BATCH
            steps.append({"partitions": partitions, "batch_stored_s": stored_s,
                          "search_s": _search(store, now)})  # fmt: skip
        store.engine.dispose()
    print(json.dumps({"batch_events": BATCH, "steps": steps}, indent=1))


if __name__ == "__main__":
    main()
