"""A hostile complex signs events the hub cannot store: each is refused, the rest written.

Before, the wire took any ``seq``, any text and any date, and the hub's PostgreSQL did
not: a ``seq`` past ``bigint``, a NUL in an id, a moment whose month has no partition
bounds (year 9999 December; 0001-01-01 at +01:00, before the calendar in UTC). The
worker retried such a chunk forever (a database refusal reads as an outage), every other
site's events in it waiting, and the broker gave the same message to the restarted
worker again."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest

from facegate.city.keys import new_private_key, public_text, sign
from facegate.city.wire import topic
from facegate.hub import schema
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine

NOW = datetime.now(UTC)
GOOD = {"key": "k-good", "seq": 1, "door_id": "d", "occurred_at": NOW.isoformat(),
        "granted": True, "reason": "granted"}  # fmt: skip
UNSTORABLE = {
    "seq_past_bigint": {"seq": 1 << 63},
    "nul_in_key": {"key": "k\x00"},
    "nul_in_door": {"door_id": "d\x00"},
    "last_month_of_9999": {"occurred_at": "9999-12-31T23:30:00+00:00"},
    "after_9999_in_utc": {"occurred_at": "9999-12-31T23:30:00-01:00"},
    "before_year_1_in_utc": {"occurred_at": "0001-01-01T00:30:00+01:00"},
}


def _signed(mid: int, site: str, key: object, event: dict[str, object]) -> mqtt.MQTTMessage:
    body = json.dumps({"site_id": site, "sent_at": NOW.isoformat(), "events": [event]})
    payload = json.dumps({"body": body, "sig": sign(key, body.encode())})  # type: ignore[arg-type]
    message = mqtt.MQTTMessage(mid=mid, topic=topic(site, "events").encode())
    message.payload, message.qos = payload.encode(), 1
    return message


@pytest.mark.parametrize("case", sorted(UNSTORABLE))
def test_a_signed_event_the_hub_cannot_store_is_refused(postgres_url: str, case: str) -> None:
    hub = HubStore(create_db_engine(postgres_url))
    hub.migrate()
    key = new_private_key()
    site, token = hub.add_site({"name": "hostile", "district": "d"}, NOW)
    hub.join(token, public_text(key), NOW)
    worker = IngestWorker(hub, "127.0.0.1", 1, "t", lambda: NOW, new_private_key())
    acked: list[int] = []
    worker._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    worker._client.ack = lambda mid, qos: acked.append(mid)  # type: ignore[assignment,method-assign]
    bad = _signed(1, site, key, {**GOOD, "key": "k-bad", **UNSTORABLE[case]})
    stop = threading.Timer(5.0, worker._stop.set)  # before: ends the endless retry
    stop.start()
    try:
        worker._handle([bad, _signed(2, site, key, GOOD)])
    finally:
        stop.cancel()
        hub.engine.dispose()
    assert worker.counters.refused == {"malformed": 1}
    assert worker.counters.events_inserted == 1
    assert sorted(acked) == [1, 2]


def test_events_in_far_months_make_no_partitions(postgres_url: str) -> None:
    """Before, each month an event named got a partition: 40 events in 40 months of
    2030-2033 made 40 partitions (4,000 made the city-wide search fail for lack of lock
    slots). Now events more than a day ahead of the hub's clock are not stored."""
    hub = HubStore(create_db_engine(postgres_url))
    hub.migrate()
    key = new_private_key()
    site, token = hub.add_site({"name": "hostile", "district": "d"}, NOW)
    hub.join(token, public_text(key), NOW)
    worker = IngestWorker(hub, "127.0.0.1", 1, "t", lambda: NOW, new_private_key())
    worker._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    worker._client.ack = lambda mid, qos: None  # type: ignore[assignment,method-assign]
    far = [datetime(2030 + m // 12, m % 12 + 1, 15, tzinfo=UTC) for m in range(40)]
    events = [{**GOOD, "key": f"k{n}", "seq": n + 2, "occurred_at": when.isoformat()}
              for n, when in enumerate(far)]  # fmt: skip
    try:
        worker._handle([_signed(1, site, key, GOOD), *(
            _signed(n + 2, site, key, event) for n, event in enumerate(events))])  # fmt: skip
        with hub.engine.connect() as connection:
            assert [name for name, _ in schema.partitions(connection)] == [
                schema.partition_name(schema.month_start(NOW))
            ]
    finally:
        hub.engine.dispose()
    assert worker.counters.events_inserted == 1
