"""Lifts that know your floor: home floors, extra floors, visitor passes (issue 14 #2)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.credentials import VisitorPass, qr_code_hash
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.domain.gate import GateSnapshot
from facegate.domain.lifts import LiftCar, home_floors, pass_floors, person_floors
from facegate.domain.matching import Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, Presentation, SiteMode, Target, decide
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire, snapshot_to_wire
from facegate.services import credentials, lift_floors, people, places, site_admin
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import build_snapshot
from fakes import FakeClock, FakeSealer, FakeStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning
NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
DAYTIME = WeeklySchedule("UTC", (TimeWindow(frozenset(range(7)), time(7), time(22)),))
CAR_A = LiftCar((0, 1, 2, 3, 4, 5), "tower-a")
LIFT_A = Target("lift-a", frozenset(CredentialKind), floors=CAR_A.floors, building_id="tower-a")
POLICY = MatchPolicy(0.57, 0.0)


def extra(floors: set[int], building: str | None = None, **who: object) -> AccessRule:
    return AccessRule("r", DAYTIME, floors=frozenset(floors), building_id=building, **who)  # type: ignore[arg-type]


def test_the_home_floor_is_enabled_at_all_hours_with_extra_floors_on_their_schedule() -> None:
    rules = [extra({5, 9}, person_id="ann")]
    assert person_floors(rules, "ann", Role.RESIDENT, 3, CAR_A, NOW) == (Reason.GRANTED, (3, 5))
    assert person_floors(rules, "ann", Role.RESIDENT, 3, CAR_A, NIGHT) == (Reason.GRANTED, (3,))
    assert person_floors(rules, "ann", Role.RESIDENT, None, CAR_A, NIGHT) == (
        Reason.OUTSIDE_SCHEDULE,
        (),
    )
    assert person_floors([], "ann", Role.RESIDENT, None, CAR_A, NOW) == (
        Reason.NOT_ALLOWED_HERE,
        (),
    )
    # A home floor the lift does not serve enables nothing.
    assert person_floors([], "ann", Role.RESIDENT, 12, CAR_A, NOW)[0] is Reason.NOT_ALLOWED_HERE


def test_a_rule_bound_to_another_building_gives_nothing_in_this_lift() -> None:
    elsewhere = extra({5}, "tower-b", role=Role.STAFF)
    everywhere = extra({4}, None, role=Role.STAFF)
    here = extra({2}, "tower-a", role=Role.STAFF)
    found = person_floors([elsewhere, everywhere, here], "sam", Role.STAFF, None, CAR_A, NOW)
    assert found == (Reason.GRANTED, (2, 4))


def test_only_residents_household_and_staff_have_a_home_floor_in_their_own_building() -> None:
    homes = home_floors(
        {
            "ann": (Role.RESIDENT, "tower-a", 3),
            "kid": (Role.HOUSEHOLD_MEMBER, "tower-a", 3),
            "guest": (Role.VISITOR, "tower-a", 4),
            "bob": (Role.RESIDENT, "tower-b", 2),
        },
        "tower-a",
    )
    assert homes == {"ann": 3, "kid": 3}


def test_a_pass_rides_to_its_hosts_floor_when_the_lift_serves_it() -> None:
    assert pass_floors(3, CAR_A) == (Reason.GRANTED, (3,))
    assert pass_floors(None, CAR_A) == (Reason.NOT_ALLOWED_HERE, ())
    assert pass_floors(40, CAR_A) == (Reason.NOT_ALLOWED_HERE, ())


def _pass(host: str, uses: int = 0) -> VisitorPass:
    start = NOW - timedelta(hours=1)
    return VisitorPass(
        "p1", host, "Guest", start, NOW + timedelta(hours=1), 1, qr_code_hash("Q"), uses
    )


def _lift_data(
    visitor_pass: VisitorPass, homes: dict[str, int], **people: PersonAccess
) -> AccessData:
    return AccessData(
        SiteMode.NORMAL,
        people,
        Gallery(),
        POLICY,
        passes={visitor_pass.code_hash: visitor_pass},
        home_floors=homes,
    )


def test_a_visitor_pass_in_the_lift_enables_the_hosts_floor_only_and_is_not_a_use() -> None:
    used_at_the_door = _pass("ann", uses=1)
    data = _lift_data(used_at_the_door, {"ann": 3}, ann=PersonAccess(Role.RESIDENT))
    ride = decide(Presentation(qr_code="Q"), LIFT_A, data, NOW)
    assert (ride.reason, ride.floors, ride.pass_id) == (Reason.GRANTED, (3,), "p1")
    late = decide(Presentation(qr_code="Q"), LIFT_A, data, NOW + timedelta(hours=2))
    assert (late.reason, late.floors) == (Reason.PASS_EXPIRED, ())
    # At a door the same pass is used up.
    door = Target("door-1", frozenset(CredentialKind))
    assert decide(Presentation(qr_code="Q"), door, data, NOW).reason is Reason.PASS_USED_UP


def test_a_pass_whose_host_lives_elsewhere_or_moved_out_rides_nowhere() -> None:
    elsewhere = _lift_data(_pass("bob"), {}, bob=PersonAccess(Role.RESIDENT))
    assert (
        decide(Presentation(qr_code="Q"), LIFT_A, elsewhere, NOW).reason is Reason.NOT_ALLOWED_HERE
    )
    moved = _lift_data(_pass("ann"), {"ann": 3}, ann=PersonAccess(Role.RESIDENT, moved_out=True))
    assert decide(Presentation(qr_code="Q"), LIFT_A, moved, NOW).reason is Reason.NOT_ALLOWED_HERE


def test_a_building_without_floors_is_refused() -> None:
    with pytest.raises(ValidationError, match="only a rule that names floors"):
        AccessRule("r", DAYTIME, person_id="ann", door_ids=frozenset({"d"}), building_id="b")


# -- through the services and the gate's snapshot, on fakes ------------------------------


@pytest.fixture
def context() -> ServiceContext:
    context = ServiceContext(store=FakeStore(), clock=FakeClock(NOW), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    return context


def _two_towers(context: ServiceContext) -> dict[str, str]:
    tower_a = places.add_building(context, "Tower A")
    tower_b = places.add_building(context, "Tower B")
    lift_a = places.add_lift(context, tower_a.id, "A1", range(0, 10))
    lift_b = places.add_lift(context, tower_b.id, "B1", range(0, 10))
    flat = lift_floors.add_unit(context, tower_a.id, "3B", 3)
    ann = people.add_person(context, "Ann", Role.RESIDENT, unit_id=flat.id)
    credentials.add_card(context, ann.id, "C-ANN")
    return {"a": tower_a.id, "lift_a": lift_a.id, "lift_b": lift_b.id, "ann": ann.id}


def _ride(
    context: ServiceContext, lift_id: str, shown: Presentation
) -> tuple[Reason, tuple[int, ...]]:
    snapshot = build_snapshot(context, FakeSealer(), lift_id, "fake-model", POLICY)
    decision = decide(shown, snapshot.target, snapshot.access, context.clock.now())
    return decision.reason, decision.floors


def test_a_residents_card_rides_to_their_floor_in_their_building_only(
    context: ServiceContext,
) -> None:
    ids = _two_towers(context)
    card = Presentation(card_number="C-ANN")
    assert _ride(context, ids["lift_a"], card) == (Reason.GRANTED, (3,))
    # Tower B's lift has no home floor for Ann: her card is not even in its snapshot.
    assert _ride(context, ids["lift_b"], card) == (Reason.UNKNOWN_CREDENTIAL, ())
    lift_floors.grant_floors(context, [7], person_id=ids["ann"], building_id=ids["a"])
    assert _ride(context, ids["lift_a"], card) == (Reason.GRANTED, (3, 7))
    assert _ride(context, ids["lift_b"], card) == (Reason.UNKNOWN_CREDENTIAL, ())
    lift_floors.grant_floors(context, [0], role=Role.RESIDENT)  # every building
    assert _ride(context, ids["lift_b"], card) == (Reason.GRANTED, (0,))


def test_a_visitor_pass_rides_to_the_hosts_floor_through_the_snapshot(
    context: ServiceContext,
) -> None:
    ids = _two_towers(context)
    issued = credentials.create_pass(context, ids["ann"], "Guest", timedelta(hours=2))
    shown = Presentation(qr_code=issued.code)
    assert _ride(context, ids["lift_a"], shown) == (Reason.GRANTED, (3,))
    assert _ride(context, ids["lift_b"], shown) == (Reason.NOT_ALLOWED_HERE, ())


def test_floors_of_shows_home_floor_rules_and_each_lift_now(context: ServiceContext) -> None:
    ids = _two_towers(context)
    lift_floors.grant_floors(context, [8], person_id=ids["ann"])
    found = lift_floors.floors_of(context, ids["ann"])
    assert found.home_floor == 3
    assert [r.floors for r in found.rules] == [frozenset({8})]
    reach = {r.lift.name: (r.reason, r.floors) for r in found.lifts}
    assert reach == {"A1": (Reason.GRANTED, (3, 8)), "B1": (Reason.GRANTED, (8,))}
    with pytest.raises(NotFoundError):
        lift_floors.floors_of(context, "nobody")


def test_bad_floor_grants_and_units_are_refused(context: ServiceContext) -> None:
    ids = _two_towers(context)
    with pytest.raises(ValidationError, match="at least one floor"):
        lift_floors.grant_floors(context, [], person_id=ids["ann"])
    with pytest.raises(ValidationError, match="between"):
        lift_floors.grant_floors(context, [5000], person_id=ids["ann"])
    with pytest.raises(NotFoundError, match="building"):
        lift_floors.grant_floors(context, [1], person_id=ids["ann"], building_id="nope")
    with pytest.raises(ValidationError, match="label"):
        lift_floors.add_unit(context, ids["a"], " ", 2)
    with pytest.raises(NotFoundError, match="unit"):
        people.add_person(context, "Bo", unit_id="nope")


def test_home_floors_and_building_bound_rules_survive_the_wire(context: ServiceContext) -> None:
    ids = _two_towers(context)
    lift_floors.grant_floors(context, [7], person_id=ids["ann"], building_id=ids["a"])
    snapshot = build_snapshot(context, FakeSealer(), ids["lift_a"], "fake-model", POLICY)
    key = gate_wire_key("secret", "gate-1")
    back: GateSnapshot = snapshot_from_wire(
        snapshot_to_wire(snapshot, "gate-1", key), "gate-1", key
    )
    assert back.target == snapshot.target
    assert back.access.home_floors == {ids["ann"]: 3}
    assert back.access.rules == snapshot.access.rules
    card = Presentation(card_number="C-ANN")
    assert decide(card, back.target, back.access, NOW).floors == (3, 7)
