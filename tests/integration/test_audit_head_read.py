"""Reading the audit chain's head reads one row, not the whole log (every audited read does it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from facegate.services import site_admin
from facegate.services.context import ServiceContext, audit
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock


def _audited_site(tmp_path: Path) -> tuple[Engine, SqlStore, ServiceContext]:
    """A migrated SQLite site database, its store and a service context on a fake clock."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'facegate.db'}")
    upgrade(engine)
    store = SqlStore(engine)
    return engine, store, ServiceContext(store=store, clock=FakeClock(), actor="test")


def _recorder() -> tuple[list[str], Callable[..., None]]:
    """A list of SQL statements and the ``before_cursor_execute`` listener that fills it."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    return statements, record


def test_the_head_is_read_with_a_limit_of_one(tmp_path: Path) -> None:
    engine, store, context = _audited_site(tmp_path)
    for _ in range(30):
        with store.unit_of_work() as uow:
            audit(uow, context, "person.list")
            uow.commit()
    statements, record = _recorder()
    event.listen(engine, "before_cursor_execute", record)
    with store.unit_of_work() as uow:
        head = uow.audit.last()
    assert head is not None
    assert head.seq == 30
    heads = [s for s in statements if "FROM audit_log" in s]
    assert heads, statements
    assert all("LIMIT" in s.upper() for s in heads), heads
    store.close()


def test_appends_in_one_transaction_read_the_head_once_and_chain(tmp_path: Path) -> None:
    engine, store, context = _audited_site(tmp_path)
    with store.unit_of_work() as uow:
        audit(uow, context, "person.list")
        uow.commit()
    statements, record = _recorder()
    event.listen(engine, "before_cursor_execute", record)
    with store.unit_of_work() as uow:  # a bulk import's batch
        for _ in range(40):
            audit(uow, context, "person.add")
        uow.commit()
    with store.unit_of_work() as uow:  # a new transaction reads the head again
        audit(uow, context, "person.add")
        uow.commit()
    event.remove(engine, "before_cursor_execute", record)
    heads = [s for s in statements if "FROM audit_log" in s]
    assert len(heads) == 2, heads
    report = site_admin.verify_audit(context)
    assert (report.records, report.broken_id) == (42, None)
    store.close()


def test_a_head_rolled_back_with_its_savepoint_is_read_again(tmp_path: Path) -> None:
    _, store, context = _audited_site(tmp_path)
    with store.unit_of_work() as uow:
        audit(uow, context, "person.add")
        session = uow._session  # a savepoint, as a service could open one
        savepoint = session.begin_nested()
        audit(uow, context, "person.add")
        savepoint.rollback()
        audit(uow, context, "person.add")
        uow.commit()
    report = site_admin.verify_audit(context)
    assert (report.records, report.broken_id) == (2, None)
    store.close()
