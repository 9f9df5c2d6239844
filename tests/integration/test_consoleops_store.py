"""Migration 0007_consoleops on SQLite and PostgreSQL: it adds and drops only its own
tables; alarms, requests and snapshots round-trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from facegate.domain.errors import ConflictError
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.requests import RequestKind
from facegate.domain.retention import RetentionPolicy
from facegate.services import (
    alarm_log,
    event_snapshots,
    people,
    retention,
    rights,
    site_admin,
    subject_requests,
)
from facegate.services.context import ServiceContext
from facegate.services.event_snapshots import SnapshotTaken
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, current_revision, downgrade, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock

REVISION = "0007_consoleops"
NEW_TABLES = {"alarms", "subject_requests", "event_snapshots"}


def test_the_migration_adds_and_drops_only_its_tables(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        downgrade(engine, REVISION)  # later revisions add tables of their own
        tables = set(inspect(engine).get_table_names())
        assert tables >= NEW_TABLES
        downgrade(engine, "-1")
        assert current_revision(engine) == "0006"
        assert set(inspect(engine).get_table_names()) == tables - NEW_TABLES
        upgrade(engine, REVISION)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_an_alarm_and_its_acknowledgement_round_trip(migrated_db_url: str) -> None:
    store = SqlStore(create_db_engine(migrated_db_url))
    try:
        clock = FakeClock()
        context = ServiceContext(store=store, clock=clock, actor="user:guard")
        at = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
        event = GateEvent("k-1", "gate-1", GateEventKind.ALERT_LIST, "door-1", at, person_id="p-1")
        assert alarm_log.record_alarm(context, event)
        assert not alarm_log.record_alarm(context, event)
        done = alarm_log.acknowledge_alarm(context, "k-1", "  police called  ")
        (stored,) = alarm_log.list_alarms(context, active_only=False)
        assert stored == done
        assert (stored.occurred_at, stored.person_id, stored.ack_note) == (
            at,
            "p-1",
            "police called",
        )
        assert stored.acked_by == "user:guard"
        assert stored.acked_at == clock.now()
        assert alarm_log.list_alarms(context) == []
    finally:
        store.close()


def test_a_request_and_a_snapshot_round_trip_and_go_with_the_person(migrated_db_url: str) -> None:
    store = SqlStore(create_db_engine(migrated_db_url))
    try:
        clock = FakeClock()
        context = ServiceContext(store=store, clock=clock, actor="cli:tester")
        site_admin.init_site(context, "Oak Court", "Europe/Berlin")
        ann = people.add_person(context, "Ann").id
        filed = subject_requests.file_request(context, ann, RequestKind.EXPORT, due_days=30)
        assert subject_requests.queue(context) == [filed.request]
        sealer = AesGcmSealer(generate_key())
        taken = SnapshotTaken("event-1", "door-1", ann, "not_allowed_here", b"jpeg")
        event_snapshots.keep_snapshot(context, sealer, taken)
        with pytest.raises(ConflictError):  # one per event: the first is kept
            event_snapshots.keep_snapshot(context, sealer, replace(taken, jpeg=b"other"))
        erasure = rights.erase_person(context, ann)
        assert erasure.counts["snapshots"] == 1
        done = subject_requests.refuse_request(context, filed.request.id, "person erased")
        assert subject_requests.queue(context, None) == [done]
        assert retention.purge(context, RetentionPolicy()).counts["snapshots"] == 0
    finally:
        store.close()
