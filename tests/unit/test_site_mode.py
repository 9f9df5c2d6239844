"""The site mode: precedence, end times, the service (audited), snapshots, the gate side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facegate.domain.errors import ActuatorFailedError, ValidationError
from facegate.domain.gate import GateEventKind, GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import FaceEvidence, Presentation, SiteMode, decide
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.domain.site_mode import ModeRequest, ModeSource, effective_mode, strongest
from facegate.gate.contact import ContactMonitor
from facegate.gate.fire_input import apply_fire_input, fire_event_recorder, parse_fire_payload
from facegate.gate.kiosk_doors import KioskDoorsOpen
from facegate.gate.runner import SnapshotHolder
from facegate.gate.server_side import ActuatorPool
from facegate.gate.site_mode import LocalInputs, OpenDoorKeeper
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import places, site_admin
from facegate.services.context import ServiceContext
from facegate.services.site_mode import set_mode, show_mode
from facegate.services.snapshots import SnapshotRequest, build_snapshot, snapshot_version
from fakes import FakeClock, FakeDoor, FakeSealer, FakeStore, ListSink

POLICY = MatchPolicy(0.57, 0.0)


@pytest.fixture
def context() -> ServiceContext:
    context = ServiceContext(store=FakeStore(), clock=FakeClock(), actor="cli:tester")
    site_admin.init_site(context, "Oak Court", "UTC")
    return context


def door(context: ServiceContext) -> str:
    kinds = [CredentialKind.FACE, CredentialKind.CARD]
    return places.add_door(context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id


def request(mode: SiteMode, source: ModeSource, clock: FakeClock, **until: float) -> ModeRequest:
    ends = clock.now() + timedelta(**until) if until else None
    return ModeRequest(source, mode, "drill", "cli:tester", clock.now(), ends)


def test_fire_outranks_lockdown_which_outranks_free_passage() -> None:
    clock = FakeClock()
    fire = request(SiteMode.FIRE, ModeSource.FIRE_PANEL, clock)
    lockdown = request(SiteMode.LOCKDOWN, ModeSource.OPERATOR, clock)
    passage = request(SiteMode.FREE_PASSAGE, ModeSource.HUB, clock)
    assert effective_mode([passage, lockdown, fire], clock.now()) == (SiteMode.FIRE, fire)
    assert effective_mode([passage, lockdown], clock.now()) == (SiteMode.LOCKDOWN, lockdown)
    assert effective_mode([passage], clock.now())[0] is SiteMode.FREE_PASSAGE
    assert effective_mode([], clock.now()) == (SiteMode.NORMAL, None)
    assert strongest(SiteMode.LOCKDOWN, SiteMode.FIRE) is SiteMode.FIRE


def test_a_request_ends_by_itself_at_its_end_time() -> None:
    clock = FakeClock()
    lockdown = request(SiteMode.LOCKDOWN, ModeSource.OPERATOR, clock, minutes=30)
    assert effective_mode([lockdown], clock.now())[0] is SiteMode.LOCKDOWN
    clock.advance(minutes=30)
    assert effective_mode([lockdown], clock.now())[0] is SiteMode.NORMAL


@pytest.mark.parametrize(
    ("mode", "reason", "minutes"),
    [(SiteMode.NORMAL, "x", None), (SiteMode.LOCKDOWN, " ", None), (SiteMode.LOCKDOWN, "x", -1)],
)
def test_a_bad_request_is_refused(mode: SiteMode, reason: str, minutes: int | None) -> None:
    clock = FakeClock()
    until = None if minutes is None else clock.now() + timedelta(minutes=minutes)
    with pytest.raises(ValueError, match=r"normal|reason|end time"):
        ModeRequest(ModeSource.OPERATOR, mode, reason, "cli:t", clock.now(), until)


def test_open_modes_grant_without_a_credential_and_lockdown_denies() -> None:
    snapshot = snapshot_in(SiteMode.FIRE)
    nothing = Presentation(face=FaceEvidence(refusal=Reason.NO_FACE))
    now = FakeClock().now()
    assert decide(nothing, snapshot.target, snapshot.access, now).granted
    locked = snapshot_in(SiteMode.LOCKDOWN)
    assert decide(nothing, locked.target, locked.access, now).reason is Reason.LOCKDOWN


def snapshot_in(mode: SiteMode) -> GateSnapshot:
    context = ServiceContext(store=FakeStore(), clock=FakeClock(), actor="t")
    site_admin.init_site(context, "Oak Court", "UTC")
    return build_snapshot(context, FakeSealer(), door(context), "m", POLICY, mode)


def test_setting_a_mode_is_audited_with_who_why_and_until(context: ServiceContext) -> None:
    until = context.clock.now() + timedelta(hours=2)
    state = set_mode(context, SiteMode.LOCKDOWN, "police request 17", until)
    assert state.mode is SiteMode.LOCKDOWN
    assert state.deciding is not None
    assert state.deciding.set_by == "cli:tester"
    with context.store.unit_of_work() as uow:
        record = uow.audit.all()[-1]
    assert record.action == "site.mode"
    assert record.actor == "cli:tester"
    assert record.details["mode"] == "lockdown"
    assert record.details["reason"] == "police request 17"
    assert record.details["until"] == until.isoformat()
    assert show_mode(context).to_json()["until"] == until.isoformat()


def test_normal_withdraws_only_its_own_source(context: ServiceContext) -> None:
    set_mode(context, SiteMode.FIRE, "panel zone 3", source=ModeSource.FIRE_PANEL)
    state = set_mode(context, SiteMode.LOCKDOWN, "intruder")
    assert state.mode is SiteMode.FIRE  # lockdown waits under the fire
    assert [r.mode for r in state.requests] == [SiteMode.FIRE, SiteMode.LOCKDOWN]
    assert set_mode(context, SiteMode.NORMAL, "fire out", source=ModeSource.FIRE_PANEL).mode is (
        SiteMode.LOCKDOWN
    )
    assert set_mode(context, SiteMode.NORMAL, "all clear").mode is SiteMode.NORMAL


def test_a_mode_without_reason_or_with_a_past_end_is_bad_input(context: ServiceContext) -> None:
    with pytest.raises(ValidationError):
        set_mode(context, SiteMode.LOCKDOWN, "")
    with pytest.raises(ValidationError):
        set_mode(context, SiteMode.LOCKDOWN, "x", context.clock.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        set_mode(context, SiteMode.LOCKDOWN, "x", context.clock.now().replace(tzinfo=None))
    assert show_mode(context).mode is SiteMode.NORMAL


def test_the_snapshot_follows_the_mode_and_its_end_time(context: ServiceContext) -> None:
    assert isinstance(context.clock, FakeClock)
    door_id = door(context)
    wanted = SnapshotRequest(door_id, "m", POLICY)
    normal = snapshot_version(context, wanted)
    set_mode(context, SiteMode.LOCKDOWN, "drill", context.clock.now() + timedelta(minutes=5))
    locked = snapshot_version(context, wanted)
    assert locked != normal
    assert build_snapshot(context, FakeSealer(), door_id, "m", POLICY).access.mode is (
        SiteMode.LOCKDOWN
    )
    context.clock.advance(minutes=5)
    after = build_snapshot(context, FakeSealer(), door_id, "m", POLICY)
    assert after.access.mode is SiteMode.NORMAL
    assert snapshot_version(context, wanted) != locked


def gate_on(context: ServiceContext, door_id: str) -> tuple[SnapshotHolder, LocalInputs]:
    upstream = StoreUpstream(lambda: context.store, FakeSealer(), context.clock, "m", POLICY)
    local = LocalInputs()
    holder = SnapshotHolder(upstream, "gate-1", door_id, local=local)
    holder.refresh()
    return holder, local


def test_free_passage_opens_the_door_at_once_and_keeps_it_open(context: ServiceContext) -> None:
    door_id = door(context)
    holder, _ = gate_on(context, door_id)
    lock, events = FakeDoor(), ListSink()
    keeper = OpenDoorKeeper(holder, lock, context.clock, events.put, "gate-1", hold_s=3.0)
    holder.on_new.append(keeper.apply)
    keeper.apply()
    assert lock.commands == []
    set_mode(context, SiteMode.FREE_PASSAGE, "moving day")
    holder.refresh()  # the sync thread's next poll
    assert [(c.action, c.duration_s) for c in lock.commands] == [("unlock", 3.0)]
    keeper.apply()  # the next tick renews it
    assert len(lock.commands) == 2
    set_mode(context, SiteMode.NORMAL, "done")
    holder.refresh()
    keeper.apply()
    assert len(lock.commands) == 2  # no renewal: the lock closes by itself
    assert events.events == []


def test_a_door_that_cannot_be_held_open_raises_one_alarm(context: ServiceContext) -> None:
    holder, _ = gate_on(context, door(context))
    set_mode(context, SiteMode.FREE_PASSAGE, "moving day")
    holder.refresh()
    events = ListSink()
    broken = FakeDoor(fail=ActuatorFailedError("no ack"))
    keeper = OpenDoorKeeper(holder, broken, context.clock, events.put, "gate-1")
    keeper.apply()
    keeper.apply()
    assert [e.kind for e in events.events] == [GateEventKind.ACTUATOR_FAILED]


def test_a_local_fire_input_opens_the_door_through_a_server_lockdown(
    context: ServiceContext,
) -> None:
    door_id = door(context)
    set_mode(context, SiteMode.LOCKDOWN, "intruder")
    holder, local = gate_on(context, door_id)
    lock, events = FakeDoor(), ListSink()
    keeper = OpenDoorKeeper(holder, lock, context.clock, events.put, "gate-1")
    local.on_change = keeper.apply
    changed = fire_event_recorder(events.put, context.clock, "gate-1", door_id)
    apply_fire_input(local, "osdp:pd0:input2", True, changed)
    assert holder().access.mode is SiteMode.FIRE
    assert [c.action for c in lock.commands] == ["unlock"]
    apply_fire_input(local, "osdp:pd0:input2", True, changed)  # no change: no event
    apply_fire_input(local, "osdp:pd0:input2", False, changed)
    assert holder().access.mode is SiteMode.LOCKDOWN
    assert [(e.kind, e.note) for e in events.events] == [
        (GateEventKind.FIRE_INPUT, "osdp:pd0:input2: active"),
        (GateEventKind.FIRE_INPUT, "osdp:pd0:input2: clear"),
    ]


@pytest.mark.parametrize(
    ("payload", "active"),
    [("active", True), ("ON", True), ("1\n", True), ("clear", False), ("off", False), ("?", None)],
)
def test_fire_payloads(payload: str, active: bool | None) -> None:
    assert parse_fire_payload(payload) is active


def test_a_door_held_open_by_renewed_unlocks_is_not_held_open() -> None:
    clock, alarms = FakeClock(), []
    monitor = ContactMonitor(clock, held_open_s=30, alarm=alarms.append)
    monitor.unlocked(3.0)
    monitor.contact("open")
    for _ in range(60):  # a minute of free passage, renewed every second
        clock.advance(seconds=1)
        monitor.unlocked(3.0)
        monitor.tick()
    assert alarms == []
    clock.advance(seconds=3 + 30.5)  # renewals stopped: 3 s unlock, then 30 s held
    monitor.tick()
    assert alarms == [GateEventKind.DOOR_HELD_OPEN]


def test_kiosk_doors_in_normal_mode_build_no_snapshot_each_tick(context: ServiceContext) -> None:
    """The tick needs the mode only: in normal mode it builds no snapshot (before, every
    tick after a change rebuilt every kiosk door's, work the kiosk refresher does)."""
    door_id = door(context)
    upstream = StoreUpstream(lambda: context.store, FakeSealer(), context.clock, "m", POLICY)
    lock, events = FakeDoor(), ListSink()
    keeper = KioskDoorsOpen(
        ActuatorPool(lambda target: lock, upstream), lambda: [door_id], context.clock, events.put
    )
    keeper.tick()
    places.add_door(
        context, "South", DoorKind.BUILDING, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    keeper.tick()
    assert _snapshot_records(context) == 0
    set_mode(context, SiteMode.FREE_PASSAGE, "moving day")
    keeper.tick()
    assert _snapshot_records(context) == 1
    assert [c.action for c in lock.commands] == ["unlock"]
    set_mode(context, SiteMode.NORMAL, "moved in")
    keeper.tick()
    assert (_snapshot_records(context), keeper.mode) == (1, SiteMode.NORMAL)
    assert len(lock.commands) == 1


def _snapshot_records(context: ServiceContext) -> int:
    with context.store.unit_of_work() as uow:
        return sum(1 for record in uow.audit.all() if record.action == "gate.snapshot")


def test_the_server_holds_its_kiosk_doors_open_in_free_passage(context: ServiceContext) -> None:
    door_id = door(context)
    upstream = StoreUpstream(lambda: context.store, FakeSealer(), context.clock, "m", POLICY)
    lock, events = FakeDoor(), ListSink()
    pool = ActuatorPool(lambda target: lock, upstream)
    keeper = KioskDoorsOpen(pool, lambda: [door_id], context.clock, events.put)
    keeper.tick()
    assert lock.commands == []
    set_mode(context, SiteMode.FREE_PASSAGE, "moving day")
    keeper.tick()
    keeper.tick()
    assert [c.action for c in lock.commands] == ["unlock", "unlock"]
    keeper = KioskDoorsOpen(pool, lambda: ["no-such-door"], context.clock, events.put)
    keeper.tick()  # logged and skipped
