"""The site rows memo: one read of the whole site per data version, however many ask."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from facegate.services.site_rows import RowMemo, SiteRows
from support import WatchedGuard, wait_for

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Store:
    """Stands in for a store (the memo keeps rows per store, weakly)."""


def rows(version: int) -> SiteRows:
    return SiteRows(version, {}, frozenset(), (), (), {}, {}, [])


def test_callers_at_once_after_a_change_share_one_read() -> None:
    """The kiosk refresher and the edge gates' polls ask together after a change: the
    first reads the site, the others wait for it (before: each read it all again)."""
    inside, go = threading.Event(), threading.Event()
    calls: list[int] = []

    def read(uow: object, version: int, now: datetime) -> SiteRows:
        calls.append(version)
        if len(calls) == 1:
            inside.set()
            assert go.wait(15.0), "the test never let the first read go on"
        return rows(version)

    memo, store = RowMemo(read), Store()
    guard = WatchedGuard()
    memo._reading = guard  # type: ignore[assignment]  # see who has to wait for the turn
    got: dict[str, SiteRows] = {}
    first = threading.Thread(target=lambda: got.update(a=memo.rows(store, None, 7, NOW)))  # type: ignore[arg-type]
    second = threading.Thread(target=lambda: got.update(b=memo.rows(store, None, 7, NOW)))  # type: ignore[arg-type]
    first.start()
    try:
        assert inside.wait(15.0)
        second.start()
        assert wait_for(lambda: guard.contended.is_set() or "b" in got)
    finally:
        go.set()
        first.join(15.0)
        if second.ident is not None:
            second.join(15.0)
    assert calls == [7]
    assert got["a"] is got["b"]
    assert memo.reads == 1
    memo.rows(store, None, 8, NOW)  # type: ignore[arg-type]  # a new version is read
    assert calls == [7, 8]
