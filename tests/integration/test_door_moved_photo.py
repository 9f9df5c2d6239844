"""The door-opening case of issue 13: a resident's photo moved in front of the door.

A photo of an enrolled resident that is not one of her enrolment photos (LFW), printed
and moved with rotation and zoom in front of the camera (the attack suite's renderer,
fixed seeds chosen before the test was run), goes through the real gate path: the real
engine detects and recognises her on every frame, the real multi-frame cue (with
FaceMesh) watches. Without a liveness check the door opens (the attack is a real one);
with the shipped ``motion`` check it never does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.ports import Frame, LivenessCheck
from facegate.vision.engine import FaceEngine
from facegate.vision.images import load_image
from facegate.vision.liveness.attack_suite import ClipSpec, render, split
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.motion import MotionSettings
from facegate.vision.liveness.synthetic import Camera
from fakes import FakeClock
from gate_support import gate_engine

__all__ = ["gate_engine"]

RESIDENT = "Donald_Rumsfeld"
ENROLMENT = ("_0001.jpg", "_0002.jpg", "_0003.jpg")
ATTACK_PHOTO = "_0009.jpg"
SEEDS = (1301, 1302)


@pytest.fixture(scope="module")
def resident(gate_engine: FaceEngine, shared_data: Path) -> list[FloatArray]:
    """Her descriptors from three LFW photos (the enrolment photos)."""
    folder = shared_data / "faces" / "lfw10" / RESIDENT
    descriptors = []
    for suffix in ENROLMENT:
        face = gate_engine.primary_face(load_image(folder / f"{RESIDENT}{suffix}"))
        assert face is not None
        assert face.descriptor is not None
        descriptors.append(face.descriptor)
    return descriptors


def attack_frames(engine: FaceEngine, data: Path, seed: int) -> list[Frame]:
    """Her fourth photo printed and moved with rotation and zoom for 3 s at 25 fps.

    The clip's 75 frames end at 2.96 s; the photo is held one frame longer (its last
    frame again, at 3.0 s), the frame the schedule refuses the presentation on.
    """
    photo = data / "faces" / "lfw10" / RESIDENT / f"{RESIDENT}{ATTACK_PHOTO}"
    room = split("reporting", data).backgrounds[0]
    spec = ClipSpec("reporting", "print_rotate", "near", 0, photo, 0.0, room, seed)
    clip = render(spec, engine, Camera(), motion="rotate+zoom")
    assert clip is not None
    images = [f.image for f in clip.frames]
    images.append(images[-1])
    assert (len(images) - 1) / clip.fps >= LivenessSchedule().max_s
    return [Frame(image, i, i / clip.fps) for i, image in enumerate(images)]


def run(
    engine: FaceEngine,
    descriptors: list[FloatArray],
    frames: list[Frame],
    folder: Path,
    liveness: LivenessCheck | None,
) -> tuple[list[Outcome], SimulatedDoor]:
    door, outbox = SimulatedDoor(), SqliteOutbox(folder / "outbox.db")
    snapshot = bench_snapshot(descriptors, MatchPolicy(0.57, 0.0))
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(engine, lambda: snapshot, door, outbox, liveness, FakeClock(), options)
    outcomes = [o for frame in frames for o in loop.process(frame)]
    return outcomes, door


def test_her_moved_photo_would_open_a_door_without_liveness(
    gate_engine: FaceEngine, resident: list[FloatArray], shared_data: Path, tmp_path: Path
) -> None:
    frames = attack_frames(gate_engine, shared_data, SEEDS[0])
    outcomes, door = run(gate_engine, resident, frames, tmp_path, None)
    assert Reason.GRANTED in [o.decision.reason for o in outcomes]
    assert door.commands


@pytest.mark.parametrize("seed", SEEDS)
def test_her_moved_photo_never_opens_the_door(
    gate_engine: FaceEngine,
    resident: list[FloatArray],
    shared_data: Path,
    tmp_path: Path,
    seed: int,
) -> None:
    frames = attack_frames(gate_engine, shared_data, seed)
    check = FusedLivenessCheck(motion=MotionSettings(), mesh=FaceMeshModel())
    outcomes, door = run(gate_engine, resident, frames, tmp_path, check)
    reasons = [o.decision.reason for o in outcomes]
    assert Reason.GRANTED not in reasons
    assert reasons
    assert set(reasons) == {Reason.SPOOF_SUSPECTED}
    assert door.commands == []
