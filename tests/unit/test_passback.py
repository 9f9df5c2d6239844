"""Anti-passback per zone: the rules, and two gates of a zone sharing presence through the site.

The site side runs on the fake store through the real services (zones, snapshots,
receive_events); each door has its own controller deciding from its own snapshot holder,
as two edge gates would. Cards stand for any credential (the check follows the policy's
grant, whatever the credential).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from facegate.domain.access import TimeWindow
from facegate.domain.gate import GateEventKind
from facegate.domain.matching import MatchPolicy
from facegate.domain.passback import (
    Direction,
    PassbackMode,
    Presence,
    ZoneDoor,
    judge,
)
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.controller import ControllerOptions, DoorController, Outcome
from facegate.gate.runner import SnapshotHolder
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import credentials, people, places, site_admin, zones
from facegate.services.context import ServiceContext
from facegate.services.rights import erase_person
from fakes import FakeClock, FakeDoor, FakeSealer, FakeStore, ListSink

ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59))
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Gate:
    """One door's gate: its snapshot holder, controller, door and outbox."""

    def __init__(self, site: Site, door_id: str) -> None:
        self.site = site
        self.holder = SnapshotHolder(site.upstream, f"gate-{door_id}", door_id)
        self.holder.refresh()
        self.door, self.events = FakeDoor(), ListSink()
        options = ControllerOptions(f"gate-{door_id}", 3.0, 10.0)
        self.controller = DoorController(self.holder, self.door, self.events, site.clock, options)

    def card(self, number: str) -> Outcome:
        """Show a card, deliver the outbox, as the sync thread does."""
        self.holder.refresh()
        outcome = self.controller.decide_credential("card", number)
        self.site.clock.advance(seconds=5)
        self.site.upstream.deliver(self.events.events)
        self.events.events.clear()
        return outcome

    def alarms(self) -> list[str]:
        kinds = [e for e in self.events.events if e.kind is GateEventKind.ANTI_PASSBACK]
        return [e.note for e in kinds]


class Site:
    """A site with two zones; ``garage`` has an in door and an out door."""

    def __init__(self, mode: PassbackMode) -> None:
        self.clock = FakeClock(NOW)
        self.context = ServiceContext(store=FakeStore(), clock=self.clock, actor="test")
        site_admin.init_site(self.context, "Oak Court", "UTC")
        self.upstream = StoreUpstream(
            lambda: self.context.store,  # type: ignore[arg-type,return-value]
            FakeSealer(),
            self.clock,
            "fake-model",
            MatchPolicy(0.57, 0.0),
        )
        doors = {}
        for name in ("garage in", "garage out", "gym in"):
            door = places.add_door(
                self.context, name, DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
            )
            doors[name] = door.id
        self.doors = doors
        zones.set_zone(self.context, "garage", mode)
        zones.set_zone(self.context, "gym", mode)
        zones.place_door(self.context, doors["garage in"], "garage", Direction.IN)
        zones.place_door(self.context, doors["garage out"], "garage", Direction.OUT)
        zones.place_door(self.context, doors["gym in"], "gym", Direction.IN)
        self.ann = people.add_person(self.context, "Ann").id
        credentials.add_card(self.context, self.ann, "ANN")
        places.add_access_rule(
            self.context, [ALL_DAY], person_id=self.ann, door_ids=[*doors.values()]
        )

    def gate(self, name: str) -> Gate:
        return Gate(self, self.doors[name])


def test_in_then_in_again_is_refused_in_a_hard_zone() -> None:
    site = Site(PassbackMode.HARD)
    garage_in = site.gate("garage in")
    assert garage_in.card("ANN").decision.granted
    again = garage_in.card("ANN")
    assert again.decision.reason is Reason.ANTI_PASSBACK
    assert again.decision.person_id == site.ann
    assert len(garage_in.door.commands) == 1  # the second one did not open


def test_out_then_in_is_granted_across_the_zones_doors() -> None:
    site = Site(PassbackMode.HARD)
    garage_in, garage_out = site.gate("garage in"), site.gate("garage out")
    assert garage_in.card("ANN").decision.granted
    # The out gate learns the entry from the site (another gate's delivered event).
    assert garage_out.card("ANN").decision.granted
    assert garage_in.card("ANN").decision.granted
    assert garage_out.card("ANN").decision.granted


def test_out_without_in_is_refused_in_a_hard_zone() -> None:
    site = Site(PassbackMode.HARD)
    refused = site.gate("garage out").card("ANN")
    assert refused.decision.reason is Reason.ANTI_PASSBACK


def test_a_soft_zone_grants_a_passback_with_an_alarm() -> None:
    site = Site(PassbackMode.SOFT)
    garage_in = site.gate("garage in")
    garage_in.card("ANN")
    garage_in.holder.refresh()
    second = garage_in.controller.decide_credential("card", "ANN")
    assert second.decision.granted
    assert len(garage_in.door.commands) == 2
    assert garage_in.alarms() == ["in again at zone garage without going out"]


