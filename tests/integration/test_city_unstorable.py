"""A hostile complex signs events the hub cannot store: each is refused, the rest written.

Before, the wire took any ``seq``, any text and any date, and the hub's PostgreSQL did
not: a ``seq`` past ``bigint``, a NUL in an id, a moment whose month has no partition
bounds (year 9999 December; 0001-01-01 at +01:00, before the calendar in UTC). The
worker retried such a chunk forever (a database refusal reads as an outage), every other
site's events in it waiting, and the broker gave the same message to the restarted
worker again.

Then the wire refused them, but a batch refused whole got no ``Ack``: its site resent it
every 30 s forever and sent nothing after it. Now the batch is read event by event, and
the database's own refusals of data (SQLSTATE classes 22 and 23: a constraint or a
column narrower than the wire) refuse only their events: the rest is stored, the site
alarmed once, and the ``Ack`` covers the whole batch."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select, text

from facegate.city.keys import new_private_key, public_text, sign
from facegate.city.wire import Ack, WireEvent, topic, unseal
from facegate.domain.errors import DatabaseUnavailableError
from facegate.hub import schema
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import HubStore, UnstorableError
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


def _signed(mid: int, site: str, key: object, *events: dict[str, object]) -> mqtt.MQTTMessage:
    body = json.dumps({"site_id": site, "sent_at": NOW.isoformat(), "events": events})
    payload = json.dumps({"body": body, "sig": sign(key, body.encode())})  # type: ignore[arg-type]
    message = mqtt.MQTTMessage(mid=mid, topic=topic(site, "events").encode())
    message.payload, message.qos = payload.encode(), 1
    return message


class Worker:
    """An ingest worker on a real hub database, its broker calls recorded."""

    def __init__(self, postgres_url: str) -> None:
        self.hub = HubStore(create_db_engine(postgres_url))
        self.hub.migrate()
        self.ingest = IngestWorker(self.hub, "127.0.0.1", 1, "t", lambda: NOW, new_private_key())
        self.acked: list[int] = []
        self.hub_acks: list[tuple[str, int, int]] = []
        client = self.ingest._client
        client.publish = self._publish  # type: ignore[assignment,method-assign]
        client.ack = lambda mid, qos: self.acked.append(mid)  # type: ignore[assignment,method-assign]

    def site(self) -> tuple[str, object]:
        key = new_private_key()
        site, token = self.hub.add_site({"name": "hostile", "district": "d"}, NOW)
        self.hub.join(token, public_text(key), NOW)
        return site, key

    def _publish(self, where: str, payload: bytes, **_: object) -> None:
        ack = unseal(payload, self.ingest.key.public_key(), Ack)
        self.hub_acks.append((ack.site_id, ack.first_seq, ack.last_seq))

    def handle(self, *messages: mqtt.MQTTMessage) -> None:
        stop = threading.Timer(5.0, self.ingest._stop.set)  # before: ends the endless retry
        stop.start()
        try:
            self.ingest._handle(list(messages))
        finally:
            stop.cancel()

    def stored_keys(self) -> list[str]:
        with self.hub.engine.connect() as connection:
            return sorted(connection.execute(select(schema.events.c.event_key)).scalars())

    def alarms(self) -> list[tuple[str, str, int]]:
        columns = (schema.alarms.c.site_id, schema.alarms.c.kind, schema.alarms.c.count)
        with self.hub.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(select(*columns))]  # type: ignore[misc]


@pytest.mark.parametrize("case", sorted(UNSTORABLE))
def test_a_signed_event_the_hub_cannot_store_is_refused(postgres_url: str, case: str) -> None:
    worker = Worker(postgres_url)
    site, key = worker.site()
    bad = {**GOOD, "key": "k-bad", "seq": 2, **UNSTORABLE[case]}
    try:
        worker.handle(_signed(1, site, key, GOOD, bad))
        assert worker.stored_keys() == ["k-good"]
        assert worker.alarms() == [(site, "refused_events", 1)]
    finally:
        worker.hub.engine.dispose()
    assert worker.ingest.counters.events_refused == 1
    assert worker.acked == [1]
    last = 1 if case == "seq_past_bigint" else 2  # a seq no event can have is not acked
    assert worker.hub_acks == [(site, 1, last)]  # before: none, the batch sent forever


REFUSALS = {
    "check_violation_23514": "ADD CONSTRAINT no_door_refused CHECK (door_id <> 'refused')",
    "string_too_long_22001": "ALTER COLUMN door_id TYPE varchar(4)",
}
"""A constraint or a column narrower than the wire (another release, a DBA's change)."""


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_an_event_the_database_refuses_is_refused_and_its_batch_acknowledged(
    postgres_url: str, case: str
) -> None:
    worker = Worker(postgres_url)
    (one, one_key), (two, two_key) = worker.site(), worker.site()
    with worker.hub.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {schema.SCHEMA}.events {REFUSALS[case]}"))
    events = [{**GOOD, "key": f"k{n}", "seq": n} for n in (1, 2, 3)]
    events[1]["door_id"] = "refused"
    try:
        worker.handle(_signed(1, one, one_key, *events),
                      _signed(2, two, two_key, {**GOOD, "key": "k4", "seq": 4}))  # fmt: skip
        assert worker.stored_keys() == ["k1", "k3", "k4"]
        assert worker.alarms() == [(one, "refused_events", 1)]
    finally:
        worker.hub.engine.dispose()
    counters = worker.ingest.counters
    assert (counters.events_refused, counters.events_inserted, counters.db_retries) == (1, 3, 0)
    assert sorted(worker.acked) == [1, 2]
    assert sorted(worker.hub_acks) == sorted([(one, 1, 3), (two, 4, 4)])


def test_a_database_out_of_reach_is_still_an_outage() -> None:
    """Only a refusal of the data is bad input: a lost connection is waited out."""
    hub = HubStore(create_db_engine("postgresql+psycopg://hub@127.0.0.1:1/hub"))
    event = WireEvent.model_validate({**GOOD})
    with pytest.raises(DatabaseUnavailableError) as raised:
        hub.store_events([("s1", event)], NOW)
    assert not isinstance(raised.value, UnstorableError)
    hub.engine.dispose()


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
