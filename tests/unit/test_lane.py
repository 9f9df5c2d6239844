"""The lane profile on fakes: several faces decided at once, each paired at the line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from facegate.domain.faces import Box, FaceQuality, FivePointLandmarks, QualityVerdict
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.bench import bench_snapshot
from facegate.gate.lane import Crossing, LaneLoop
from facegate.gate.loop import LoopOptions, Outcome
from facegate.ports import Frame
from facegate.vision.detection import Detection
from facegate.vision.engine import Face
from fakes import FakeClock, FakeDoor, ListSink, unit_descriptor

RESIDENT, STRANGER = 7, 9
HEIGHT = 200


class Walkers:
    """A face engine whose frames are scripted: frame index to (person seed, box) pairs."""

    def __init__(self, script: dict[int, list[tuple[int, Box]]]) -> None:
        self.script = script
        self.detector, self.embedder = self, self
        self._frame = -1

    def detect(self, image: Any) -> list[Detection]:
        self._frame = int(image[0, 0, 0])
        return [Detection(box, 1.0, "hog") for _, box in self.script.get(self._frame, [])]

    def measure(self, image: Any, detections: Any, describe: bool = False) -> list[Face]:
        people = {box: seed for seed, box in self.script.get(self._frame, [])}
        points = FivePointLandmarks(((9.0, 5.0), (8.0, 5.0), (6.0, 5.0), (7.0, 5.0), (7.5, 7.0)))
        faces = []
        for detection in detections:
            seed = people[detection.box]
            chip = np.full((150, 150, 3), seed, np.uint8)
            quality = FaceQuality(detection.box.width, 25.0, 100.0, 120.0, 40.0, 0.0, 0.0)
            descriptor = unit_descriptor(seed) if describe else None
            verdict = QualityVerdict(True, ())
            faces.append(Face(detection, points, quality, verdict, chip, descriptor))
        return faces

    def embed(self, chips: Any) -> FloatArray:
        return np.stack([unit_descriptor(int(chip[0, 0, 0])) for chip in chips])


def frame(index: int) -> Frame:
    image = np.zeros((HEIGHT, 320, 3), np.uint8)
    image[0, 0, 0] = index
    return Frame(image, index, index / 25.0)


def walking(left: int, start: int, frames: int, grow: int = 6) -> dict[int, Box]:
    """A face at ``left`` from frame ``start``: 30 px tall, growing ``grow`` px a frame."""
    boxes = {}
    for step in range(frames):
        size = 30 + grow * step
        top = 10 + 2 * step
        boxes[start + step] = Box(left, top, left + size, top + size)
    return boxes


def lane(engine: Walkers) -> tuple[LaneLoop, FakeDoor, list[Crossing]]:
    crossings: list[Crossing] = []
    held = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    options = LoopOptions("lane-t", 1.0, 0.6, LivenessSchedule(), 10.0, leave_after_s=0.0)
    door = FakeDoor()
    loop = LaneLoop(
        engine,  # type: ignore[arg-type]
        lambda: held,
        door,
        ListSink(),
        None,
        FakeClock(),
        options,
        line_fraction=0.5,
        on_crossing=crossings.append,
    )
    return loop, door, crossings


def script_of(*people: tuple[int, dict[int, Box]]) -> dict[int, list[tuple[int, Box]]]:
    script: dict[int, list[tuple[int, Box]]] = {}
    for seed, boxes in people:
        for index, box in boxes.items():
            script.setdefault(index, []).append((seed, box))
    return script


def test_two_people_in_view_are_each_decided_and_each_paired_with_their_own_decision() -> None:
    first = walking(10, 0, 16)  # reaches the line (100 px) at its 12th frame
    second = walking(200, 3, 16)
    loop, door, crossings = lane(Walkers(script_of((STRANGER, first), (RESIDENT, second))))
    outcomes: list[Outcome] = []
    for index in range(20):
        outcomes.extend(loop.process(frame(index)))
    # Both decided on the first frame each was usable (no multiple_faces), in arrival order.
    assert [(o.frame_index, o.decision.reason) for o in outcomes] == [
        (0, Reason.UNKNOWN_FACE),
        (3, Reason.GRANTED),
    ]
    assert len(door.commands) == 1  # one passage credit, for the resident only
    assert [(c.frame_index, c.passes) for c in crossings] == [(12, False), (15, True)]
    assert crossings[0].decision is not None
    assert crossings[0].decision.reason is Reason.UNKNOWN_FACE
    assert crossings[1].decision is not None
    assert crossings[1].decision.person_id == "bench-person"
    assert crossings[1].usable_time_s == pytest.approx(3 / 25.0)


def test_a_face_never_usable_is_refused_low_quality_at_the_line_and_finds_it_shut() -> None:
    # Only ever seen from 90 px: it is at the line (100 px) on its second frame, and both
    # frames are below the quality gate.
    boxes = {0: Box(10, 10, 100, 100), 1: Box(10, 10, 110, 110)}
    engine = Walkers(script_of((RESIDENT, boxes)))
    loop, door, crossings = lane(engine)
    engine.measure = _poor_until(engine.measure, 1)  # type: ignore[method-assign]
    outcomes = loop.process(frame(0)) + loop.process(frame(1))
    assert [(o.frame_index, o.decision.reason) for o in outcomes] == [(1, Reason.LOW_QUALITY)]
    assert [c.frame_index for c in crossings] == [1]
    assert crossings[0].decision is not None
    assert crossings[0].decision.reason is Reason.LOW_QUALITY
    assert not crossings[0].passes
    assert door.commands == []


def test_a_walker_too_small_to_use_at_first_is_not_refused_low_quality_on_the_way() -> None:
    # Poor for its first 20 frames (0.8 s, past the door's 0.6 s decide_after_s: far
    # away, too small), usable from frame 20, at the line at frame 35: one grant, no
    # low_quality refusal before it.
    engine = Walkers(script_of((RESIDENT, walking(10, 0, 40, grow=2))))
    loop, _, crossings = lane(engine)
    engine.measure = _poor_until(engine.measure, 19)  # type: ignore[method-assign]
    outcomes: list[Outcome] = []
    for index in range(40):
        outcomes.extend(loop.process(frame(index)))
    assert [(o.frame_index, o.decision.reason) for o in outcomes] == [(20, Reason.GRANTED)]
    assert [(c.frame_index, c.passes) for c in crossings] == [(35, True)]


def _poor_until(measure: Any, last: int) -> Any:
    """``measure``, with every face below the quality gate up to frame ``last``."""

    def poor(image: Any, detections: Any, describe: bool = False) -> list[Face]:
        faces: list[Face] = measure(image, detections, describe)
        if int(image[0, 0, 0]) <= last:
            return [
                Face(f.detection, f.landmarks, f.quality, QualityVerdict(False, ("blur",)), f.chip)
                for f in faces
            ]
        return faces

    return poor


def test_a_line_outside_the_picture_is_refused() -> None:
    with pytest.raises(ValueError, match="line fraction"):
        LaneLoop(
            Walkers({}),  # type: ignore[arg-type]
            lambda: bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0)),
            FakeDoor(),
            ListSink(),
            None,
            FakeClock(),
            LoopOptions("lane-t", 1.0, 0.6, LivenessSchedule(), 10.0),
            line_fraction=1.5,
        )


def test_the_lane_profile_builds_a_lane_loop_and_a_bad_profile_is_refused(
    tmp_path: Any,
) -> None:
    from dataclasses import replace

    from typer.testing import CliRunner

    from facegate.bootstrap_gate import build_loop
    from facegate.cli import app
    from facegate.cli.gate import _with_profile
    from facegate.config import Settings
    from facegate.gate.loop import GateLoop

    settings = Settings(data_dir=tmp_path)
    settings = settings.model_copy(update={"gate": replace(settings.gate, liveness="none")})
    lane_settings = _with_profile(settings, "lane")
    held = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    parts = (lambda: held, FakeDoor(), ListSink(), FakeClock())
    built = build_loop(lane_settings, Walkers({}), *parts)  # type: ignore[arg-type]
    assert isinstance(built, LaneLoop)
    assert built.line_fraction == lane_settings.gate.lane_line_fraction
    door = build_loop(settings, Walkers({}), *parts)  # type: ignore[arg-type]
    assert type(door) is GateLoop
    answer = CliRunner().invoke(
        app, ["gate", "--door", "d", "--video", str(tmp_path / "x.mp4"), "--profile", "metro"]
    )
    assert answer.exit_code == 3
    assert "door or lane" in answer.output


def watched_lane(engine: Walkers) -> tuple[LaneLoop, ListSink, FakeClock]:
    held = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    options = LoopOptions("lane-t", 1.0, 0.6, LivenessSchedule(), 10.0, leave_after_s=0.0)
    sink, clock = ListSink(), FakeClock()
    loop = LaneLoop(
        engine,  # type: ignore[arg-type]
        lambda: held,
        FakeDoor(),
        sink,
        None,
        clock,
        options,
        line_fraction=0.5,
    )
    loop.watch_tailgating(window_s=4.0)
    return loop, sink, clock


def tailgating(sink: ListSink) -> list[str]:
    from facegate.domain.gate import GateEventKind

    return [e.note for e in sink.events if e.kind is GateEventKind.TAILGATING]


def run_frames(loop: LaneLoop, clock: FakeClock, frames: int) -> None:
    for index in range(frames):
        loop.process(frame(index))
        clock.advance(seconds=0.04)


def test_a_stranger_walking_through_on_a_residents_grant_is_tailgating_at_once() -> None:
    resident = walking(10, 0, 16)  # granted at frame 0, at the line at frame 12
    stranger = walking(200, 2, 16)  # refused, but at the line at frame 14 while it is open
    loop, sink, clock = watched_lane(Walkers(script_of((RESIDENT, resident), (STRANGER, stranger))))
    run_frames(loop, clock, 15)
    assert tailgating(sink) == ["2 crossed, 1 granted"]


def test_one_crossing_per_grant_is_no_tailgating() -> None:
    first, second = walking(10, 0, 16), walking(200, 20, 16)
    loop, sink, clock = watched_lane(Walkers(script_of((RESIDENT, first), (RESIDENT, second))))
    run_frames(loop, clock, 40)
    assert [c.passes for c in loop.crossings] == [True, True]
    assert tailgating(sink) == []


def test_a_refused_person_at_the_shut_barrier_is_no_tailgating() -> None:
    loop, sink, clock = watched_lane(Walkers(script_of((STRANGER, walking(10, 0, 16)))))
    run_frames(loop, clock, 20)
    assert [c.passes for c in loop.crossings] == [False]
    assert tailgating(sink) == []


def test_the_lane_keeps_no_ended_tracks() -> None:
    loop, _, _ = lane(Walkers(script_of((RESIDENT, walking(10, 0, 16)))))
    for index in range(40):  # the face left the view 24 frames ago
        loop.process(frame(index))
    assert loop.perception.tracker.ended == []


def test_a_face_that_leaves_the_view_just_short_of_the_line_crossed_it_where_last_seen() -> None:
    # Its box peaks at 90 px (the line is 100 px: a box may measure a face 10 % small) and
    # then it is gone (walked through under the camera): a crossing, with its own grant.
    through = walking(10, 0, 11)  # 30 ... 90 px, last seen at frame 10
    loop, _, crossings = lane(Walkers(script_of((RESIDENT, through))))
    for index in range(25):
        loop.process(frame(index))
    assert [(c.frame_index, c.passes, c.box.height) for c in crossings] == [(10, True, 90)]
    assert crossings[0].left_view
    assert crossings[0].time_s == pytest.approx(10 / 25.0)


def test_a_face_lost_far_from_the_line_or_seen_at_it_is_no_extra_crossing() -> None:
    # One face lost at 66 px (a head turned away far off), one that reached the line and
    # then left: one crossing, at the line.
    far, near = walking(10, 0, 7), walking(200, 0, 16)
    loop, _, crossings = lane(Walkers(script_of((RESIDENT, far), (STRANGER, near))))
    for index in range(40):
        loop.process(frame(index))
    assert [(c.frame_index, c.passes) for c in crossings] == [(12, False)]
    assert not crossings[0].left_view


def test_a_face_near_the_line_size_that_never_came_closer_is_no_crossing_when_lost() -> None:
    # 90 px (the line is 100 px) walking across the view, then gone; and a box seen once
    # at 95 px (a detector's flicker): neither came towards the camera.
    across = {index: Box(10 + 8 * index, 20, 100 + 8 * index, 110) for index in range(6)}
    flicker = {3: Box(200, 20, 295, 115)}
    loop, _, crossings = lane(Walkers(script_of((RESIDENT, across), (STRANGER, flicker))))
    for index in range(30):
        loop.process(frame(index))
    assert crossings == []
