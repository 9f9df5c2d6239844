"""The dispenser's decisions on scripted observations (its own logic; real faces in
tests/integration/test_dispense_real.py), and the rates' counting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.faces import Box
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.policy import FaceEvidence
from facegate.domain.reasons import Reason
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.dispense import Dispenser
from facegate.gate.dispense_quota import FaceQuota, ItemCounter, QuotaRule
from facegate.gate.perception import Observation, PerceptionOptions
from facegate.gate.tracker import Track
from facegate.ports import Frame
from facegate.services.dispense_rates import dispense_rates


class StepClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


class Script:
    """Stands in for perception: one observation per frame, from a list."""

    def __init__(self, seen: list[Observation | None]) -> None:
        self.seen = seen
        self.tracker = type("T", (), {"take_ended": lambda self: [], "tracks": {}})()

    def observe(self, frame: Frame, threshold: float) -> Observation | None:
        return self.seen[frame.index]


def _dispenser(tmp_path: Path, door: SimulatedDoor, clock: StepClock) -> Dispenser:
    options = PerceptionOptions(LivenessSchedule(), 0.2)
    counter = ItemCounter(tmp_path / "dispensed.json")
    quota = FaceQuota(QuotaRule(1, 540.0))
    return Dispenser(None, None, options, door, quota, counter, clock)  # type: ignore[arg-type]


def _seen(track_id: int, index: int, **kwargs: Any) -> Observation:
    track = Track(track_id, Box(0, 0, 10, 10), index, 0.0, index)
    frame = Frame(np.zeros((2, 2, 3), np.uint8), index, index / 25.0)
    return Observation(track, frame, **kwargs)


def _frame(index: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), index, index / 25.0)


def test_given_once_refused_with_seconds_left_spoof_gets_nothing(tmp_path: Path) -> None:
    door, clock = SimulatedDoor(), StepClock()
    dispenser = _dispenser(tmp_path, door, clock)
    dispenser.perception = Script(  # type: ignore[assignment]
        [
            _seen(1, 0, evidence=FaceEvidence(descriptor=vector(1))),
            _seen(2, 1, evidence=FaceEvidence(descriptor=vector(1) + 0.01)),
            _seen(3, 2, evidence=FaceEvidence(refusal=Reason.SPOOF_SUSPECTED)),
            _seen(4, 3, evidence=FaceEvidence(descriptor=vector(2))),
        ]
    )
    made = []
    for index in range(4):
        made += dispenser.process(_frame(index))
        clock.moment += timedelta(seconds=60)
    assert [(m.reason, m.retry_after_s) for m in made] == [
        ("given", None),
        ("quota_reached", 480),
        ("spoof_suspected", None),
        ("given", None),
    ]
    assert len(door.commands) == 2
    assert dispenser.counter.total == 2


def test_an_actuator_that_fails_gives_nothing_and_counts_nothing(tmp_path: Path) -> None:
    door, clock = SimulatedDoor(fail=True), StepClock()
    dispenser = _dispenser(tmp_path, door, clock)
    dispenser.perception = Script(  # type: ignore[assignment]
        [_seen(1, 0, evidence=FaceEvidence(descriptor=vector(1)))]
    )
    made = dispenser.process(_frame(0))
    assert [m.reason for m in made] == ["actuator_failed"]
    assert dispenser.counter.total == 0
    assert len(dispenser.quota) == 0  # not remembered: it may come back at once
    assert not (tmp_path / "dispensed.json").exists()


def test_an_exception_is_internal_error_and_nothing_given(tmp_path: Path) -> None:
    door, clock = SimulatedDoor(), StepClock()
    dispenser = _dispenser(tmp_path, door, clock)
    bad = vector(1)
    bad[3] = np.nan
    dispenser.perception = Script(  # type: ignore[assignment]
        [_seen(1, 0, evidence=FaceEvidence(descriptor=bad))]
    )
    assert [m.reason for m in dispenser.process(_frame(0))] == ["internal_error"]
    assert door.commands == []


def test_rates_count_returns_and_strangers() -> None:
    a, b = vector(1), vector(2)
    descriptors = {
        "s/a": [a, a + 0.01, vector(9)],  # one return caught, one missed
        "s/b": [b, a + 0.02],  # b's second photo looks like a: a false refusal
    }
    report = dispense_rates(descriptors, 0.5)
    assert report["repeat_detection"]["count"] == 1
    assert report["repeat_detection"]["of"] == 3
    assert report["repeat_missed"]["count"] == 2
    assert report["false_refusal_one_served"]["count"] == 1
    assert report["false_refusal_one_served"]["of"] == 5
    assert report["false_refusal_full_window"]["count"] == 1


def test_the_command_refuses_bad_input_before_starting(tmp_path: Path) -> None:
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"x")
    runs = {
        "no source": ["dispense", "--json"],
        "no file": ["dispense", "--video", str(tmp_path / "none.avi"), "--json"],
        "no items": ["dispense", "--video", str(clip), "--items", "0", "--json"],
        "no window": ["dispense", "--video", str(clip), "--per-minutes", "0", "--json"],
        "no actuator": ["dispense", "--video", str(clip), "--actuator", "relay", "--json"],
    }
    for name, args in runs.items():
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 3, (name, result.output)
        assert json.loads(result.stdout)["error"]["kind"] == "bad_input", name