def test_no_alarm_for_a_passage_in_order() -> None:
    site = Site(PassbackMode.SOFT)
    garage_in, garage_out = site.gate("garage in"), site.gate("garage out")
    garage_in.card("ANN")
    garage_out.holder.refresh()
    garage_out.controller.decide_credential("card", "ANN")
    assert garage_out.alarms() == []


def test_zones_are_kept_apart() -> None:
    site = Site(PassbackMode.HARD)
    assert site.gate("garage in").card("ANN").decision.granted
    assert site.gate("gym in").card("ANN").decision.granted  # in the garage, not in the gym


def test_the_gate_remembers_its_own_passage_before_the_site_confirms_it() -> None:
    site = Site(PassbackMode.HARD)
    garage_in = site.gate("garage in")
    assert garage_in.controller.decide_credential("card", "ANN").decision.granted
    site.clock.advance(seconds=3)  # not delivered yet: only the gate knows
    again = garage_in.controller.decide_credential("card", "ANN")
    assert again.decision.reason is Reason.ANTI_PASSBACK


def test_a_staff_reset_lets_everyone_in_again() -> None:
    site = Site(PassbackMode.HARD)
    garage_in = site.gate("garage in")
    garage_in.card("ANN")
    assert zones.reset_zone(site.context, "garage", "night shift count") == 1
    assert garage_in.card("ANN").decision.granted  # the gate's own record is older too
    views = {v.zone.name: v for v in zones.list_zones(site.context)}
    assert views["garage"].inside == 1


def test_an_offline_gate_grants_a_hard_passback_with_an_alarm() -> None:
    site = Site(PassbackMode.HARD)
    garage_in = site.gate("garage in")
    assert garage_in.controller.decide_credential("card", "ANN").decision.granted
    site.clock.advance(seconds=60)  # no poll confirmed the snapshot since: offline
    offline = garage_in.controller.decide_credential("card", "ANN")
    assert offline.decision.granted
    assert garage_in.alarms() == [
        "in again at zone garage without going out (hard; gate offline: granted)"
    ]


def test_erasure_forgets_presence() -> None:
    site = Site(PassbackMode.HARD)
    site.gate("garage in").card("ANN")
    erased = erase_person(site.context, site.ann)
    assert erased.counts["zone_presence"] == 1


@pytest.mark.parametrize(
    ("direction", "inside", "mode", "refuse", "alarm"),
    [
        (Direction.IN, False, PassbackMode.HARD, False, False),
        (Direction.IN, True, PassbackMode.HARD, True, False),
        (Direction.IN, True, PassbackMode.SOFT, False, True),
        (Direction.IN, True, PassbackMode.OFF, False, False),
        (Direction.OUT, True, PassbackMode.HARD, False, False),
        (Direction.OUT, False, PassbackMode.HARD, True, False),
        (Direction.OUT, False, PassbackMode.SOFT, False, True),
    ],
)
def test_judge(
    direction: Direction, inside: bool, mode: PassbackMode, refuse: bool, alarm: bool
) -> None:
    door = ZoneDoor("garage", direction, mode)
    presence = Presence(inside, NOW - timedelta(hours=1))
    verdict = judge(door, presence, NOW, offline=False)
    assert (verdict.refuse, verdict.alarm is not None) == (refuse, alarm)


def test_the_daily_reset_counts_everyone_out_in_the_sites_time_zone() -> None:
    door = ZoneDoor("garage", Direction.IN, PassbackMode.HARD, time(4), "Asia/Shanghai")
    # 03:00 Shanghai is 19:00 UTC the day before; the reset at 04:00 Shanghai is 20:00 UTC.
    went_in = Presence(True, datetime(2026, 3, 1, 19, 0, tzinfo=UTC))
    before = datetime(2026, 3, 1, 19, 59, tzinfo=UTC)
    after = datetime(2026, 3, 1, 20, 1, tzinfo=UTC)
    assert judge(door, went_in, before, offline=False).refuse
    assert not judge(door, went_in, after, offline=False).refuse


def test_a_doors_zone_and_presence_travel_in_the_sealed_snapshot() -> None:
    from dataclasses import replace

    from facegate.gate.bench import bench_snapshot
    from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire, snapshot_to_wire
    from fakes import unit_descriptor

    base = bench_snapshot([unit_descriptor(1)], MatchPolicy(0.57, 0.0))
    zone = ZoneDoor("garage", Direction.OUT, PassbackMode.SOFT, time(4), "Asia/Shanghai", NOW)
    presence = {"bench-person": Presence(True, NOW - timedelta(minutes=5))}
    snapshot = replace(
        base,
        target=replace(base.target, zone=zone),
        access=replace(base.access, presence=presence),
    )
    key = gate_wire_key("secret", "g")
    back = snapshot_from_wire(snapshot_to_wire(snapshot, "g", key), "g", key)
    assert back.target.zone == zone
    assert back.access.presence == presence
