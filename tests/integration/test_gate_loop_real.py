"""The gate's frame loop on real video: grant, stranger, spoof, failed lock, camera, crowd."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facegate.domain.errors import CameraFailedError
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.bench import GateRun, bench_snapshot, summarize
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.runner import run_source
from facegate.ports import Frame, LivenessCheck
from facegate.timing import StageRecorder, recording
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.motion import MotionSettings
from facegate.vision.liveness.synthetic import planar_attack
from fakes import FakeClock
from gate_support import (
    RefusingLiveness,
    ScriptedLiveness,
    ann_descriptors,
    ann_frames,
    gate_engine,
    stranger_frames,
)

__all__ = ["ann_descriptors", "ann_frames", "gate_engine", "stranger_frames"]


def make_loop(
    engine: FaceEngine,
    descriptors: list[FloatArray],
    tmp_path: Path,
    door: SimulatedDoor,
    liveness: LivenessCheck | None = None,
) -> tuple[GateLoop, SqliteOutbox]:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    snapshot = bench_snapshot(descriptors, MatchPolicy(0.57, 0.0))
    # Checks on the 6th and 12th frame of a presentation at 25 fps (0.2 s, 0.44 s).
    schedule = LivenessSchedule(window_s=0.2, step_s=0.24, max_s=0.44, min_frames=6)
    options = LoopOptions("gate-t", 3.0, 0.6, schedule, 10.0)
    loop = GateLoop(engine, lambda: snapshot, door, outbox, liveness, FakeClock(), options)
    return loop, outbox


def run_frames(loop: GateLoop, frames: list[Frame]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for frame in frames:
        outcomes.extend(loop.process(frame))
    return outcomes


def test_enrolled_person_is_granted_once(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door = SimulatedDoor()
    loop, outbox = make_loop(gate_engine, ann_descriptors, tmp_path, door)
    outcomes = run_frames(loop, ann_frames)
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert outcomes[0].decision.person_id == "bench-person"
    assert [c.action for c in door.commands] == ["unlock"]
    assert [e.reason for e in outbox.pending()] == [Reason.GRANTED]


def test_stranger_is_unknown_and_the_door_stays_shut(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    stranger_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door = SimulatedDoor()
    loop, outbox = make_loop(gate_engine, ann_descriptors, tmp_path, door)
    outcomes = run_frames(loop, stranger_frames)
    assert {o.decision.reason for o in outcomes} == {Reason.UNKNOWN_FACE}
    assert door.commands == []
    assert outbox.pending_count() == len(outcomes) >= 1


def test_spoof_suspected_never_opens(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door, liveness = SimulatedDoor(), RefusingLiveness()
    loop, _ = make_loop(gate_engine, ann_descriptors, tmp_path, door, liveness)
    outcomes = run_frames(loop, ann_frames)
    assert liveness.calls >= 1
    assert [o.decision.reason for o in outcomes] == [Reason.SPOOF_SUSPECTED]
    assert door.commands == []


def test_a_still_face_waits_for_a_live_window_before_it_is_decided(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door, liveness = SimulatedDoor(), ScriptedLiveness([False])
    loop, _ = make_loop(gate_engine, ann_descriptors, tmp_path, door, liveness)
    outcomes = run_frames(loop, ann_frames)
    assert liveness.calls == 2
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert outcomes[0].frame_index - ann_frames[0].index + 1 == 12
    assert len(door.commands) == 1


def test_a_refused_presentation_is_followed_by_a_new_one(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door, liveness = SimulatedDoor(), ScriptedLiveness([False, False])
    loop, _ = make_loop(gate_engine, ann_descriptors, tmp_path, door, liveness)
    outcomes = run_frames(loop, ann_frames)
    assert [o.decision.reason for o in outcomes] == [Reason.SPOOF_SUSPECTED, Reason.GRANTED]
    assert [o.frame_index - ann_frames[0].index + 1 for o in outcomes] == [12, 18]
    assert len(door.commands) == 1


def test_unacknowledged_lock_is_actuator_failed(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    loop, outbox = make_loop(gate_engine, ann_descriptors, tmp_path, SimulatedDoor(fail=True))
    outcomes = run_frames(loop, ann_frames[:10])
    assert outcomes[0].decision.reason is Reason.ACTUATOR_FAILED
    assert not outcomes[0].decision.granted
    events = outbox.pending()
    assert events[0].reason is Reason.ACTUATOR_FAILED
    assert not events[0].granted


class DyingSource:
    """Gives ``frames``, then fails ``failures`` reads, then ends."""

    description = "dying test camera"

    def __init__(self, frames: list[Frame], failures: int) -> None:
        self.frames, self.failures = list(frames), failures

    def read(self) -> Frame | None:
        if self.frames:
            return self.frames.pop(0)
        if self.failures:
            self.failures -= 1
            raise CameraFailedError("no frame from dying test camera for 5 s")
        return None

    def close(self) -> None:
        self.frames = []


def test_a_dying_camera_is_one_camera_failed_event(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    loop, outbox = make_loop(gate_engine, ann_descriptors, tmp_path, SimulatedDoor())
    seen: list[Outcome] = []
    frames = run_source(loop, DyingSource(ann_frames[:3], failures=4), seen.append)
    assert frames == 3
    reasons = [o.decision.reason for o in seen]
    assert reasons.count(Reason.CAMERA_FAILED) == 1
    camera = next(e for e in outbox.pending() if e.reason is Reason.CAMERA_FAILED)
    assert "dying test camera" in camera.note


def test_two_faces_side_by_side_are_multiple_faces(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door = SimulatedDoor()
    loop, _ = make_loop(gate_engine, ann_descriptors, tmp_path, door)
    pairs = []
    for ann, stranger in zip(ann_frames[:5], stranger_frames[:5], strict=True):
        # The stranger's face (311 px of 512) scaled to about Ann's (109 px of 300).
        other = np.zeros((ann.image.shape[0], 180, 3), np.uint8)
        other[60:240] = cv2.resize(stranger.image, (180, 180), interpolation=cv2.INTER_AREA)
        pairs.append(Frame(np.ascontiguousarray(np.hstack([ann.image, other])), ann.index, 0.0))
    outcomes = run_frames(loop, pairs)
    assert [o.decision.reason for o in outcomes] == [Reason.MULTIPLE_FACES]
    assert door.commands == []


def test_a_grant_in_view_is_withdrawn_when_the_site_data_changes(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from facegate.domain.people import Role
    from facegate.domain.policy import PersonAccess

    door = SimulatedDoor()
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    current = [bench_snapshot(ann_descriptors, MatchPolicy(0.57, 0.0))]
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(gate_engine, lambda: current[0], door, outbox, None, FakeClock(), options)
    half = len(ann_frames) // 2
    assert [o.decision.reason for o in run_frames(loop, ann_frames[:half])] == [Reason.GRANTED]

    withdrawn = {"bench-person": PersonAccess(Role.RESIDENT, face_consent=False)}
    access = replace(current[0].access, people=withdrawn)
    current[0] = replace(current[0], version="bench-2", access=access)
    run_frames(loop, ann_frames[half:])

    decisions = [t.decision for t in loop.tracker.tracks.values() if t.decision is not None]
    assert decisions
    assert not any(d.granted for d in decisions)
    assert [c.action for c in door.commands] == ["unlock"]


def _motion_loop(
    engine: FaceEngine, descriptors: list[FloatArray], tmp_path: Path, door: SimulatedDoor
) -> GateLoop:
    """A loop with the shipped multi-frame check and schedule (FaceMesh included)."""
    check = FusedLivenessCheck(motion=MotionSettings(), mesh=FaceMeshModel())
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    snapshot = bench_snapshot(descriptors, MatchPolicy(0.57, 0.0))
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    return GateLoop(engine, lambda: snapshot, door, outbox, check, FakeClock(), options)


def test_the_resident_passes_the_real_motion_check_but_her_moved_photo_does_not(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door = SimulatedDoor()
    outcomes = run_frames(_motion_loop(gate_engine, ann_descriptors, tmp_path, door), ann_frames)
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert len(door.commands) == 1
    # Her own photo (a frame of the same video), printed and moved in front of the camera.
    photo = ann_frames[0].image
    face = gate_engine.primary_face(photo, describe=False)
    assert face is not None
    attack = planar_attack(photo, face.box, face.landmarks, 76, np.random.default_rng(7), moves=2)
    frames = [Frame(f.image, i, i / 25.0) for i, f in enumerate(attack)]
    door, second = SimulatedDoor(), tmp_path / "second"
    second.mkdir()
    outcomes = run_frames(_motion_loop(gate_engine, ann_descriptors, second, door), frames)
    assert [o.decision.reason for o in outcomes] == [Reason.SPOOF_SUSPECTED]
    assert outcomes[0].frame_index == 75  # 3 s on the frames' clock
    assert door.commands == []


def test_she_standing_in_view_is_unlocked_once_and_described_once_or_so(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    door = SimulatedDoor()
    loop, outbox = make_loop(gate_engine, ann_descriptors, tmp_path, door)
    blank = np.zeros_like(ann_frames[0].image)
    frames = list(ann_frames)
    frames += [Frame(blank, 0, 0.0)] * 12  # the detector loses her for half a second
    frames += list(ann_frames) + list(reversed(ann_frames))
    timed = [Frame(f.image, i, i / 25.0) for i, f in enumerate(frames)]
    outcomes = run_frames(loop, timed)
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert len(door.commands) == 1
    assert [e.reason for e in outbox.pending()] == [Reason.GRANTED]
    # Two tracks of 30 and 60 frames: one descriptor each, a few more for better faces.
    assert loop.perception.embeddings <= 6


def test_an_alert_list_hit_at_the_door_is_an_alarm(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from facegate.domain.access import AlertEntry
    from facegate.domain.gate import GateEventKind

    door = SimulatedDoor()
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    base = bench_snapshot(ann_descriptors, MatchPolicy(0.57, 0.0))
    now = FakeClock().now()
    entry = AlertEntry("a", "bench-person", "banned", "order 7", "admin", now, now + timedelta(1))
    listed = replace(base, access=replace(base.access, alerts=(entry,)))
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(gate_engine, lambda: listed, door, outbox, None, FakeClock(), options)
    outcomes = run_frames(loop, ann_frames)
    assert [o.decision.reason for o in outcomes] == [Reason.ALERT_LIST]
    assert door.commands == []
    kinds = [(e.kind, e.person_id) for e in outbox.pending()]
    assert kinds == [
        (GateEventKind.DECISION, "bench-person"),
        (GateEventKind.ALERT_LIST, "bench-person"),
    ]


def test_the_bench_timer_sees_every_stage_of_a_grant(
    gate_engine: FaceEngine,
    ann_descriptors: list[FloatArray],
    ann_frames: list[Frame],
    tmp_path: Path,
) -> None:
    """The stage spans are on the real path: a granted run records each stage it passes."""
    door = SimulatedDoor()
    loop, _ = make_loop(gate_engine, ann_descriptors, tmp_path, door, ScriptedLiveness([True]))
    outcomes: list[Outcome] = []
    with recording(StageRecorder()) as recorder:
        for frame in ann_frames:
            outcomes.extend(loop.process(frame))
            recorder.end_frame()
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    stages = summarize(GateRun(outcomes, 1.0, 1.0, recorder.frames))["stages"]
    ran = {name for name, row in stages.items() if row["frames"]}
    assert ran == {
        "detect",
        "track",
        "landmarks",
        "quality",
        "liveness",
        "embed",
        "search",
        "policy",
        "actuate",
    }
    assert stages["detect"]["frames"] == len(ann_frames)
    assert stages["actuate"]["frames"] == 1
