"""Tailgating: more faces crossed the door line than the door granted."""

from __future__ import annotations

from datetime import timedelta

from facegate.domain.gate import GateEventKind
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import GateLoop, LoopOptions
from facegate.gate.tailgating import TailgateWatch
from fakes import FakeClock, FakeDoor, FakeFaceEngine, ListSink, fake_frame, unit_descriptor

RESIDENT, STRANGER = 7, 9


def loop_with_watch(line_face_px: int) -> tuple[GateLoop, ListSink, FakeClock]:
    snapshot = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    sink, clock = ListSink(), FakeClock()
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(FakeFaceEngine(), lambda: snapshot, FakeDoor(), sink, None, clock, options)
    loop.watch_tailgating(line_face_px, window_s=6.0)
    return loop, sink, clock


def walk(loop: GateLoop, person: int, start: int) -> int:
    """A person comes into view, then leaves it (their track ends); the next frame index."""
    for index in range(start, start + 10):
        loop.process(fake_frame(index, person))
    for index in range(start + 10, start + 25):
        loop.process(fake_frame(index, 0))
    return start + 25


def alarms(sink: ListSink) -> list[tuple[GateEventKind, str]]:
    return [(e.kind, e.note) for e in sink.events if e.kind is GateEventKind.TAILGATING]


def test_a_stranger_following_a_resident_through_is_tailgating() -> None:
    loop, sink, clock = loop_with_watch(line_face_px=60)  # the fake face is 80 px tall
    after = walk(loop, STRANGER, walk(loop, RESIDENT, 0))
    assert alarms(sink) == []  # the opening lasts until 6 s after its grant
    clock.advance(seconds=7)
    loop.process(fake_frame(after, 0))
    assert alarms(sink) == [(GateEventKind.TAILGATING, "2 crossed, 1 granted")]


def test_one_person_per_grant_is_no_tailgating() -> None:
    loop, sink, clock = loop_with_watch(line_face_px=60)
    after = walk(loop, RESIDENT, 0)
    clock.advance(seconds=7)
    loop.process(fake_frame(after, 0))
    assert alarms(sink) == []


def test_faces_that_never_came_up_to_the_door_do_not_count() -> None:
    loop, sink, clock = loop_with_watch(line_face_px=100)
    after = walk(loop, STRANGER, walk(loop, RESIDENT, 0))
    clock.advance(seconds=7)
    loop.process(fake_frame(after, 0))
    assert alarms(sink) == []


def test_a_face_at_the_shut_door_does_not_count_and_openings_are_apart() -> None:
    clock, raised = FakeClock(), []
    watch = TailgateWatch(60, 6.0, raised.append)
    watch.track_ended(80, clock.now())  # refused, turned away: the door stayed shut
    watch.granted(clock.now() + timedelta(seconds=1))
    watch.track_ended(80, clock.now() + timedelta(seconds=2))
    watch.check(clock.now() + timedelta(seconds=8))
    assert raised == []
    watch.granted(clock.now() + timedelta(seconds=20))
    for second in (21, 22):
        watch.track_ended(80, clock.now() + timedelta(seconds=second))
    watch.check(clock.now() + timedelta(seconds=30))
    assert raised == ["2 crossed, 1 granted"]
