"""The site rows memo: one read of the whole site per data version, however many ask."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.lifts import LiftCar
from facegate.domain.people import Role
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


def test_a_version_that_changed_no_rule_keeps_the_rules_indexes() -> None:
    """Indexing 25,000 rules by door cost about 70 ms a version; a card or an enrolment
    changes no rule, so the next version takes the index as it was."""
    window = TimeWindow(frozenset(range(7)), time(6), time(22))
    schedule = WeeklySchedule("UTC", (window,))
    north = AccessRule("r1", schedule, role=Role.RESIDENT, door_ids=frozenset({"north"}))
    lift = AccessRule("r2", schedule, role=Role.STAFF, floors=frozenset({3}))
    read: dict[int, tuple[AccessRule, ...]] = {1: (north, lift), 2: (north, lift), 3: (north,)}

    def rows_of(uow: object, version: int, now: datetime) -> SiteRows:
        return SiteRows(version, {}, frozenset(), read[version], (), {}, {}, [])

    memo, store, car = RowMemo(rows_of), Store(), LiftCar((2, 3))
    first = memo.rows(store, None, 1, NOW)  # type: ignore[arg-type]
    indexed = (first.door_rules("north"), first.lift_rules(car))
    second = memo.rows(store, None, 2, NOW)  # type: ignore[arg-type]
    assert (second.door_rules("north"), second.lift_rules(car)) == indexed
    assert second.door_rules("north") is indexed[0]
    assert second.lift_rules(car) is indexed[1]
    third = memo.rows(store, None, 3, NOW)  # type: ignore[arg-type]  # a rule deleted
    assert third.lift_rules(car) == ()
    assert third.door_rules("north") == (north,)


def test_a_rule_added_for_one_door_leaves_the_other_doors_rules_as_they_were() -> None:
    """What is kept per rule tuple (the edge route's encoded rules) must survive a rule
    added elsewhere: at 25,000 residents every enrolment adds one, and each door's rules
    were indexed into new tuples, so all 24 doors' rules were encoded again."""
    window = TimeWindow(frozenset(range(7)), time(6), time(22))
    schedule = WeeklySchedule("UTC", (window,))
    north = AccessRule("r1", schedule, role=Role.RESIDENT, door_ids=frozenset({"north"}))
    south = AccessRule("r2", schedule, role=Role.RESIDENT, door_ids=frozenset({"south"}))
    added = AccessRule("r3", schedule, person_id="p1", door_ids=frozenset({"south"}))
    read: dict[int, tuple[AccessRule, ...]] = {1: (north, south), 2: (north, south, added)}

    def rows_of(uow: object, version: int, now: datetime) -> SiteRows:
        return SiteRows(version, {}, frozenset(), read[version], (), {}, {}, [])

    memo, store = RowMemo(rows_of), Store()
    first = memo.rows(store, None, 1, NOW)  # type: ignore[arg-type]
    kept_north, kept_south = first.door_rules("north"), first.door_rules("south")
    second = memo.rows(store, None, 2, NOW)  # type: ignore[arg-type]
    assert second.door_rules("north") is kept_north
    assert second.door_rules("south") == (south, added)
    assert second.door_rules("south") is not kept_south
