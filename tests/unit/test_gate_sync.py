"""Snapshot building, the outbox and exactly-once delivery, on fakes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from test_data_services import consenting, enroll_seed

from facegate.domain.access import TimeWindow
from facegate.domain.errors import NotFoundError, UpstreamUnavailableError
from facegate.domain.gate import SNAPSHOT_FORMAT, GateEvent, GateEventKind
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentPurpose
from facegate.domain.policy import FaceEvidence, Presentation, decide
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.outbox import SqliteOutbox, event_from_json, event_to_json
from facegate.gate.store_upstream import StoreUpstream
from facegate.ports import Store
from facegate.services import credentials, places
from facegate.services.consent import withdraw_consent
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import build_snapshot, receive_events
from fakes import FakeClock, FakeSealer, FakeStore, unit_descriptor

POLICY = MatchPolicy(0.57, 0.0)
ALL_WEEK = TimeWindow(frozenset(range(7)), time(6), time(23))


@pytest.fixture
def context() -> ServiceContext:
    from facegate.services import site_admin

    context = ServiceContext(store=FakeStore(), clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    return context


def door_with_ann(context: ServiceContext) -> tuple[str, str]:
    door = places.add_door(
        context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    )
    ann = consenting(context)
    enroll_seed(context, ann, 3)
    credentials.add_card(context, ann, "C-1")
    places.add_access_rule(context, [ALL_WEEK], person_id=ann, door_ids=[door.id])
    return door.id, ann


def test_snapshot_decides_like_the_site(context: ServiceContext) -> None:
    door_id, ann = door_with_ann(context)
    snapshot = build_snapshot(context, FakeSealer(), door_id, "fake-model", POLICY)
    assert snapshot.format == SNAPSHOT_FORMAT
    assert snapshot.target.id == door_id
    assert snapshot.access.cards == {"C-1": ann}
    probe = Presentation(face=FaceEvidence(descriptor=unit_descriptor(3)))
    decision = decide(probe, snapshot.target, snapshot.access, context.clock.now())
    assert (decision.reason, decision.person_id) == (Reason.GRANTED, ann)


def test_snapshot_version_changes_with_content_only(context: ServiceContext) -> None:
    door_id, ann = door_with_ann(context)
    first = build_snapshot(context, FakeSealer(), door_id, "fake-model", POLICY)
    again = build_snapshot(context, FakeSealer(), door_id, "fake-model", POLICY)
    assert first.version == again.version
    withdraw_consent(context, ann, ConsentPurpose.FACE_ACCESS)
    after = build_snapshot(context, FakeSealer(), door_id, "fake-model", POLICY)
    assert after.version != first.version
    assert len(after.access.gallery) == 0


def test_snapshot_of_an_unknown_door(context: ServiceContext) -> None:
    with pytest.raises(NotFoundError):
        build_snapshot(context, FakeSealer(), "nope", "fake-model", POLICY)


def event(key: str | None = None, **changes: object) -> GateEvent:
    fields: dict[str, object] = {
        "key": key or str(uuid.uuid4()),
        "gate_id": "g1",
        "kind": GateEventKind.DECISION,
        "door_id": "d1",
        "occurred_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "granted": True,
        "reason": Reason.GRANTED,
        "person_id": "ann",
        "scores": {"distance": 0.3},
    }
    fields.update(changes)
    return GateEvent(**fields)  # type: ignore[arg-type]


def test_receiving_twice_stores_once(context: ServiceContext) -> None:
    first = event()
    alarm = event(kind=GateEventKind.DOOR_FORCED_OPEN, granted=False, reason=None, person_id=None)
    assert receive_events(context, [first, alarm]) == 2
    assert receive_events(context, [first, alarm, event()]) == 1
    store = context.store
    assert isinstance(store, FakeStore)
    assert len(store.tables.events) == 2
    assert [r.action for r in store.tables.audit].count("door.door_forced_open") == 1


def test_a_granted_pass_use_is_counted_once(context: ServiceContext) -> None:
    host = consenting(context)
    issued = credentials.create_pass(context, host, "Guest", timedelta(hours=2), max_uses=3)
    door = places.add_door(
        context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    )
    used = event(pass_id=issued.visitor_pass.id, person_id=None, door_id=door.id)
    receive_events(context, [used])
    receive_events(context, [used])
    store = context.store
    assert isinstance(store, FakeStore)
    assert store.tables.passes[issued.visitor_pass.id].uses == 1


def test_event_json_round_trip() -> None:
    original = event(floors=(2, 3), note="x")
    assert event_from_json(event_to_json(original)) == original


def test_event_invariants() -> None:
    with pytest.raises(ValueError, match="reason"):
        event(kind=GateEventKind.DOOR_HELD_OPEN)
    with pytest.raises(ValueError, match="granted"):
        event(reason=Reason.UNKNOWN_FACE)


class FlakyUpstream:
    """Accepts events like a receiver that de-duplicates, or fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.stored: dict[str, GateEvent] = {}
        self.calls = 0

    def fetch_snapshot(self, gate_id: str, target_id: str) -> object:
        raise UpstreamUnavailableError("not used")

    def deliver(self, events: Sequence[GateEvent]) -> int:
        self.calls += 1
        if self.down:
            raise UpstreamUnavailableError("down")
        new = [e for e in events if e.key not in self.stored]
        self.stored.update({e.key: e for e in new})
        return len(new)


