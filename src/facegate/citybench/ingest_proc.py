"""An ingest worker in its own process (so the bench can SIGKILL it), reporting counters."""

from __future__ import annotations

import json
import time
from pathlib import Path

from facegate.city.keys import load_private
from facegate.files import write_atomically
from facegate.hub.bootstrap import utc_now
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine

REPORT_EVERY_S = 0.5
"""How often the worker writes its counters (seconds)."""


def ingest_process(
    db_url: str,
    broker_port: int,
    client_id: str,
    report: Path,
    key_path: Path,
    credentials: tuple[str, str] | None = None,
) -> None:
    """Run one ingest worker with the fixed ``client_id`` forever (until killed)."""
    store = HubStore(create_db_engine(db_url))
    key = load_private(key_path)
    worker = IngestWorker(store, "127.0.0.1", broker_port, client_id, utc_now, key, credentials)
    worker.start()
    while True:
        time.sleep(REPORT_EVERY_S)
        counters = worker.counters
        document = {"messages": counters.messages, "events": counters.events_inserted,
                    "refused": counters.refused, "db_retries": counters.db_retries,
                    "connects": counters.connects,
                    "sessions_resumed": counters.sessions_resumed}  # fmt: skip
        write_atomically(report, json.dumps(document).encode(), mode=0o644)
