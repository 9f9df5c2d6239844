"""PAD error rates, the threshold choice and the fusion rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facegate.domain.liveness import (
    FUSED_THRESHOLD,
    CueResult,
    equal_error_threshold,
    fuse,
    normalise_score,
    pad_rates,
)
from facegate.domain.reasons import Reason


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
