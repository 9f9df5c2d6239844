"""A face that never passes the quality gate is refused after seconds, not frames.

``decide_after_s`` counts the door's own frame times from the face's first frame, so a
kiosk posting 4 frames/s and a gate camera at 25 frames/s refuse a poor face as
``low_quality`` after the same 0.6 s (issue 13 item 6; the frame count it replaces made
the kiosk wait 15 frames: 3.75 s). Fakes only (tests/fakes.py's face engine).
"""

from __future__ import annotations

import math

import pytest

from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import GateLoop, LoopOptions
from facegate.ports import Frame
from fakes import FakeClock, FakeDoor, FakeFaceEngine, ListSink, fake_frame, unit_descriptor
from gate_support import ScriptedLiveness

RESIDENT = 7
DECIDE_AFTER_S = 0.6


def poor_frames(fps: float, count: int) -> list[Frame]:
    """The resident's face, never sharp enough, on ``count`` frames ``1 / fps`` s apart."""
    return [Frame(fake_frame(n, RESIDENT, good=False).image, n, n / fps) for n in range(count)]


@pytest.mark.parametrize("fps", [4.0, 25.0])
def test_a_poor_face_is_refused_after_the_same_seconds_at_4_and_25_fps(fps: float) -> None:
    snapshot = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    options = LoopOptions("door-t", 3.0, DECIDE_AFTER_S, LivenessSchedule(), 10.0)
    door = FakeDoor()
    loop = GateLoop(
        FakeFaceEngine(),  # type: ignore[arg-type]
        lambda: snapshot,
        door,
        ListSink(),
        None,
        FakeClock(),
        options,
    )
    outcomes = [o for frame in poor_frames(fps, round(2 * fps)) for o in loop.process(frame)]
    assert [o.decision.reason for o in outcomes] == [Reason.LOW_QUALITY]
    refused_at_s = outcomes[0].frame_index / fps
    # The first frame at or past 0.6 s: 0.6 s at 25 frames/s, 0.75 s at 4 frames/s.
    assert refused_at_s == pytest.approx(math.ceil(DECIDE_AFTER_S * fps - 1e-9) / fps)
    assert door.commands == []


def test_a_face_known_from_a_good_frame_is_decided_at_its_live_verdict_on_a_poor_one() -> None:
    """The live verdict on a poor frame decides with the descriptor of an earlier good one.

    On main the track waited for the next good frame and, past ``decide_after_s``, was
    refused ``low_quality`` although it had passed the quality gate (the gate bench's
    arrival at 34 s: live at 1.44 s on a blurred frame, refused).
    """
    snapshot = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    options = LoopOptions("door-t", 3.0, DECIDE_AFTER_S, LivenessSchedule(), 10.0)
    loop = GateLoop(
        FakeFaceEngine(),  # type: ignore[arg-type]
        lambda: snapshot,
        FakeDoor(),
        ListSink(),
        ScriptedLiveness([False] * 5),  # live at the 6th check: frame 15, 0.6 s
        FakeClock(),
        options,
    )
    frames = [Frame(fake_frame(n, RESIDENT, good=n < 2).image, n, n / 25.0) for n in range(50)]
    outcomes = [o for frame in frames for o in loop.process(frame)]
    assert [(o.decision.reason, o.frame_index) for o in outcomes] == [(Reason.GRANTED, 15)]
    assert outcomes[0].time_to_decision_ms >= 600.0
