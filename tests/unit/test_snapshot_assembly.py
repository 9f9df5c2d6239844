"""A version's snapshots assembled from the site's rows: what doors share is made once.

At 25,000 residents each door's snapshot walked every person, card and PIN (12-14 ms a
door, 24 doors per change); the doors of one building share their rule set, so who is
allowed there and their cards and PIN hashes are made once per set and version. The
content must stay what it was: each target's access data is compared with the plain
definition (every card of an allowed person, in the site's order, and so on).
"""

from __future__ import annotations

from collections.abc import ItemsView
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from test_data_services import consenting, enroll_seed

from facegate.domain.access import TimeWindow
from facegate.domain.lifts import home_floors, rule_serves
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentPurpose, Role
from facegate.domain.policy import AccessData, Target
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import credentials, lift_floors, people, places, site_admin
from facegate.services.consent import withdraw_consent
from facegate.services.context import ServiceContext
from facegate.services.site_rows import RowMemo, SiteRows, read_rows
from facegate.services.snapshots import (
    GalleryScope,
    SnapshotRequest,
    TemplateCache,
    build_snapshots,
)
from fakes import FakeClock, FakeSealer, FakeStore

POLICY = MatchPolicy(0.57, 0.0)
ALL_WEEK = TimeWindow(frozenset(range(7)), time(0), time(23, 59))
KINDS = list(CredentialKind)


class Walked(dict[str, str]):
    """A dict that counts the walks of its items."""

    walks = 0

    def items(self) -> ItemsView[str, str]:
        self.walks += 1
        return super().items()


def counted(uow: Any, version: int, now: datetime) -> SiteRows:
    """The rows, their cards and PIN hashes counting their walks."""
    rows = read_rows(uow, version, now)
    rows.cards, rows.pins = Walked(rows.cards), Walked(rows.pins)
    return rows


@dataclass
class Site:
    context: ServiceContext
    doors: list[str]  # the first three: the building's; the last: the lobby
    lifts: list[str]  # A's (some ride it), B's (everyone rides it)


