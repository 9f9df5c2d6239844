"""Doors, lifts and access rules on fakes: the faces-only rule, schedules, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from facegate.domain.access import TimeWindow, access_reason
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import people, places, rights, site_admin
from facegate.services.context import ServiceContext
from fakes import FakeClock, FakeStore

K = CredentialKind
WEEKDAYS_DAYTIME = TimeWindow(frozenset(range(5)), time(7), time(22))


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def context(store: FakeStore) -> ServiceContext:
    # Monday 2 March 2026, 09:30 UTC = 10:30 in Berlin.
    context = ServiceContext(store=store, clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "Europe/Berlin")
    return context


def test_a_faces_only_door_is_refused_and_nothing_is_written(
    context: ServiceContext, store: FakeStore
) -> None:
    commits = store.commits
    with pytest.raises(ValidationError, match="accepts faces only"):
        places.add_door(context, "Gate", DoorKind.GATE, CredentialMode.ANY_OF, [K.FACE])
    assert store.commits == commits
    door = places.add_door(context, "Gate", DoorKind.GATE, CredentialMode.ANY_OF, [K.FACE, K.QR])
    assert places.list_doors(context) == [door]
    with pytest.raises(NotFoundError, match="no building"):
        places.add_door(context, "B", DoorKind.BUILDING, CredentialMode.ALL_OF, [K.CARD], "nope")


def test_lifts_belong_to_buildings(context: ServiceContext) -> None:
    tower = places.add_building(context, "Tower A")
    lift = places.add_lift(context, tower.id, "Lift 1", [3, 0, 1, 2, 3])
    assert lift.floors == (0, 1, 2, 3)
    with pytest.raises(NotFoundError):
        places.add_lift(context, "nope", "Lift 2", [0])


def test_rules_grant_on_schedule_in_the_site_time_zone(context: ServiceContext) -> None:
    door = places.add_door(context, "Main", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [K.CARD])
    ann = people.add_person(context, "Ann")
    guard = people.add_person(context, "Gus", Role.STAFF)
    assert places.may_pass(context, ann.id, door.id) is Reason.NOT_ALLOWED_HERE
    places.add_access_rule(context, [WEEKDAYS_DAYTIME], person_id=ann.id, door_ids=[door.id])
    night = TimeWindow(frozenset(range(7)), time(22), time(6))
    places.add_access_rule(context, [night], role=Role.STAFF, door_ids=[door.id])
    assert places.may_pass(context, ann.id, door.id) is Reason.GRANTED
    assert places.may_pass(context, guard.id, door.id) is Reason.OUTSIDE_SCHEDULE
    clock = context.clock
    assert isinstance(clock, FakeClock)
    clock.current = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert places.may_pass(context, ann.id, door.id) is Reason.OUTSIDE_SCHEDULE
    assert places.may_pass(context, guard.id, door.id) is Reason.GRANTED
    with pytest.raises(NotFoundError, match="no door"):
        places.add_access_rule(context, [night], person_id=ann.id, door_ids=["nope"])


def test_erasure_removes_the_persons_rules_and_export_lists_them(
    context: ServiceContext, store: FakeStore
) -> None:
    door = places.add_door(context, "Main", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [K.PIN])
    ann = people.add_person(context, "Ann")
    places.add_access_rule(context, [WEEKDAYS_DAYTIME], person_id=ann.id, door_ids=[door.id])
    places.add_access_rule(context, [WEEKDAYS_DAYTIME], role=Role.RESIDENT, door_ids=[door.id])
    exported = rights.export_person(context, ann.id, include_disclosures=True)["access_rules"]
    assert [(r["door_ids"], r["time_zone"]) for r in exported] == [([door.id], "Europe/Berlin")]
    assert rights.erase_person(context, ann.id).counts["access_rules"] == 1
    assert [r.role for r in store.tables.rules.values()] == [Role.RESIDENT]


def test_access_reason_without_rules_is_not_allowed() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert access_reason([], "p", Role.RESIDENT, "d", now) is Reason.NOT_ALLOWED_HERE