def test_outbox_keeps_events_until_the_upstream_is_back(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    upstream = FlakyUpstream()
    upstream.down = True
    events = [event() for _ in range(5)]
    for e in events:
        outbox.put(e)
    outbox.put(events[0])  # a repeated put is ignored
    assert outbox.flush(upstream, batch=2) == 0  # type: ignore[arg-type]
    assert outbox.pending_count() == 5
    outbox.close()
    reopened = SqliteOutbox(tmp_path / "outbox.db")  # durable across a restart
    upstream.down = False
    assert reopened.flush(upstream, batch=2) == 5  # type: ignore[arg-type]
    assert reopened.pending_count() == 0
    assert list(upstream.stored) == [e.key for e in events]
    reopened.close()


def test_redelivery_after_a_lost_mark_is_harmless(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    upstream = FlakyUpstream()
    outbox.put(event())
    upstream.deliver(outbox.pending())  # delivered, but the gate died before marking
    assert outbox.flush(upstream) == 1  # type: ignore[arg-type]
    assert len(upstream.stored) == 1
    outbox.close()


def test_store_upstream_translates_an_unreachable_database(context: ServiceContext) -> None:
    door_id, _ = door_with_ann(context)
    reachable = {"now": False}

    def open_store() -> Store:
        if not reachable["now"]:
            from facegate.domain.errors import DatabaseUnavailableError

            raise DatabaseUnavailableError("gone")
        return context.store

    upstream = StoreUpstream(open_store, FakeSealer(), FakeClock(), "fake-model", POLICY)
    with pytest.raises(UpstreamUnavailableError):
        upstream.fetch_snapshot("g1", door_id)
    with pytest.raises(UpstreamUnavailableError):
        upstream.deliver([event()])
    reachable["now"] = True
    assert upstream.fetch_snapshot("g1", door_id).target.id == door_id
    assert upstream.deliver([event()]) == 1


def test_snapshot_content_is_spelled_the_same_in_every_process() -> None:
    import subprocess
    import sys

    program = (
        "from facegate.services.gate_sync import canonical_json\n"
        "from facegate.domain.site import CredentialKind\n"
        "print(canonical_json({'kinds': frozenset(CredentialKind), 'ids': {'b', 'a', 'c'}}))\n"
    )
    spelled = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(spelled) == 1


def test_doors_at_one_version_share_the_rows_read_and_the_gallery(
    context: ServiceContext,
) -> None:
    from facegate.services.site_rows import RowMemo
    from facegate.services.snapshots import TemplateCache

    north, _ = door_with_ann(context)
    south = places.add_door(
        context, "South", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    ).id
    memo, cache = RowMemo(), TemplateCache()
    a = build_snapshot(context, FakeSealer(), north, "fake-model", POLICY, memo=memo, cache=cache)
    b = build_snapshot(context, FakeSealer(), south, "fake-model", POLICY, memo=memo, cache=cache)
    assert memo.reads == 1
    assert a.access.gallery is b.access.gallery
    assert a.access.cards == {"C-1": next(iter(a.access.cards.values()))}
    assert b.access.cards == {}  # nobody has a rule at South
    credentials.add_card(context, consenting(context), "C-2")
    build_snapshot(context, FakeSealer(), south, "fake-model", POLICY, memo=memo, cache=cache)
    assert memo.reads == 2
