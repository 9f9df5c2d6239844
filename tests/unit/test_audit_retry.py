"""The audit append under contention: a lost race is retried with back-off, then given up."""

from __future__ import annotations

import pytest

from facegate.domain.audit import AuditRecord, next_record, verify_chain
from facegate.domain.errors import AuditConflictError
from facegate.services.context import AUDIT_APPEND_ATTEMPTS, ServiceContext, audit
from fakes import FakeClock, FakeStore


class RacingWriters:
    """Before each of the first ``races`` appends, another writer takes the next link."""

    def __init__(self, store: FakeStore, races: int) -> None:
        self.store, self.races = store, races

    def before_append(self, uow_audit: list[AuditRecord], clock: FakeClock) -> None:
        if self.races > 0:
            self.races -= 1
            last = uow_audit[-1] if uow_audit else None
            uow_audit.append(
                next_record(
                    last, id=f"other-{self.races}", occurred_at=clock.now(), actor="x", action="y"
                )
            )


def contended_audit(races: int) -> tuple[FakeStore, list[float]]:
    store, pauses = FakeStore(), []
    clock = FakeClock()
    context = ServiceContext(store=store, clock=clock, actor="cli:t", pause=pauses.append)
    writers = RacingWriters(store, races)
    with store.unit_of_work() as uow:
        real_append = uow.audit.append

        def append(record: AuditRecord) -> None:
            writers.before_append(uow.audit.t.audit, clock)
            real_append(record)

        uow.audit.append = append  # type: ignore[method-assign]
        audit(uow, context, "person.list")
        uow.commit()
    return store, pauses


def test_a_lost_race_is_retried_and_the_chain_stays_linear() -> None:
    store, pauses = contended_audit(races=2)
    assert [r.action for r in store.tables.audit] == ["y", "y", "person.list"]
    assert [r.seq for r in store.tables.audit] == [1, 2, 3]
    assert verify_chain(store.tables.audit).intact
    assert len(pauses) == 2
    assert all(0 <= p <= 0.02 * 2**i for i, p in enumerate(pauses))


def test_endless_contention_gives_up_with_a_conflict() -> None:
    with pytest.raises(AuditConflictError):
        contended_audit(races=AUDIT_APPEND_ATTEMPTS)
