"""The decision core with fakes at its ports: alarms, failing closed, one unlock per presence."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from facegate.domain.access import AlertEntry
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.gate import GateEventKind, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.bench import bench_snapshot
from facegate.gate.contact import ContactMonitor
from facegate.gate.controller import DoorController
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.gate.osdp_door import OsdpDoor, OsdpDoorWiring
from facegate.gate.runner import SyncThread
from facegate.services.alarms import AlarmFeed, AlarmService, SilentGateWatch
from fakes import FakeClock, FakeDoor, FakeFaceEngine, ListSink, fake_frame, unit_descriptor
from support import WatchedGuard, wait_for

RESIDENT = 7
STRANGER = 9


def snapshot() -> GateSnapshot:
    return bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))


def make_loop(
    door: FakeDoor | None = None,
    current: GateSnapshot | None = None,
    engine: FakeFaceEngine | None = None,
) -> tuple[GateLoop, FakeDoor, ListSink, FakeClock]:
    door, sink, clock = door or FakeDoor(), ListSink(), FakeClock()
    held = current or snapshot()
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(engine or FakeFaceEngine(), lambda: held, door, sink, None, clock, options)
    return loop, door, sink, clock


def run(loop: GateLoop, frames: list[object]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for frame in frames:
        outcomes.extend(loop.process(frame))  # type: ignore[arg-type]
    return outcomes


def test_a_resident_is_granted_once_and_a_stranger_refused() -> None:
    loop, door, sink, _ = make_loop()
    outcomes = run(loop, [fake_frame(i, RESIDENT) for i in range(10)])
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert len(door.commands) == 1
    outcomes = run(loop, [fake_frame(i, 0) for i in range(10, 30)])
    outcomes = run(loop, [fake_frame(i, STRANGER) for i in range(30, 40)])
    assert [o.decision.reason for o in outcomes] == [Reason.UNKNOWN_FACE]
    assert [e.reason for e in sink.events] == [Reason.GRANTED, Reason.UNKNOWN_FACE]


def test_one_descriptor_per_track_while_the_face_stays_in_view() -> None:
    engine = FakeFaceEngine()
    loop, _, _, _ = make_loop(engine=engine)
    run(loop, [fake_frame(i, RESIDENT) for i in range(50)])
    assert engine.embedded == 1


def test_a_person_standing_in_view_is_unlocked_once() -> None:
    """Poor frames, a lost track and a new one: one unlock for one presence."""
    loop, door, sink, _ = make_loop()
    frames = [fake_frame(i, RESIDENT) for i in range(5)]
    frames += [fake_frame(i, RESIDENT, good=i % 2 == 0) for i in range(5, 40)]
    run(loop, frames)
    assert len(door.commands) == 1
    # The detector loses her for half a second (a new track), then finds her again.
    run(loop, [fake_frame(i, 0) for i in range(40, 52)])
    run(loop, [fake_frame(i, RESIDENT) for i in range(52, 80)])
    assert len(door.commands) == 1
    assert [e.reason for e in sink.events] == [Reason.GRANTED]


def test_she_is_unlocked_again_after_she_left_or_the_door_cycled() -> None:
    loop, door, _, clock = make_loop()
    run(loop, [fake_frame(i, RESIDENT) for i in range(10)])
    run(loop, [fake_frame(i, 0) for i in range(10, 22)])
    clock.advance(seconds=3)
    run(loop, [fake_frame(i, RESIDENT) for i in range(22, 30)])
    assert len(door.commands) == 2
    monitor = ContactMonitor(clock, 30.0, lambda kind: None, loop.controller.door_cycled)
    monitor.unlocked(3.0)
    monitor.contact("open")
    monitor.contact("closed")
    run(loop, [fake_frame(i, 0) for i in range(30, 42)])
    run(loop, [fake_frame(i, RESIDENT) for i in range(42, 50)])
    assert len(door.commands) == 3
    # Still in view (one track) when the door opens and closes again: unlocked again.
    monitor.unlocked(3.0)
    monitor.contact("open")
    monitor.contact("closed")
    run(loop, [fake_frame(i, RESIDENT) for i in range(50, 60)])
    assert len(door.commands) == 4


def test_an_alert_list_hit_is_a_deny_and_an_alarm() -> None:
    base = snapshot()
    now = FakeClock().now()
    entry = AlertEntry(
        "a1", "bench-person", "banned", "court order 1", "admin", now, now + timedelta(days=1)
    )
    listed = replace(base, access=replace(base.access, alerts=(entry,)))
    loop, door, sink, _ = make_loop(current=listed)
    outcomes = run(loop, [fake_frame(i, RESIDENT) for i in range(10)])
    assert [o.decision.reason for o in outcomes] == [Reason.ALERT_LIST]
    assert door.commands == []
    alarms = [e for e in sink.events if e.kind is GateEventKind.ALERT_LIST]
    assert [(a.person_id, a.door_id) for a in alarms] == [("bench-person", "bench-door")]
    feed = AlarmFeed()
    service = AlarmService([], feed)
    assert service.relay(sink.events) == 1
    assert service.relay(sink.events) == 0  # redelivered: raised once
    assert [p["type"] for _, p in feed.after(0)] == ["alert_list"]


def test_a_failed_lock_is_actuator_failed_and_an_alarm() -> None:
    loop, _, sink, _ = make_loop(door=FakeDoor(ActuatorFailedError("no ack")))
    outcomes = run(loop, [fake_frame(i, RESIDENT) for i in range(5)])
    assert [o.decision.reason for o in outcomes] == [Reason.ACTUATOR_FAILED]
    kinds = [e.kind for e in sink.events]
    assert kinds == [GateEventKind.DECISION, GateEventKind.ACTUATOR_FAILED]


def test_an_exception_in_a_stage_is_an_internal_error_deny_with_its_event() -> None:
    loop, door, sink, _ = make_loop()
    frames = [fake_frame(i, RESIDENT, fail=True) for i in range(3)]
    outcomes = run(loop, frames)
    assert [(o.decision.granted, o.decision.reason) for o in outcomes] == [
        (False, Reason.INTERNAL_ERROR)
    ]
    assert [(e.reason, e.door_id) for e in sink.events] == [(Reason.INTERNAL_ERROR, "bench-door")]
    assert "detector crashed" in sink.events[0].note
    assert door.commands == []
    # The loop goes on: the next good frames are decided.
    outcomes = run(loop, [fake_frame(i, RESIDENT) for i in range(3, 10)])
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]


def test_an_actuator_that_raises_something_else_fails_closed() -> None:
    loop, _, sink, _ = make_loop(door=FakeDoor(RuntimeError("relay driver bug")))
    outcomes = run(loop, [fake_frame(i, RESIDENT) for i in range(5)])
    assert [o.decision.reason for o in outcomes] == [Reason.INTERNAL_ERROR]
    assert [e.reason for e in sink.events] == [Reason.INTERNAL_ERROR]


def test_a_credential_through_a_failing_snapshot_fails_closed() -> None:
    def broken() -> GateSnapshot:
        raise RuntimeError("snapshot corrupt")

    sink = ListSink()
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0).controller()
    controller = DoorController(broken, FakeDoor(), sink, FakeClock(), options)
    try:
        outcome = controller.decide_credential("card", "C-1")
    except RuntimeError as error:
        outcome = controller.fail_closed(error)
    assert outcome.decision.reason is Reason.INTERNAL_ERROR
    assert [e.reason for e in sink.events] == [Reason.INTERNAL_ERROR]


class FlakyHolder:
    """A snapshot holder whose first refresh raises an unexpected exception."""

    upstream = object()

    def __init__(self) -> None:
        self.calls = 0
        self.worked = threading.Event()

    def refresh(self) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("bug in a sync round")
        self.worked.set()
        return True


class NullOutbox:
    def flush(self, upstream: object) -> int:
        return 0


def test_an_exception_in_a_sync_round_does_not_end_syncing() -> None:
    holder = FlakyHolder()
    sync = SyncThread(holder, NullOutbox(), 0.02)  # type: ignore[arg-type]
    sync.start()
    try:
        assert holder.worked.wait(5.0), "syncing died after the first failed round"
        assert sync.is_alive()
        assert sync.failures == 1
    finally:
        sync.stop()
        sync.join(2.0)


def test_the_alarm_channels_get_each_alarm_and_a_failing_one_does_not_stop_the_rest() -> None:
    got: list[dict[str, str]] = []

    def broken(payload: dict[str, str]) -> None:
        raise OSError("webhook down")

    loop, _, sink, _ = make_loop(door=FakeDoor(ActuatorFailedError("no ack")))
    run(loop, [fake_frame(i, RESIDENT) for i in range(5)])
    service = AlarmService([broken, got.append])
    service.relay(sink.events)
    assert service.drain(5.0)
    assert [p["type"] for p in got] == ["actuator_failed"]
    service.close()


def test_a_gate_gone_silent_is_one_alarm_until_it_speaks_again() -> None:
    silent: list[tuple[str, str]] = [("gate-a", "door-a")]
    feed = AlarmFeed()
    watch = SilentGateWatch(lambda: list(silent), AlarmService([], feed), FakeClock())
    assert watch.check() == ["gate-a"]
    assert watch.check() == []
    silent.clear()
    assert watch.check() == []
    silent.append(("gate-a", "door-a"))
    assert watch.check() == ["gate-a"]
    raised = [(p["type"], p["gate_id"], p["door_id"]) for _, p in feed.after(0)]
    assert raised == [("gate_silent", "gate-a", "door-a")] * 2


class HeldDoor(FakeDoor):
    """Its first command waits inside ``send`` until ``go``; it notes overlapping commands."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.go, self.overlapped = threading.Event(), threading.Event(), False
        self._active, self._count = 0, threading.Lock()

    def send(self, command: object) -> None:
        with self._count:
            self._active += 1
            self.overlapped = self.overlapped or self._active > 1
            first = not self.inside.is_set()
            self.inside.set()
        try:
            if first:
                assert self.go.wait(15.0), "the test never let the first command go on"
            super().send(command)
        finally:
            with self._count:
                self._active -= 1


