"""Hostile input on the city's wire: whatever anyone publishes on a city topic is refused
as a message, never an error that stops the receiver (an ingest worker, a site's notices).

Before, an unsigned envelope nested 100,000 deep (``RecursionError``) or with a lone
surrogate in its body (``UnicodeEncodeError``) escaped ``open_envelope``: an ingest
worker retried its chunk forever (every other site's events in it unwritten, until the
watchdog restarted the worker and the broker handed it the same message again), and a
site's notice callback raised inside the MQTT client's network loop."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from facegate.city.keys import new_private_key, public_text
from facegate.city.wire import (
    Ack,
    DailySummary,
    EventBatch,
    Health,
    Notice,
    WireEvent,
    open_envelope,
    parse,
    seal,
    topic,
    unseal,
)
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
        self.alarms: list[tuple[str, str]] = []

    def add_alarm(self, site_id: str, kind: str, _detail: str, _now: datetime) -> None:
        self.alarms.append((site_id, kind))

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


SUMMARY = {"site_id": "s1", "day": "2026-11-28", "counts": {"entries": 3}}
HOSTILE_SUMMARIES = {
    "negative_count": {"counts": {"entries": -1000}},
    "negative_denials": {"denials_by_reason": {"unknown_face": -1}},
    "negative_disclosures": {"disclosure_bases": {"court order": -1}},
    "basis_past_100_chars": {"disclosure_bases": {"x" * 101: 1}},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SUMMARIES))
def test_a_summary_that_could_hide_other_sites_or_carry_text_is_refused(case: str) -> None:
    """A district's figure sums its sites': a site's -1000 entries made it ``<5``."""
    body = json.dumps({**SUMMARY, **HOSTILE_SUMMARIES[case]}).encode()
    assert parse(json.dumps(SUMMARY).encode(), DailySummary).counts == {"entries": 3}
    with pytest.raises(BadInputError):
        parse(body, DailySummary)


def test_a_door_state_key_is_a_door_id_not_free_text() -> None:
    health = {"site_id": "s1", "sent_at": NOW.isoformat(), "gates_online": 1, "gates_total": 1,
              "backlog": 0, "active_alarms": 0}  # fmt: skip
    assert parse(json.dumps({**health, "door_states": {"d1": "locked"}}).encode(), Health)
    for door in ("x" * 65, "d\x00"):
        with pytest.raises(BadInputError):
            parse(json.dumps({**health, "door_states": {door: "locked"}}).encode(), Health)


def test_every_value_the_wire_takes_fits_its_hub_column() -> None:
    """A value the wire takes and its column refuses would make ingest retry forever."""
    from facegate.domain.policy import SiteMode
    from facegate.domain.site import CredentialKind
    from facegate.hub.schema import events, site_health

    def width(column: object) -> int:
        length = column.type.length  # type: ignore[attr-defined]
        assert isinstance(length, int)
        return length

    assert max(len(str(r)) for r in Reason) <= width(events.c.reason)
    assert max(len(str(c)) for c in CredentialKind) <= width(events.c.credential)
    assert max(len(str(m)) for m in SiteMode) <= width(site_health.c.mode)
    for name, column in (("key", events.c.event_key), ("door_id", events.c.door_id)):
        limits = WireEvent.model_fields[name].metadata
        assert [m.max_length for m in limits if hasattr(m, "max_length")] == [width(column)]


def test_events_the_hub_cannot_place_in_time_are_not_stored_and_the_batch_is_acknowledged() -> None:
    """Before, every event was stored in a partition of its month, however far off: one
    complex's 4,000 events in 4,000 months made every city-wide search fail. Now an event
    past the hub's retention is not kept (retention would drop it), one dated more than a
    day ahead of the hub's clock is not kept and raises ``clock_ahead``; the hub's Ack
    still covers the whole batch, so the site moves on."""
    key = new_private_key()
    store = MemoryStore({"s1": SiteKey("s1", public_text(key), revoked=False)})
    worker = IngestWorker(store, "127.0.0.1", 1, "t", lambda: NOW, new_private_key(), keep_days=90)  # type: ignore[arg-type]
    published: list[tuple[str, bytes]] = []
    worker._client.publish = lambda t, p, **_: published.append((t, p))  # type: ignore[assignment,method-assign,misc]
    worker._client.ack = lambda mid, qos: None  # type: ignore[assignment,method-assign]
    dates = (
        NOW,
        NOW + timedelta(days=2),
        NOW - timedelta(days=100),
        datetime(2500, 1, 1, tzinfo=UTC),
    )
    events = [WireEvent(key=f"k{n}", seq=n, door_id="d", occurred_at=when, granted=True,
                        reason=Reason.GRANTED)
              for n, when in enumerate(dates, start=1)]  # fmt: skip
    worker._handle(
        [_message(1, "s1", seal(EventBatch(site_id="s1", sent_at=NOW, events=events), key))]
    )
    assert [e.key for _, e in store.rows] == ["k1"]
    assert store.alarms == [("s1", "clock_ahead")]
    assert worker.counters.not_kept == 3
    ((where, payload),) = published
    ack = unseal(payload, worker.key.public_key(), Ack)
    assert (where, ack.first_seq, ack.last_seq) == (topic("s1", "acks"), 1, 4)
