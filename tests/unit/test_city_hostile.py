"""Hostile input on the city's wire: whatever anyone publishes on a city topic is refused
as a message, never an error that stops the receiver (an ingest worker, a site's notices).

Before, an unsigned envelope nested 100,000 deep (``RecursionError``) or with a lone
surrogate in its body (``UnicodeEncodeError``) escaped ``open_envelope``: an ingest
worker retried its chunk forever (every other site's events in it unwritten, until the
watchdog restarted the worker and the broker handed it the same message again), and a
site's notice callback raised inside the MQTT client's network loop."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from facegate.city.keys import new_private_key, public_text
from facegate.city.wire import EventBatch, Notice, WireEvent, open_envelope, seal, topic
from facegate.domain.errors import BadInputError
from facegate.domain.reasons import Reason
from facegate.hub.ingest import IngestWorker
from facegate.hub.store import SiteKey
from facegate.uplink.notices import NoticeReceiver
from facegate.uplink.state import UplinkFiles

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

POISON = {
    "nested": b"[" * 100_000 + b"]" * 100_000,
    "surrogate": b'{"body": "\\ud800", "sig": "AAAA"}',
    "not_utf8": b'{"body": "\xff\xfe", "sig": "AAAA"}',
}
"""Unsigned payloads anyone allowed to publish on a topic can send."""


class MemoryStore:
    """Site keys and events in memory (the parts of ``HubStore`` ingest calls)."""

    def __init__(self, keys: dict[str, SiteKey]) -> None:
        self.keys, self.rows = keys, list[tuple[str, WireEvent]]()

    def site_keys(self, names: Iterable[str]) -> dict[str, SiteKey]:
        return {n: self.keys[n] for n in names if n in self.keys}

    def store_events(self, batch: Sequence[tuple[str, WireEvent]], _now: datetime) -> int:
        self.rows.extend(batch)
        return len(batch)


def _message(mid: int, site: str, payload: bytes) -> mqtt.MQTTMessage:
    message = mqtt.MQTTMessage(mid=mid, topic=topic(site, "events").encode())
    message.payload, message.qos = payload, 1
    return message


@pytest.mark.parametrize("case", sorted(POISON))
def test_a_poison_envelope_is_bad_input(case: str) -> None:
    with pytest.raises(BadInputError):
        open_envelope(POISON[case])


@pytest.mark.parametrize("case", sorted(POISON))
def test_a_poison_message_is_refused_and_the_rest_of_its_chunk_is_written(case: str) -> None:
    key = new_private_key()
    store = MemoryStore({"s1": SiteKey("s1", public_text(key), revoked=False)})
    worker = IngestWorker(store, "127.0.0.1", 1, "t", lambda: NOW, new_private_key())  # type: ignore[arg-type]
    acked: list[int] = []
    worker._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    worker._client.ack = lambda mid, qos: acked.append(mid)  # type: ignore[assignment,method-assign]
    event = WireEvent(key="k1", seq=1, door_id="d", occurred_at=NOW, granted=True,
                      reason=Reason.GRANTED)  # fmt: skip
    good = seal(EventBatch(site_id="s1", sent_at=NOW, events=[event]), key)
    worker._handle([_message(1, "s1", POISON[case]), _message(2, "s1", good)])
    assert [e.key for _, e in store.rows] == ["k1"]
    assert sorted(acked) == [1, 2]
    assert worker.counters.refused == {"malformed": 1}


@pytest.mark.parametrize("case", sorted(POISON))
def test_a_poison_notice_is_refused_and_audited(tmp_path: Path, case: str) -> None:
    audited: list[tuple[str, dict[str, object]]] = []
    hub = new_private_key()
    receiver = NoticeReceiver(UplinkFiles(tmp_path), "s1", hub.public_key(), None,  # type: ignore[arg-type]
                              lambda a, d: audited.append((a, d)), lambda: NOW)  # fmt: skip
    assert receiver.receive(POISON[case]) is None
    assert [(a, d["why"]) for a, d in audited] == [("city_notice.refuse", "malformed")]
    notice = Notice(seq=1, site_id="s1", kind="announcement", issued_at=NOW,
                    ends_at=NOW + timedelta(hours=1))  # fmt: skip
    assert receiver.check(seal(notice, hub)) == notice  # the receiver still works
