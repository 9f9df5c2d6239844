"""PAD error rates, the threshold choice, the fusion rule and the liveness schedule (seconds)."""

from __future__ import annotations

import dataclasses
import itertools
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
    PresentationFrames,
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


def _checks(schedule: LivenessSchedule, fps: float, count: int) -> list[tuple[int, list[int]]]:
    """The frames a face's checks fall on at ``fps`` (none live): (frame number, window)."""
    seen, made = schedule.presentation(), []
    for n, frame in enumerate(_numbered_frames(count)):
        seen.add(n / fps, frame)
        if schedule.due(seen):
            made.append((n, [int(f.image[0, 0, 0]) for f in schedule.window(seen)]))
            seen.checked()
            if schedule.over(seen):
                break
    return made


STEPPED = LivenessSchedule(window_s=0.5, step_s=0.25, grow=False)
"""The former schedule: a check every 0.25 s from 0.5 s on, on the newest 0.5 s."""


def test_by_default_a_gate_at_25_fps_is_checked_on_every_frame_from_0_4_s() -> None:
    made = _checks(LivenessSchedule(), 25.0, 120)
    assert [n for n, _ in made] == list(range(10, 76))  # 0.4 s to 3 s, every frame
    for n, window in made:  # the whole presentation so far, as far as it is kept
        assert window[0] == 0
        assert window[-1] == n
        assert len(window) <= LivenessSchedule().kept_frames + 1
        assert window[-10:] == list(range(n - 9, n + 1))  # the newest 0.4 s, every frame


def test_a_gate_at_25_fps_is_checked_from_half_a_second_and_refused_at_3_s() -> None:
    made = _checks(dataclasses.replace(STEPPED, grow=True), 25.0, 120)
    assert made[0][0] == 13  # 0.52 s: the first frame at or past 0.5 s
    assert made[-1][0] / 25.0 == pytest.approx(3.0)  # refused on the frame at 3 s
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(made)]
    assert set(gaps[:-1]) <= {6, 7}  # every 0.25 s (0.24-0.28 s at 25 fps)
    for n, window in made:  # the whole presentation so far, as far as it is kept
        assert window[0] == 0
        assert window[-1] == n
        assert 6 <= len(window) <= LivenessSchedule().kept_frames + 1
        assert window == sorted(set(window))
        assert window[-13:] == list(range(n - 12, n + 1))  # the newest 0.5 s, every frame


def test_a_kiosk_at_4_fps_is_judged_and_refused_by_3_s() -> None:
    made = _checks(LivenessSchedule(), 4.0, 40)
    assert made[0][0] == 5  # the 6th frame, 1.25 s: enough frames to be judged
    assert made[0][1] == [0, 1, 2, 3, 4, 5]
    assert [n / 4.0 for n, _ in made] == [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0]
    assert all(len(window) >= 6 for _, window in made)


def test_at_2_fps_the_check_waits_for_6_frames_and_still_refuses_at_3_s() -> None:
    made = _checks(LivenessSchedule(), 2.0, 20)
    assert [n / 2.0 for n, _ in made] == [2.5, 3.0]


def test_below_the_frame_minimum_the_refusal_waits_for_the_frames() -> None:
    made = _checks(LivenessSchedule(), 1.0, 20)
    assert [n for n, _ in made] == [5]  # 5 s: never refused before 6 frames were seen


def test_a_sliding_window_looks_at_the_newest_half_second_only() -> None:
    made = _checks(STEPPED, 25.0, 120)
    n, window = made[-1]
    assert window[-1] == n
    assert window[0] >= n - 14
    kiosk = _checks(STEPPED, 4.0, 40)
    assert all(len(w) == 6 for _, w in kiosk)  # widened to 6 frames (1.25 s at 4 fps)


def test_kept_frames_are_bounded_and_span_the_presentation() -> None:
    seen = PresentationFrames(24)
    for n, frame in enumerate(_numbered_frames(200)):
        seen.add(n / 25.0, frame)
        assert len(seen) <= 25
    numbers = [int(f.image[0, 0, 0]) for _, f in seen.kept]
    assert numbers[0] == 0
    assert numbers[-1] == 199
    assert numbers == sorted(numbers)
    assert (seen.count, seen.elapsed_s) == (200, pytest.approx(199 / 25.0))
    seen.clear()
    assert (len(seen), seen.count, seen.checked_s, seen.elapsed_s) == (0, 0, None, 0.0)


@pytest.mark.parametrize(
    "changes",
    [{"window_s": 0.0}, {"window_s": 4.0}, {"step_s": -0.1}, {"min_frames": 1}, {"min_frames": 13}],
)
def test_schedule_refuses_impossible_settings(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="liveness schedule"):
        LivenessSchedule(**changes)  # type: ignore[arg-type]


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
    stepped = dataclasses.replace(STEPPED, grow=True)
    outcome = run_schedule(check, _numbered_frames(100), stepped, 25.0)
    assert outcome.verdict.live
    assert (outcome.frames_seen, outcome.windows) == (28, 3)  # checks at frames 13, 20, 27
    assert outcome.elapsed_s == pytest.approx(27 / 25.0)
    assert check.windows[2][0] == 0
    assert check.windows[2][-1] == 27


def test_run_schedule_without_a_live_window_is_not_live() -> None:
    check = _Scripted(live_from=None)
    outcome = run_schedule(check, _numbered_frames(100), LivenessSchedule(), 25.0)
    assert not outcome.verdict.live
    assert outcome.verdict.reason is Reason.SPOOF_SUSPECTED
    assert outcome.frames_seen == 76  # refused on the frame at 3 s
    assert outcome.windows == len(_checks(LivenessSchedule(), 25.0, 100))
    short = run_schedule(check, _numbered_frames(5), LivenessSchedule(), 25.0)
    assert not short.verdict.live
    assert short.windows == 0


def test_presentations_follow_each_other_until_one_is_live() -> None:
    first = len(_checks(STEPPED, 25.0, 100))  # checks of a refused presentation
    check = _Scripted(live_from=first + 2)
    outcome = run_presentations(check, _numbered_frames(200), STEPPED, 25.0)
    assert outcome.verdict.live
    assert (outcome.presentations, outcome.windows) == (2, first + 2)
    assert outcome.frames_seen == 76 + 21  # the second's checks: its frames 13 and 20
    assert check.windows[-1][0] >= 76  # nothing of the refused presentation
    assert check.windows[-1][-1] == 96


def test_presentations_end_with_the_frames() -> None:
    outcome = run_presentations(
        _Scripted(live_from=None), _numbered_frames(160), LivenessSchedule(), 25.0
    )
    assert not outcome.verdict.live
    assert (outcome.presentations, outcome.frames_seen) == (3, 160)
    nothing = run_presentations(_Scripted(live_from=None), [], LivenessSchedule(), 25.0)
    assert (nothing.verdict.live, nothing.presentations, nothing.windows) == (False, 0, 0)
