"""An ingest worker's writer survives an unforeseen error: the chunk is tried again.

Before, such an error ended the writer thread while the process and its MQTT session
lived on: that worker's messages were never written nor acknowledged (one bench run's
DB-outage fault never drained)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest

from facegate.city.keys import new_private_key, public_text
from facegate.city.wire import EventBatch, WireEvent, seal, topic
from facegate.domain.reasons import Reason
from facegate.hub import ingest
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import SiteKey


class FlakyStore:
    """Site keys from memory; the first write fails with an error no one foresaw."""

    def __init__(self, keys: dict[str, SiteKey]) -> None:
        self.keys, self.rows, self.failures = keys, [], 1

    def site_keys(self, names: Iterable[str]) -> dict[str, SiteKey]:
        return {n: self.keys[n] for n in names if n in self.keys}

    def store_events(self, batch: Sequence[tuple[str, WireEvent]], _now: datetime) -> int:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("something unforeseen")
        self.rows.extend(batch)
        return len(batch)


def test_the_writer_retries_a_chunk_after_an_unforeseen_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest, "RETRY_S", 0.01)
    key, now = new_private_key(), datetime.now(UTC)
    store = FlakyStore({"s1": SiteKey("s1", public_text(key), revoked=False)})
    worker = IngestWorker(store, "127.0.0.1", 1, "t", lambda: now, new_private_key())  # type: ignore[arg-type]
    acked: list[int] = []
    monkeypatch.setattr(worker._client, "publish", lambda *a, **k: None)
    monkeypatch.setattr(worker._client, "ack", lambda mid, qos: acked.append(mid))
    events = [WireEvent(key=f"k{n}", seq=n, door_id="d", occurred_at=now, granted=True,
                        reason=Reason.GRANTED) for n in (1, 2, 3)]  # fmt: skip
    message = mqtt.MQTTMessage(mid=7, topic=topic("s1", "events").encode())
    message.payload = seal(EventBatch(site_id="s1", sent_at=now, events=events), key)
    message.qos = 1
    worker._inbox.put(message)
    writer = threading.Thread(target=worker._run, daemon=True)
    writer.start()
    deadline = time.monotonic() + 5
    while not acked and time.monotonic() < deadline:
        time.sleep(0.01)
    worker._stop.set()
    writer.join(5)
    assert [e.key for _, e in store.rows] == ["k1", "k2", "k3"]
    assert acked == [7]  # acknowledged once written, not before