def _site() -> Site:
    context = ServiceContext(store=FakeStore(), clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    building = places.add_building(context, "A").id
    doors = [
        places.add_door(context, f"A{n}", DoorKind.BUILDING, CredentialMode.ANY_OF, KINDS).id
        for n in range(3)
    ]
    lobby = places.add_door(context, "Lobby", DoorKind.ENTRANCE, CredentialMode.ANY_OF, KINDS).id
    lift = places.add_lift(context, building, "Lift A", range(6)).id
    unit = lift_floors.add_unit(context, building, "A-3", 3).id
    ann, bob, cy = (consenting(context, name) for name in ("Ann", "Bob", "Cy"))
    dee = people.add_person(context, "Dee", Role.STAFF, unit_id=unit).id
    eve = people.add_person(context, "Eve", Role.VISITOR).id
    for n, person in enumerate((ann, bob, cy)):
        enroll_seed(context, person, n + 1)
        credentials.add_card(context, person, f"C-{n}")
    credentials.add_card(context, dee, "C-dee")
    credentials.add_card(context, eve, "C-eve")
    credentials.set_pin(context, bob, "482913")
    credentials.set_pin(context, dee, "591724")
    withdraw_consent(context, cy, ConsentPurpose.FACE_ACCESS)
    for person in (ann, bob):
        places.add_access_rule(context, [ALL_WEEK], person_id=person, door_ids=doors, floors=[2])
    places.add_access_rule(context, [ALL_WEEK], role=Role.STAFF, door_ids=[*doors, lobby])
    places.add_access_rule(context, [ALL_WEEK], person_id=cy, door_ids=[lobby])
    credentials.add_alert(context, eve, "threats", "order 12", timedelta(days=3))
    tower = places.add_building(context, "B").id
    for role in Role:
        places.add_access_rule(context, [ALL_WEEK], role=role, floors=[1], building_id=tower)
    everyone = places.add_lift(context, tower, "Lift B", range(3)).id
    return Site(context, [*doors, lobby], [lift, everyone])


def _plain(rows: SiteRows, target: Target, scope: GalleryScope) -> dict[str, Any]:
    """The parts of a target's access data as first defined, one walk per target."""
    if target.is_lift:
        rules = tuple(r for r in rows.rules if rule_serves(r, target.car))
    else:
        rules = tuple(r for r in rows.rules if target.id in r.door_ids)
    homes: dict[str, int] = {}
    if target.is_lift and target.building_id is not None:
        every = home_floors(rows.homes_by_person(), target.building_id)
        homes = {pid: floor for pid, floor in every.items() if floor in target.floors}
    named = {r.person_id for r in rules if r.person_id is not None}
    roles = {r.role for r in rules if r.role is not None}
    allowed = {pid for pid, (role, _) in rows.people.items() if pid in named or role in roles}
    allowed |= homes.keys()
    listed = {entry.person_id for entry in rows.alerts}
    shown = sorted(rows.people if scope == "site" else (allowed | listed) & rows.people.keys())
    return {
        "people": [(pid, rows.people[pid], pid in rows.consenting) for pid in shown],
        "cards": [(n, pid) for n, pid in rows.cards.items() if pid in allowed],
        "pins": [(pid, h) for pid, h in rows.pins.items() if pid in allowed],
        "rules": rules,
        "home_floors": homes,
    }


def _parts(access: AccessData) -> dict[str, Any]:
    people = [(pid, (p.role, p.moved_out), p.face_consent) for pid, p in access.people.items()]
    return {
        "people": people,
        "cards": list(access.cards.items()),
        "pins": list(access.pins.items()),
        "rules": tuple(access.rules),
        "home_floors": dict(access.home_floors),
    }


@pytest.mark.parametrize("scope", ["site", "allowed"])
def test_every_target_holds_what_it_held(scope: GalleryScope) -> None:
    site = _site()
    memo = RowMemo()
    targets = [*site.doors, *site.lifts]
    requests = [SnapshotRequest(t, "fake-model", POLICY, scope=scope) for t in targets]
    built = build_snapshots(site.context, FakeSealer(), requests, None, TemplateCache(), memo)
    with site.context.store.unit_of_work() as uow:
        rows = memo.rows(site.context.store, uow, uow.reads.data_version(), FakeClock().now())
    for snapshot in built:
        assert _parts(snapshot.access) == _plain(rows, snapshot.target, scope), snapshot.target
    lift = built[-2].access
    assert lift.home_floors
    assert lift.pins
    assert built[0].access.cards
    assert built[3].access.cards != built[0].access.cards
    usable = {pid for pid, p in lift.people.items() if p.face_consent and not p.moved_out}
    assert set(built[0].access.gallery.person_ids()) == usable  # the site's gallery, Cy withdrew


def test_doors_that_share_their_rules_walk_the_cards_and_pins_once() -> None:
    """Three doors named by the same rules, a lobby, two lifts: three walks of the cards,
    not six (none for the lift everyone rides: it holds the site's own)."""
    site = _site()
    memo = RowMemo(counted)
    requests = [SnapshotRequest(t, "fake-model", POLICY) for t in [*site.doors, *site.lifts]]
    built = build_snapshots(site.context, FakeSealer(), requests, None, TemplateCache(), memo)
    with site.context.store.unit_of_work() as uow:
        rows = memo.rows(site.context.store, uow, uow.reads.data_version(), FakeClock().now())
    assert isinstance(rows.cards, Walked)
    assert isinstance(rows.pins, Walked)
    assert rows.cards.walks == 3
    assert rows.pins.walks == 1  # Bob and Dee may pass wherever else they hold a PIN
    first, second = built[0].access, built[1].access
    assert first.cards is second.cards
    assert first.pins is second.pins
    assert first.rules is second.rules
    assert built[-1].access.cards is rows.cards
    assert built[-1].access.pins is rows.pins
    build_snapshots(site.context, FakeSealer(), requests, None, TemplateCache(), memo)
    assert rows.cards.walks == 3  # the same version again: nothing walked
