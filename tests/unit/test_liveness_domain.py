"""PAD error rates, the threshold choice, the fusion rule and the schedule of windows."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import (
    FUSED_THRESHOLD,
    CueResult,
    FaceFrame,
    LivenessSchedule,
    LivenessVerdict,
    SensorFrame,
    equal_error_threshold,
    fuse,
    normalise_score,
    pad_rates,
)
from facegate.domain.reasons import Reason
from facegate.vision.liveness.check import run_presentations, run_schedule


def test_rates_count_accepted_attacks_and_rejected_bona_fide() -> None:
    rates = pad_rates([0.9, 0.8, 0.4, 0.7], [0.1, 0.6, 0.2], threshold=0.5)
    assert rates.apcer == pytest.approx(1 / 3)
    assert rates.bpcer == pytest.approx(1 / 4)
    assert rates.acer == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert (rates.bona_fide, rates.attacks) == (4, 3)
    assert set(rates.as_dict()) == {"apcer", "bpcer", "acer", "threshold", "bona_fide", "attacks"}


def test_a_score_equal_to_the_threshold_is_live() -> None:
    assert pad_rates([0.5], [0.5], 0.5).as_dict()["apcer"] == 1.0
    assert pad_rates([0.5], [0.5], 0.5).bpcer == 0.0


def test_equal_error_threshold_separates_separable_scores() -> None:
    threshold = equal_error_threshold([0.7, 0.8, 0.9], [0.1, 0.2, 0.3])
    assert 0.3 < threshold <= 0.7
    rates = pad_rates([0.7, 0.8, 0.9], [0.1, 0.2, 0.3], threshold)
    assert (rates.apcer, rates.bpcer) == (0.0, 0.0)


def test_equal_error_threshold_balances_overlapping_scores() -> None:
    live, spoof = [0.2, 0.6, 0.7, 0.8], [0.1, 0.3, 0.65, 0.4]
    rates = pad_rates(live, spoof, equal_error_threshold(live, spoof))
    assert rates.apcer == rates.bpcer == 0.25


def test_rates_refuse_non_finite_scores_and_empty_threshold_sets() -> None:
    with pytest.raises(ValueError, match="finite"):
        pad_rates([float("nan")], [0.1], 0.5)
    with pytest.raises(ValueError, match="need"):
        equal_error_threshold([], [0.1])


def test_normalise_maps_the_threshold_to_one_half() -> None:
    assert normalise_score(0.3, 0.3) == pytest.approx(0.5)
    assert normalise_score(0.0, 0.3) == 0.0
    assert normalise_score(1.0, 0.3) == 1.0
    assert normalise_score(2.0, 1.0, 0.0, 3.0) == pytest.approx(0.75)
    assert normalise_score(9.0, 1.0, 0.0, 3.0) == 1.0


def test_fusion_needs_every_cue_to_say_live() -> None:
    texture = CueResult("texture", 0.9, 0.5)
    still = CueResult("motion", 0.4, 1.0, score_range=(0.0, 3.0))
    moving = CueResult("motion", 2.0, 1.0, score_range=(0.0, 3.0))
    assert fuse([texture, moving]).live
    verdict = fuse([texture, still])
    assert not verdict.live
    assert verdict.reason is Reason.SPOOF_SUSPECTED
    assert verdict.score < FUSED_THRESHOLD
    assert verdict.cue_scores() == {"texture": 0.9, "motion": 0.4}


def test_fusion_fails_closed_without_cues_or_on_a_cue_error() -> None:
    assert not fuse([]).live
    broken = CueResult("motion", 5.0, 1.0, error="too few points")
    verdict = fuse([broken])
    assert not verdict.live
    assert verdict.score == 0.0
    assert "too few points" in verdict.note


def test_numpy_scores_give_plain_booleans_for_json() -> None:
    cue = CueResult("motion", np.float64(0.4), 1.0)
    assert type(cue.live) is bool
    verdict = fuse([cue])
    assert json.dumps({"live": verdict.live, "cue": cue.live}) == '{"live": false, "cue": false}'


def test_schedule_checks_each_step_and_the_last_frame() -> None:
    schedule = LivenessSchedule(window_frames=12, step_frames=6, max_frames=50)
    assert schedule.checkpoints() == [12, 18, 24, 30, 36, 42, 48, 50]
    assert not schedule.is_checkpoint(11)
    assert not schedule.is_checkpoint(51)
    assert LivenessSchedule(6, 6, 12).checkpoints() == [6, 12]


@pytest.mark.parametrize(("window", "step", "most"), [(1, 6, 50), (12, 0, 50), (60, 6, 50)])
def test_schedule_refuses_impossible_frame_counts(window: int, step: int, most: int) -> None:
    with pytest.raises(ValueError, match="liveness schedule"):
        LivenessSchedule(window, step, most)


class _Scripted:
    """Answers live from its ``live_from``-th call on; records the windows it saw."""

    cue_names = ("scripted",)

    def __init__(self, live_from: int | None) -> None:
        self.live_from, self.windows = live_from, []

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        self.windows.append([int(f.image[0, 0, 0]) for f in frames])
        live = self.live_from is not None and len(self.windows) >= self.live_from
        return fuse([CueResult("scripted", float(live), 0.5)])


def _numbered_frames(count: int) -> list[FaceFrame]:
    box = Box(0, 0, 4, 4)
    marks = FivePointLandmarks(((3, 1), (2, 1), (1, 1), (0, 1), (2, 3)))
    return [FaceFrame(np.full((4, 4, 3), n, np.uint8), box, marks) for n in range(count)]


def test_run_schedule_stops_at_the_first_live_window() -> None:
    check = _Scripted(live_from=3)
    outcome = run_schedule(check, _numbered_frames(60), LivenessSchedule(12, 6, 50))
    assert outcome.verdict.live
    assert (outcome.frames_seen, outcome.windows) == (24, 3)
    assert check.windows[2] == list(range(12, 24))


def test_run_schedule_without_a_live_window_is_not_live() -> None:
    check = _Scripted(live_from=None)
    outcome = run_schedule(check, _numbered_frames(60), LivenessSchedule(12, 6, 50))
    assert not outcome.verdict.live
    assert outcome.verdict.reason is Reason.SPOOF_SUSPECTED
    assert (outcome.frames_seen, outcome.windows) == (50, 8)
    assert check.windows[-1] == list(range(38, 50))
    short = run_schedule(check, _numbered_frames(5), LivenessSchedule(12, 6, 50))
    assert not short.verdict.live
    assert short.windows == 0


def test_presentations_follow_each_other_until_one_is_live() -> None:
    frames = _numbered_frames(130)
    check = _Scripted(live_from=10)  # presentation 1 has 8 windows; live in the 2nd window
    runs = (frames[start : start + 50] for start in range(0, 130, 50))
    outcome = run_presentations(check, runs, LivenessSchedule(12, 6, 50))
    assert outcome.verdict.live
    assert (outcome.presentations, outcome.windows, outcome.frames_seen) == (2, 10, 68)
    assert check.windows[-1] == list(range(56, 68))


def test_presentations_end_with_the_frames_or_a_run_too_short_for_a_window() -> None:
    frames = _numbered_frames(110)
    runs = [frames[:50], frames[50:100], frames[100:]]  # the last run has 10 frames
    outcome = run_presentations(_Scripted(live_from=None), runs, LivenessSchedule(12, 6, 50))
    assert not outcome.verdict.live
    assert (outcome.presentations, outcome.windows, outcome.frames_seen) == (2, 16, 100)
    nothing = run_presentations(_Scripted(live_from=None), [], LivenessSchedule())
    assert (nothing.verdict.live, nothing.presentations) == (False, 0)
