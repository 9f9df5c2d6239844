"""Audit appends racing for the next chain link, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from facegate.domain.audit import next_record
from facegate.domain.errors import AuditConflictError, DatabaseUnavailableError
from facegate.services import people, site_admin
from facegate.services.context import ServiceContext, audit
from facegate.store import database
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[SqlStore]:
    engine = create_db_engine(migrated_db_url)
    store = SqlStore(engine)
    yield store
    store.close()


def test_a_stale_link_is_refused_and_the_transaction_can_retry(store: SqlStore) -> None:
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:a")
    site_admin.init_site(context, "Oak Court", "UTC")
    with store.unit_of_work() as uow:
        stale = next_record(
            uow.audit.last(), id="stale", occurred_at=context.clock.now(), actor="a", action="x"
        )
        people.add_person(context, "Ann")  # another transaction takes link 2 and commits
        with pytest.raises(AuditConflictError):
            uow.audit.append(stale)
        assert audit(uow, context, "person.list").seq == 3
        uow.commit()
    assert [r.seq for r in store.unit_of_work().audit.all()] == [1, 2, 3]
    assert site_admin.verify_audit(context).intact


def test_two_threads_auditing_on_sqlite_keep_one_linear_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'facegate.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    first = ServiceContext(store=SqlStore(engine), clock=FakeClock(), actor="cli:a")
    site_admin.init_site(first, "Oak Court", "UTC")
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(actor: str) -> None:
        store = SqlStore(create_db_engine(url))
        context = ServiceContext(store=store, clock=FakeClock(), actor=actor)
        try:
            start.wait()
            for _ in range(15):
                people.list_people(context)
        except BaseException as err:
            errors.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(f"cli:{n}",)) for n in "xy"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = site_admin.verify_audit(first)
    assert (report.intact, report.records) == (True, 31)
    engine.dispose()


def test_a_writer_turn_held_too_long_is_unavailable_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 50)
    turns = database.WriterTurns()
    turns.take()
    with pytest.raises(DatabaseUnavailableError):
        turns.take()
    turns.give_back()
    turns.take()
    turns.give_back()
