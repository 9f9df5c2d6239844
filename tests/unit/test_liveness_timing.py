"""The gate runs the liveness schedule on the door's own frame times (issue 13 item 6).

A kiosk posting 4 frames/s and a gate camera at 25 frames/s are held to the same limits
in seconds: the first check once the face was seen 0.5 s in at least 6 frames, the
refusal ``spoof_suspected`` at 3 s. Fakes only (the face engine of tests/fakes.py and a
liveness check that records what it was shown).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from facegate.domain.liveness import (
    CueResult,
    FaceFrame,
    LivenessSchedule,
    LivenessVerdict,
    SensorFrame,
    fuse,
)
from facegate.domain.matching import MatchPolicy
from facegate.domain.reasons import Reason
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.ports import Frame
from fakes import FakeClock, FakeDoor, FakeFaceEngine, ListSink, fake_frame, unit_descriptor

RESIDENT = 7


class Recording:
    """A liveness check that answers live from its ``live_from``-th call on (never: None)."""

    cue_names = ("recording",)

    def __init__(self, live_from: int | None = None) -> None:
        self.live_from = live_from
        self.windows: list[int] = []

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        self.windows.append(len(frames))
        live = self.live_from is not None and len(self.windows) >= self.live_from
        return fuse([CueResult("recording", float(live), 0.5)])


def at_rate(fps: float, count: int) -> list[Frame]:
    """The resident's face on ``count`` frames ``1 / fps`` seconds apart."""
    return [Frame(fake_frame(n, RESIDENT).image, n, n / fps) for n in range(count)]


def run(frames: list[Frame], check: Recording) -> tuple[list[Outcome], FakeDoor]:
    snapshot = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    door = FakeDoor()
    options = LoopOptions("door-t", 3.0, 0.6, LivenessSchedule(), 10.0)
    loop = GateLoop(
        FakeFaceEngine(),  # type: ignore[arg-type]
        lambda: snapshot,
        door,
        ListSink(),
        check,
        FakeClock(),
        options,
    )
    return [o for frame in frames for o in loop.process(frame)], door


@pytest.mark.parametrize(
    ("fps", "checks"),
    [
        (25.0, 66),  # every frame from 0.4 s (the 11th) to 3 s
        (4.0, 8),  # 1.25 s (the 6th frame), then every frame (0.25 s) to 3 s
        (2.0, 2),  # 2.5 s (the 6th frame), 3 s
    ],
)
def test_a_face_that_never_shows_life_is_refused_at_3_s_whatever_the_frame_rate(
    fps: float, checks: int
) -> None:
    check = Recording()
    outcomes, door = run(at_rate(fps, round(3 * fps) + 1), check)
    assert [o.decision.reason for o in outcomes] == [Reason.SPOOF_SUSPECTED]
    assert outcomes[0].frame_index / fps == pytest.approx(3.0)
    assert len(check.windows) == checks
    assert min(check.windows) >= 6  # every check had enough frames to judge
    assert max(check.windows) <= LivenessSchedule().kept_frames  # memory stays bounded
    assert door.commands == []


def test_a_kiosk_at_4_fps_is_judged_on_its_6th_frame_and_let_in_when_live() -> None:
    check = Recording(live_from=1)
    outcomes, door = run(at_rate(4.0, 20), check)
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    assert outcomes[0].frame_index == 5  # 1.25 s: six frames, not 12 (3 s at 4 fps)
    assert check.windows == [6]
    assert len(door.commands) == 1


def test_a_refused_presentation_is_followed_by_a_new_one_on_the_same_clock() -> None:
    check = Recording(live_from=9)  # 4 fps: 8 checks in the first presentation
    outcomes, _ = run(at_rate(4.0, 40), check)
    assert [o.decision.reason for o in outcomes] == [Reason.SPOOF_SUSPECTED, Reason.GRANTED]
    refused, granted = (o.frame_index / 4.0 for o in outcomes)
    assert refused == pytest.approx(3.0)
    assert granted == pytest.approx(3.25 + 1.25)  # the new one starts at 3.25 s


def test_frames_with_irregular_gaps_are_timed_by_their_clock_not_counted() -> None:
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.05, 0.4, 60))
    times -= times[0]
    frames = [Frame(fake_frame(n, RESIDENT).image, n, float(t)) for n, t in enumerate(times)]
    outcomes, _ = run(frames, Recording())
    refused_at = times[outcomes[0].frame_index]
    assert refused_at >= 3.0
    assert times[outcomes[0].frame_index - 1] < 3.0  # the first frame at or past 3 s
