"""What events the database refuses cost an ingest worker: a chunk of 5,000 events (5
signed batches of 1,000) of which a share breaks a ``CHECK`` constraint (SQLSTATE
23514), so the chunk is refused and stored again one event at a time.

Makes a scratch database, adds the constraint (``door_id <> 'bad'``), and times one
worker's handling of the chunk (verification, parsing, the refused chunk, the second
pass, the alarm), without the broker, for each share asked.

    python bench/hub_refused.py [--shares 0 0.001 0.01 1]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from sqlalchemy import text

from facegate.city.keys import new_private_key, public_text, sign
from facegate.city.wire import topic
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import HubStore
from facegate.sitebench.processes import POSTGRES_ADMIN_URL, scratch_postgres
from facegate.store.database import create_db_engine

MESSAGES, EVENTS = 5, 1000
"""Batches in the chunk, events per batch."""


def _messages(site: str, key: object, now: datetime, share: float) -> list[mqtt.MQTTMessage]:
    every = round(1 / share) if share else 0
    messages = []
    for m in range(MESSAGES):
        events = [{"key": f"k{m}-{n}", "seq": m * EVENTS + n + 1, "occurred_at": now.isoformat(),
                   "door_id": "bad" if every and n % every == 0 else "d", "granted": True,
                   "reason": "granted"} for n in range(EVENTS)]  # fmt: skip
        body = json.dumps({"site_id": site, "sent_at": now.isoformat(), "events": events})
        message = mqtt.MQTTMessage(mid=m + 1, topic=topic(site, "events").encode())
        envelope = {"body": body, "sig": sign(key, body.encode())}  # type: ignore[arg-type]
        message.payload, message.qos = json.dumps(envelope).encode(), 1
        messages.append(message)
    return messages


def _run(url: str, share: float) -> dict[str, object]:
    now = datetime.now(UTC)
    hub = HubStore(create_db_engine(url))
    hub.migrate()
    key = new_private_key()
    site, token = hub.add_site({"name": "bench", "district": "d"}, now)
    hub.join(token, public_text(key), now)
    with hub.engine.begin() as connection:
        connection.execute(
            text(
                "ALTER TABLE facegate_hub.events "
                "ADD CONSTRAINT bench_refuse CHECK (door_id <> 'bad')"
            )
        )
    worker = IngestWorker(hub, "127.0.0.1", 1, "bench", lambda: now, new_private_key())
    worker._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    worker._client.ack = lambda mid, qos: None  # type: ignore[assignment,method-assign]
    messages = _messages(site, key, now, share)
    started = time.perf_counter()
    worker._handle(messages)
    took = time.perf_counter() - started
    hub.engine.dispose()
    counters = worker.counters
    return {"share": share, "refused": counters.events_refused,
            "stored": counters.events_inserted, "chunk_s": round(took, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shares", type=float, nargs="+", default=[0, 0.001, 0.01, 1])
    parser.add_argument("--server", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    runs = []
    for share in args.shares:
        with scratch_postgres(args.server) as url:
            runs.append(_run(url, share))
    print(json.dumps({"events": MESSAGES * EVENTS, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
