"""Reading the audit chain's head reads one row, not the whole log (every audited read does it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from facegate.services.context import ServiceContext, audit
from facegate.store.database import create_db_engine, upgrade
from facegate.store.unit_of_work import SqlStore
from fakes import FakeClock


def test_the_head_is_read_with_a_limit_of_one(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'facegate.db'}")
    upgrade(engine)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=FakeClock(), actor="test")
    for _ in range(30):
        with store.unit_of_work() as uow:
            audit(uow, context, "person.list")
            uow.commit()
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    with store.unit_of_work() as uow:
        head = uow.audit.last()
    assert head is not None
    assert head.seq == 30
    heads = [s for s in statements if "FROM audit_log" in s]
    assert heads, statements
    assert all("LIMIT" in s.upper() for s in heads), heads
    store.close()
