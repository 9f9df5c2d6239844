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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


class StuckStore(FlakyStore):
    """A write that never returns (a call waiting on a server that is gone)."""

    def __init__(self, keys: dict[str, SiteKey]) -> None:
        super().__init__(keys)
        self.release = threading.Event()

    def store_events(self, batch: Sequence[tuple[str, WireEvent]], _now: datetime) -> int:
        self.release.wait(30)
        return len(batch)


def _watched(store: FlakyStore, stall_s: float) -> tuple[IngestWorker, threading.Event]:
    stalled = threading.Event()
    worker = IngestWorker(store, "127.0.0.1", 1, "t", lambda: datetime.now(UTC),  # type: ignore[arg-type]
                          new_private_key(), stall_s=stall_s, on_stall=stalled.set)  # fmt: skip
    worker._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    worker._client.ack = lambda mid, qos: None  # type: ignore[assignment,method-assign]
    return worker, stalled


def _events_message(key: Ed25519PrivateKey, site: str) -> mqtt.MQTTMessage:
    now = datetime.now(UTC)
    events = [WireEvent(key="k1", seq=1, door_id="d", occurred_at=now, granted=True,
                        reason=Reason.GRANTED)]  # fmt: skip
    message = mqtt.MQTTMessage(mid=1, topic=topic(site, "events").encode())
    message.payload = seal(EventBatch(site_id=site, sent_at=now, events=events), key)
    message.qos = 1
    return message


def test_a_writer_stuck_in_a_call_is_reported_stalled_and_ends_the_worker() -> None:
    key = new_private_key()
    store = StuckStore({"s1": SiteKey("s1", public_text(key), revoked=False)})
    worker, stalled = _watched(store, stall_s=0.3)
    worker.start_threads()
    try:
        worker._inbox.put(_events_message(key, "s1"))
        assert stalled.wait(5), "a writer stuck in a database call went unnoticed"
    finally:
        worker._stop.set()
        store.release.set()


def test_an_idle_writer_is_not_stalled() -> None:
    worker, stalled = _watched(FlakyStore({}), stall_s=0.3)
    worker.start_threads()
    try:
        assert not stalled.wait(1.5)  # five times stall_s with nothing to write
        assert not worker.stalled()
    finally:
        worker._stop.set()


def test_a_writer_thread_that_ended_is_stalled() -> None:
    worker, stalled = _watched(FlakyStore({}), stall_s=0.3)
    worker._run = lambda: None  # type: ignore[method-assign]  # a thread that ends at once
    worker.start_threads()
    try:
        assert stalled.wait(5)
    finally:
        worker._stop.set()
