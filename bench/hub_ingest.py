"""Time one hub ingest worker's work without the broker: verify + parse, then store.

Makes a scratch database on the given PostgreSQL server, seals MESSAGES event batches of
EVENTS each (as sites do), then times, on the same batches:

- ``verify_parse``: :func:`facegate.city.wire.unseal` of every message (Ed25519 + JSON
  + pydantic), what a worker does before writing;
- ``copy``: :meth:`facegate.hub.store.HubStore.store_events` (COPY into a staging table,
  then INSERT ... SELECT ... ON CONFLICT DO NOTHING), in chunks of CHUNK messages;
- ``copy_redelivered``: the same again, every row a duplicate;
- ``multirow_insert``: the former way, one SQLAlchemy multi-row INSERT ... ON CONFLICT DO
  NOTHING per chunk, into an emptied table.

Prints JSON (events/s of each); the scratch database is dropped on
the way out (:func:`facegate.sitebench.processes.scratch_postgres`).

    python bench/hub_ingest.py [--messages 200] [--events 500] [--chunk 10]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from facegate.city.keys import new_private_key, public_text
from facegate.city.wire import EventBatch, WireEvent, seal, unseal
from facegate.domain.reasons import Reason
from facegate.hub import schema
from facegate.hub.store import HubStore, _event_row
from facegate.sitebench.processes import scratch_postgres
from facegate.store.database import create_db_engine

Rows = list[tuple[str, WireEvent]]


def multirow(store: HubStore, rows: Sequence[tuple[str, WireEvent]], now: datetime) -> int:
    """The former :meth:`HubStore.store_events`: one multi-row INSERT built by SQLAlchemy."""
    values = [dict(zip(schema.EVENT_COLUMNS, _event_row(s, e, now), strict=True)) for s, e in rows]
    with store.engine.begin() as connection:
        statement = pg_insert(schema.events).values(values).on_conflict_do_nothing()
        connection.execute(statement)
    return len(values)  # (its rowcount is -1 here; the table is counted after)


def timed(chunks: list[Rows], write: Callable[[Rows, datetime], int]) -> tuple[float, int]:
    started, stored = time.perf_counter(), 0
    for chunk in chunks:
        stored += write(chunk, datetime.now(UTC))
    return time.perf_counter() - started, stored


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=10, help="messages per transaction")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with scratch_postgres(args.server) as url:
        store = HubStore(create_db_engine(url))
        store.migrate()
        now = datetime.now(UTC)
        sealed = []
        for index in range(args.messages):
            key, site = new_private_key(), f"s{index}"
            events = [WireEvent(key=str(uuid.uuid4()), seq=n + 1, door_id="door-1",
                                occurred_at=now, granted=n % 5 != 0,
                                reason=Reason.GRANTED if n % 5 else Reason.UNKNOWN_FACE)
                      for n in range(args.events)]  # fmt: skip
            batch = EventBatch(site_id=site, sent_at=now, events=events)
            sealed.append((site, key.public_key(), seal(batch, key), public_text(key)))
        started = time.perf_counter()
        batches = [(site, unseal(raw, public, EventBatch)) for site, public, raw, _ in sealed]
        verify_s = time.perf_counter() - started
        rows: Rows = [(site, event) for site, batch in batches for event in batch.events]
        per = args.events * args.chunk
        chunks = [rows[i : i + per] for i in range(0, len(rows), per)]
        total = len(rows)
        copy_s, copied = timed(chunks, store.store_events)
        again_s, again = timed(chunks, store.store_events)
        with store.engine.begin() as connection:
            connection.execute(text("TRUNCATE facegate_hub.events"))
        multi_s, _ = timed(chunks, lambda chunk, at: multirow(store, chunk, at))
        inserted = store.event_count()
        if (copied, again, inserted) != (total, 0, total):
            raise SystemExit(f"stored {copied}, {again}, {inserted} of {total}: wrong")
        print(json.dumps({
            "events": total, "events_per_transaction": per,
            "verify_parse_events_per_s": round(total / verify_s),
            "copy_events_per_s": round(total / copy_s),
            "copy_redelivered_events_per_s": round(total / again_s),
            "multirow_insert_events_per_s": round(total / multi_s),
        }, indent=2))  # fmt: skip
        store.engine.dispose()


if __name__ == "__main__":
    main()
