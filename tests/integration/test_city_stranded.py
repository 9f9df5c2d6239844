"""A hub session stranded inside a transaction no longer blocks the retries for good.

The bench run whose 2 s database cut never drained: a cut between a worker's ``INSERT``
and its ``COMMIT`` left that session open on the server, idle in transaction, holding
the unique-index entries of its batch; the worker's retry of the same events waited on
it (``ON CONFLICT`` must know whether the other insert commits) until its statement
timeout, again and again. Now PostgreSQL ends a hub session idle in a transaction."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime

import pytest

from facegate.city.wire import WireEvent
from facegate.domain.reasons import Reason
from facegate.hub import schema, store
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine

RETRY_WAIT_S = 8.0
"""How long the retry may take (the stranded session lives 1 s; before, 30 s then fail)."""


def test_a_retry_is_not_blocked_by_a_stranded_session(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "IDLE_IN_TRANSACTION_MS", 1000)
    now = datetime.now(UTC)
    events = [
        WireEvent(key=f"k{n}", seq=n, door_id="d", occurred_at=now, granted=True,
                  reason=Reason.GRANTED) for n in (1, 2, 3)
    ]  # fmt: skip
    rows = [("s1", event) for event in events]
    hub = HubStore(create_db_engine(postgres_url))
    hub.migrate()
    stranded = hub.engine.connect()
    try:
        stranded.begin()  # the worker cut after its INSERT, before its COMMIT
        schema.ensure_month(stranded, schema.month_start(now))
        stranded.commit()
        stranded.begin()
        table_rows = [store._event_row(site, event, now) for site, event in rows]
        assert schema.copy_events(stranded, table_rows) == 3
        done: list[int] = []
        retry = threading.Thread(target=lambda: done.append(hub.store_events(rows, now)))
        retry.start()
        retry.join(RETRY_WAIT_S)
        assert done == [3], "the retry still waits on the stranded session's insert"
    finally:
        with contextlib.suppress(Exception):
            stranded.close()
        hub.engine.dispose()