def test_an_edge_gates_card_reader_waits_for_the_cameras_decision_at_that_door() -> None:
    """The reader's thread decides under the controller's guard, as the camera's frames do.

    Before: the OSDP reader's card went into the controller while the camera's grant was
    still being actuated (its passages and presences not yet written); both reached the
    door at once. The interleaving is made visible, not timed: the first command waits
    for the test, and the guard says when the card thread has to wait for it.
    """
    door = HeldDoor()
    base = snapshot()
    carded = replace(base, access=replace(base.access, cards={"C-1": "bench-person"}))
    loop, _, sink, clock = make_loop(door, carded)
    guard = WatchedGuard()
    loop.controller.guard = guard  # type: ignore[assignment]
    reader = OsdpDoor(loop.controller, OsdpDoorWiring(1), clock, sink.put, ("gate-t", "bench-door"))
    framing = threading.Thread(target=loop.process, args=(fake_frame(0, RESIDENT),))
    carding = threading.Thread(target=reader.card, args=(1, "C-1"))
    framing.start()
    try:
        assert door.inside.wait(15.0)  # the face's grant is at the door
        carding.start()
        assert wait_for(lambda: guard.contended.is_set() or door.overlapped)
        assert not door.overlapped, "the card was decided inside the face's decision"
    finally:
        door.go.set()
        framing.join(15.0)
        if carding.ident is not None:  # started
            carding.join(15.0)
    assert [e.reason for e in sink.events] == [Reason.GRANTED, Reason.GRANTED]
    assert len(door.commands) == 2
