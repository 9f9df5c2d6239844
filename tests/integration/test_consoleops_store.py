"""Migration 0007_consoleops on SQLite and PostgreSQL: it adds and drops only its own
tables, and an alarm with its acknowledgement round-trips."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect

from facegate.domain.gate import GateEvent, GateEventKind
from facegate.services import alarm_log
from facegate.services.context import ServiceContext
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


def test_an_alarm_and_its_acknowledgement_round_trip(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine)
    store = SqlStore(engine)
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
