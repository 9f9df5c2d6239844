"""Gate events delivered at once from several threads, and what the outbox keeps after.

Issue 16 F3: flushes racing each other sent one batch twice at once and the receiver's
check-then-insert answered ``409 UNIQUE constraint failed``. F10: delivered rows stayed in
the outbox file with the person's id after the site database had anonymised it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_concurrent_doors import _door_with_card, _wire

from api_site import site_on
from facegate.domain.errors import AuditConflictError
from facegate.domain.events import EventQuery
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.reasons import Reason
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.outbox import SqliteOutbox
from facegate.services import site_admin
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import receive_events
from facegate.services.rights import erase_person
from facegate.store.database import create_db_engine
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock

AT_ONCE = 8


@pytest.fixture
def context(migrated_db_url: str) -> Iterator[ServiceContext]:
    engine = create_db_engine(migrated_db_url)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=FakeClock(), actor="gate:north")
    site_admin.init_site(context, "Oak Court", "UTC")
    yield context
    store.close()


def decision(person_id: str = "p-1", kind: GateEventKind = GateEventKind.DECISION) -> GateEvent:
    granted = kind is GateEventKind.DECISION
    return GateEvent(
        key=str(uuid.uuid4()),
        gate_id="north",
        kind=kind,
        door_id="door-north",
        occurred_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        granted=granted,
        reason=Reason.GRANTED if granted else None,
        person_id=person_id,
        note="" if granted else "forced open",
    )


def at_once(run: Callable[[], object], times: int = AT_ONCE) -> list[BaseException]:
    """Call ``run`` in ``times`` threads released together; the errors they raised."""
    start, errors = threading.Barrier(times), []

    def one() -> None:
        start.wait()
        try:
            run()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_one_batch_delivered_by_many_at_once_is_stored_once(context: ServiceContext) -> None:
    for _ in range(3):
        batch = [decision(), decision(), decision(kind=GateEventKind.DOOR_FORCED_OPEN)]
        news: list[int] = []
        assert at_once(lambda b=batch, n=news: n.append(receive_events(context, b))) == []
        assert sorted(news) == [0] * (AT_ONCE - 1) + [3]
    with context.store.unit_of_work() as uow:
        assert len(uow.events.for_person("p-1")) == 6
        alarms = [r for r in uow.audit.all() if r.action == "door.door_forced_open"]
    assert len(alarms) == 3
    assert site_admin.verify_audit(context).intact


class SlowUpstream:
    """Takes its time over each delivery and counts how often each key came."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def deliver(self, events: Sequence[GateEvent]) -> int:
        time.sleep(0.02)
        self.seen.update(e.key for e in events)
        return len(events)


def test_flushes_at_once_deliver_each_event_once(tmp_path: Path) -> None:
    outbox, upstream = SqliteOutbox(tmp_path / "outbox.db"), SlowUpstream()

    def put_and_flush() -> None:
        outbox.put(decision())
        outbox.flush(upstream)  # type: ignore[arg-type]

    assert at_once(put_and_flush) == []
    assert len(upstream.seen) == AT_ONCE
    assert set(upstream.seen.values()) == {1}
    assert outbox.pending_count() == 0
    outbox.close()


def raw_bytes(path: Path) -> bytes:
    """The outbox's file and its write-ahead log as they lie on disk."""
    files = (path, path.with_name(path.name + "-wal"))
    return b"".join(p.read_bytes() for p in files if p.exists())


def test_a_delivered_event_leaves_nothing_in_the_outbox_file(tmp_path: Path) -> None:
    path = tmp_path / "server-outbox.db"
    outbox, upstream = SqliteOutbox(path), SlowUpstream()
    person = "erased-person-7f3a9c"
    outbox.put(decision(person))
    outbox.put(decision("someone-else"))
    with sqlite3.connect(path) as peek:
        peek.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert person.encode() in raw_bytes(path)  # the test can see a stored payload
    assert outbox.flush(upstream) == 2  # type: ignore[arg-type]
    with sqlite3.connect(path) as peek:
        peek.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert person.encode() not in raw_bytes(path)
    assert b"someone-else" not in raw_bytes(path)
    outbox.close()
    assert person.encode() not in raw_bytes(path)


def test_after_an_erasure_the_server_outbox_holds_nothing_of_the_person(tmp_path: Path) -> None:
    with site_on(f"sqlite:///{tmp_path / 'facegate.db'}") as site:
        door = SimulatedDoor()
        path = tmp_path / "gate" / "server-outbox.db"
        _wire(site, path, door)
        door_id, _ = _door_with_card(site)
        assert site.deps.decider is not None
        assert site.deps.decider.decide_credential(door_id, "card", "CARD-1234").granted
        with site.context.store.unit_of_work() as uow:
            assert [e.person_id for e in uow.events.search(EventQuery(door_id=door_id))] == [
                site.resident_id
            ]
        erase_person(site.context, site.resident_id)
        with sqlite3.connect(path) as peek:
            peek.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert site.resident_id.encode() not in raw_bytes(path)


class RefusingUpstream:
    """Refuses every batch the way a failing audit append inside the store would."""

    def deliver(self, events: Sequence[GateEvent]) -> int:
        raise AuditConflictError("audit record 7 was written by another process")


def test_a_refused_delivery_never_fails_the_decision_that_was_acted_on(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    outbox.put(decision())
    assert outbox.flush(RefusingUpstream()) == 0  # type: ignore[arg-type]
    assert outbox.pending_count() == 1  # kept for the next flush
    assert outbox.flush(SlowUpstream()) == 1  # type: ignore[arg-type]
    outbox.close()
