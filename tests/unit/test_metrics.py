"""Error-rate maths: every expected value here is worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facegate.domain.metrics import (
    SearchOutcome,
    accuracy_at,
    best_accuracy_threshold,
    binomial_upper_bound,
    claimable,
    equal_error_rate,
    error_curve,
    false_match_rate,
    false_non_match_rate,
    fnir_at,
    fnir_at_fpir,
    fnmr_at_fmr,
    fpir_at,
    threshold_for_fmr,
)

# Ten impostor distances 0.1, 0.2, ..., 1.0 (written out so they are the literals).
TENTHS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def just_below(x: float) -> float:
    return float(np.nextafter(x, -np.inf))


# --------------------------------------------------------------------------- FMR / FNMR


def test_fmr_counts_distances_at_or_below_threshold() -> None:
    # 0.1, 0.2 and 0.3 are <= 0.3: a match includes the threshold itself.
    assert false_match_rate(TENTHS, 0.3) == pytest.approx(0.3)
    assert false_match_rate(TENTHS, just_below(0.3)) == pytest.approx(0.2)
    assert false_match_rate(TENTHS, 0.0) == 0.0
    assert false_match_rate(TENTHS, 1.0) == 1.0


def test_fnmr_counts_distances_strictly_above_threshold() -> None:
    genuine = [0.2, 0.4, 0.4, 0.9]
    assert false_non_match_rate(genuine, 0.4) == pytest.approx(0.25)  # only 0.9 misses
    assert false_non_match_rate(genuine, just_below(0.4)) == pytest.approx(0.75)
    assert false_non_match_rate(genuine, 1.0) == 0.0
    assert false_non_match_rate(genuine, 0.1) == 1.0


def test_rates_are_order_independent() -> None:
    shuffled = [0.7, 0.1, 1.0, 0.4, 0.3, 0.9, 0.2, 0.6, 0.5, 0.8]
    assert false_match_rate(shuffled, 0.45) == pytest.approx(0.4)
    assert false_non_match_rate(shuffled, 0.45) == pytest.approx(0.6)


def test_rates_of_no_scores_are_zero() -> None:
    assert false_match_rate([], 0.5) == 0.0
    assert false_non_match_rate([], 0.5) == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_scores_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        false_match_rate([0.1, bad], 0.5)
    with pytest.raises(ValueError, match="finite"):
        false_non_match_rate([bad], 0.5)


# --------------------------------------------------------------------- threshold_for_fmr


def test_threshold_for_fmr_allows_exactly_one_false_match_in_ten() -> None:
    # 10 impostors at target 0.1 -> floor(1.0) = 1 false match allowed: the threshold
    # must include 0.1 and stop just short of 0.2.
    threshold = threshold_for_fmr(TENTHS, 0.1)
    assert threshold == just_below(0.2)
    assert 0.1 < threshold < 0.2
    assert false_match_rate(TENTHS, threshold) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("target", "next_impostor", "fmr"),
    [
        (0.05, 0.1, 0.0),  # 0.5 false matches -> none: below the smallest impostor
        (0.1, 0.2, 0.1),
        (0.19, 0.2, 0.1),  # 1.9 -> 1
        (0.29, 0.3, 0.2),  # 2.9 -> 2
        (0.3, 0.4, 0.3),
        (0.7, 0.8, 0.7),
        (0.9, 1.0, 0.9),
    ],
)
def test_threshold_for_fmr_stops_just_below_the_next_impostor(
    target: float, next_impostor: float, fmr: float
) -> None:
    threshold = threshold_for_fmr(TENTHS, target)
    assert threshold == just_below(next_impostor)
    assert false_match_rate(TENTHS, threshold) == pytest.approx(fmr)


def test_threshold_for_fmr_is_not_fooled_by_float_products() -> None:
    # 0.29 * 100 is 28.999999999999996 in floats, yet 29 of 100 false matches are allowed.
    impostor = np.arange(100.0)
    assert 0.29 * 100 < 29
    threshold = threshold_for_fmr(impostor, 0.29)
    assert threshold == just_below(29.0)
    assert false_match_rate(impostor, threshold) == pytest.approx(0.29)


def test_threshold_for_fmr_of_one_accepts_every_impostor() -> None:
    assert threshold_for_fmr(TENTHS, 1.0) == 1.0
    assert false_match_rate(TENTHS, threshold_for_fmr(TENTHS, 1.0)) == 1.0


def test_threshold_for_fmr_cannot_split_tied_impostors() -> None:
    impostor = [0.1, 0.2, 0.2, 0.3]
    # 0.5 * 4 = 2 allowed, but the 2nd and 3rd impostors tie at 0.2: admitting one admits
    # both (FMR 0.75 > 0.5), so the threshold must stay below 0.2 (FMR 0.25).
    threshold = threshold_for_fmr(impostor, 0.5)
    assert threshold == just_below(0.2)
    assert false_match_rate(impostor, threshold) == pytest.approx(0.25)
    # 0.75 * 4 = 3: now both ties fit.
    threshold = threshold_for_fmr(impostor, 0.75)
    assert threshold == just_below(0.3)
    assert false_match_rate(impostor, threshold) == pytest.approx(0.75)


def test_threshold_for_fmr_is_the_largest_threshold_within_target() -> None:
    rng = np.random.default_rng(7)
    impostor = rng.integers(0, 40, size=250) / 40.0  # many ties
    for target in (0.004, 0.01, 0.05, 0.2, 0.5):
        threshold = threshold_for_fmr(impostor, target)
        assert false_match_rate(impostor, threshold) <= target
        above = impostor[impostor > threshold]
        if above.size:
            assert false_match_rate(impostor, above.min()) > target


@pytest.mark.parametrize("target", [0.0, -0.1, 1.5, math.nan])
def test_threshold_for_fmr_rejects_targets_outside_unit_interval(target: float) -> None:
    with pytest.raises(ValueError, match="target FMR"):
        threshold_for_fmr(TENTHS, target)


def test_threshold_for_fmr_needs_impostor_scores() -> None:
    with pytest.raises(ValueError, match="no impostor"):
        threshold_for_fmr([], 0.1)


# ------------------------------------------------------------------- rule of 3 / fnmr_at_fmr


@pytest.mark.parametrize(
    ("comparisons", "rate", "expected"),
    [
        (299, 1e-2, False),
        (300, 1e-2, True),
        (2999, 1e-3, False),
        (3000, 1e-3, True),
        (29_999, 1e-4, False),
        (30_000, 1e-4, True),
        (2, 1.0, False),
        (3, 1.0, True),
        (0, 1.0, False),
    ],
)
def test_claimable_follows_rule_of_three(comparisons: int, rate: float, expected: bool) -> None:
    assert claimable(comparisons, rate) is expected


def test_fnmr_at_fmr_needs_300_impostors_to_claim_one_percent() -> None:
    genuine = [0.0, 2.0, 3.0, 10.0]
    # 300 impostors 0, 1, ..., 299: 1% allows 3 false matches (0, 1, 2), so the
    # threshold is just below 3; genuine 0 and 2 match, 3 and 10 do not -> FNMR 0.5.
    assert fnmr_at_fmr(genuine, np.arange(300.0), 1e-2) == pytest.approx(0.5)
    assert fnmr_at_fmr(genuine, np.arange(299.0), 1e-2) is None


def test_fnmr_at_fmr_is_none_without_genuine_scores() -> None:
    assert fnmr_at_fmr([], np.arange(300.0), 1e-2) is None


def test_fnmr_at_fmr_of_separated_scores_is_zero() -> None:
    assert fnmr_at_fmr([0.1, 0.2, 0.3], np.linspace(0.5, 1.5, 300), 1e-2) == 0.0


# --------------------------------------------------------------------------- error curve


def test_error_curve_lists_rates_at_each_distinct_score() -> None:
    curve = error_curve([0.1, 0.5], [0.3, 0.5, 0.9])
    np.testing.assert_array_equal(curve.thresholds, [just_below(0.1), 0.1, 0.3, 0.5, 0.9])
    np.testing.assert_allclose(curve.fmr, [0.0, 0.0, 1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(curve.fnmr, [1.0, 0.5, 0.5, 0.0, 0.0])


def test_error_curve_is_monotone() -> None:
    rng = np.random.default_rng(3)
    curve = error_curve(rng.normal(0.4, 0.1, 200), rng.normal(0.8, 0.1, 500))
    assert np.all(np.diff(curve.thresholds) > 0)
    assert np.all(np.diff(curve.fmr) >= 0)
    assert np.all(np.diff(curve.fnmr) <= 0)
    assert (curve.fmr[0], curve.fnmr[0]) == (0.0, 1.0)
    assert (curve.fmr[-1], curve.fnmr[-1]) == (1.0, 0.0)


@pytest.mark.parametrize(("genuine", "impostor"), [([], [0.5]), ([0.5], [])])
def test_error_curve_needs_both_kinds_of_scores(
    genuine: list[float], impostor: list[float]
) -> None:
    with pytest.raises(ValueError, match="both"):
        error_curve(genuine, impostor)


# ---------------------------------------------------------------------------------- EER


def test_eer_of_perfectly_separated_scores_is_zero() -> None:
    eer, threshold = equal_error_rate([0.1, 0.2], [0.8, 0.9])
    assert eer == 0.0
    assert 0.2 <= threshold < 0.8
    assert false_match_rate([0.8, 0.9], threshold) == 0.0
    assert false_non_match_rate([0.1, 0.2], threshold) == 0.0


def test_eer_of_identical_score_sets_is_one_half() -> None:
    # FMR = k/10 and FNMR = 1 - k/10 at the k-th score: they meet at 0.5, at 0.5.
    eer, threshold = equal_error_rate(TENTHS, TENTHS)
    assert eer == pytest.approx(0.5)
    assert threshold == pytest.approx(0.5)


def test_eer_of_reversed_scores_is_one() -> None:
    # Every genuine is farther than every impostor: at 0.2 both rates are 1 (all
    # impostors in, all genuine out) and that is where they meet.
    eer, threshold = equal_error_rate([0.8, 0.9], [0.1, 0.2])
    assert eer == 1.0
    assert threshold == pytest.approx(0.2)


def test_eer_interpolates_between_the_thresholds_around_the_crossing() -> None:
    # genuine [0.1, 0.5], impostor [0.3, 0.6, 0.9]:
    #   threshold  0.3: FMR 1/3, FNMR 1/2, gap -1/6
    #   threshold  0.5: FMR 1/3, FNMR 0,   gap +1/3
    # weight = (1/6) / (1/2) = 1/3 -> FMR 1/3, FNMR 1/2 - 1/6 = 1/3, so EER = 1/3
    # at 0.3 + (0.5 - 0.3) / 3.
    eer, threshold = equal_error_rate([0.1, 0.5], [0.3, 0.6, 0.9])
    assert eer == pytest.approx(1 / 3)
    assert threshold == pytest.approx(0.3 + 0.2 / 3)


def test_eer_interpolates_when_both_rates_move_at_one_score() -> None:
    # genuine [0.1, 0.5], impostor [0.5, 0.9]: at 0.1 FMR 0 FNMR 1/2 (gap -1/2); at 0.5
    # FMR 1/2 FNMR 0 (gap +1/2). Halfway: FMR 1/4, FNMR 1/4, threshold 0.3.
    eer, threshold = equal_error_rate([0.1, 0.5], [0.5, 0.9])
    assert eer == pytest.approx(0.25)
    assert threshold == pytest.approx(0.3)


def test_eer_does_not_depend_on_score_order() -> None:
    a = equal_error_rate([0.5, 0.1], [0.9, 0.3, 0.6])
    b = equal_error_rate([0.1, 0.5], [0.3, 0.6, 0.9])
    assert a == b


# ----------------------------------------------------------------------------- accuracy


def test_accuracy_at_counts_both_kinds_of_correct_decision() -> None:
    genuine = [0.1, 0.3, 0.5]
    impostor = [0.3, 0.7, 0.8, 0.9]
    # At 0.3: genuine 0.1 and 0.3 accepted (2), impostors 0.7-0.9 rejected (3),
    # impostor 0.3 accepted wrongly, genuine 0.5 rejected wrongly -> 5 / 7.
    assert accuracy_at(genuine, impostor, 0.3) == pytest.approx(5 / 7)
    # Two pairs whose faces could not be found count as wrong: 5 / 9.
    assert accuracy_at(genuine, impostor, 0.3, failed_pairs=2) == pytest.approx(5 / 9)
    assert accuracy_at(genuine, impostor, 0.6) == pytest.approx(6 / 7)


def test_accuracy_needs_pairs() -> None:
    with pytest.raises(ValueError, match="no pairs"):
        accuracy_at([], [], 0.5)
    assert accuracy_at([], [], 0.5, failed_pairs=1) == 0.0


def test_best_accuracy_threshold_of_separated_scores() -> None:
    # Every threshold in [0.2, 0.8) is perfect: the midpoint 0.5 is returned.
    threshold, accuracy = best_accuracy_threshold([0.1, 0.2], [0.8, 0.9])
    assert threshold == pytest.approx(0.5)
    assert accuracy == 1.0
    _, accuracy = best_accuracy_threshold([0.1, 0.2], [0.8, 0.9], failed_pairs=1)
    assert accuracy == pytest.approx(4 / 5)


def test_best_accuracy_threshold_takes_midpoint_of_a_multi_score_run() -> None:
    # genuine [0.1, 0.6], impostor [0.6, 0.9]: 3 of 4 right at both 0.1 and 0.6 (at 0.6
    # a genuine is gained and an impostor lost), so the run is [0.1, 0.9) -> 0.5.
    threshold, accuracy = best_accuracy_threshold([0.1, 0.6], [0.6, 0.9])
    assert threshold == pytest.approx(0.5)
    assert accuracy == pytest.approx(0.75)


def test_best_accuracy_threshold_takes_the_first_of_separate_runs() -> None:
    # genuine [0.1, 0.2], impostor [0.15, 0.8, 0.9]: 4 of 5 right at 0.1 and at 0.2
    # but only 3 at 0.15 in between; the first run is [0.1, 0.15).
    threshold, accuracy = best_accuracy_threshold([0.1, 0.2], [0.15, 0.8, 0.9])
    assert threshold == pytest.approx(0.125)
    assert accuracy == pytest.approx(0.8)


def test_best_accuracy_threshold_when_the_best_run_reaches_the_largest_score() -> None:
    # genuine [0.1, 0.9], impostor [0.05]: best is accept everything (2 of 3).
    threshold, accuracy = best_accuracy_threshold([0.1, 0.9], [0.05])
    assert threshold == 0.9
    assert accuracy == pytest.approx(2 / 3)


def test_best_accuracy_threshold_when_rejecting_everyone_is_best() -> None:
    # genuine [0.7], impostor [0.5, 0.7, 1.2]: rejecting all gets the 3 impostors right
    # (3/4); any threshold >= 0.5 accepts impostor 0.5. The returned threshold must lie
    # below 0.5 and must really achieve the accuracy it reports.
    genuine, impostor = [0.7], [0.5, 0.7, 1.2]
    threshold, accuracy = best_accuracy_threshold(genuine, impostor)
    assert accuracy == pytest.approx(0.75)
    assert threshold < 0.5
    assert accuracy_at(genuine, impostor, threshold) == pytest.approx(accuracy)


def test_best_accuracy_threshold_is_not_swayed_by_rounding_noise() -> None:
    # 48 genuine and 57 impostor integer distances 1..7 where rejecting everyone and
    # accepting up to 3 both get exactly 57 pairs right. Computing the counts from
    # float rates once made the second run look 3e-14 better.
    genuine = np.repeat(np.arange(1.0, 8.0), [7, 8, 8, 7, 7, 4, 7])
    impostor = np.repeat(np.arange(1.0, 8.0), [11, 4, 8, 14, 5, 4, 11])
    threshold, accuracy = best_accuracy_threshold(genuine, impostor)
    assert accuracy == 57 / 105
    assert threshold < 1.0
    assert accuracy_at(genuine, impostor, threshold) == 57 / 105


def test_best_accuracy_threshold_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(11)
    for _ in range(40):
        genuine = rng.integers(0, 12, size=rng.integers(1, 30)) / 12.0
        impostor = rng.integers(4, 16, size=rng.integers(1, 30)) / 12.0
        candidates = np.concatenate([[-1.0], genuine, impostor])
        best = max(int((genuine <= c).sum() + (impostor > c).sum()) for c in candidates) / (
            genuine.size + impostor.size
        )
        threshold, accuracy = best_accuracy_threshold(genuine, impostor)
        assert accuracy == pytest.approx(best, abs=1e-12)
        assert accuracy_at(genuine, impostor, threshold) == pytest.approx(best, abs=1e-12)


# ---------------------------------------------------------------- binomial upper bound


def binomial_cdf(errors: int, trials: int, p: float) -> float:
    """P(X <= errors) for X ~ Binomial(trials, p), summed term by term."""
    return sum(math.comb(trials, k) * p**k * (1.0 - p) ** (trials - k) for k in range(errors + 1))


def brute_force_upper_bound(errors: int, trials: int, confidence: float) -> float:
    """The p where P(X <= errors) = 1 - confidence, by bisection on the summed CDF."""
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if binomial_cdf(errors, trials, mid) > 1.0 - confidence:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


@pytest.mark.parametrize("trials", [1, 2, 10, 59, 300, 3000])
def test_upper_bound_with_no_errors_has_closed_form(trials: int) -> None:
    # (1 - p)^n = 0.05  <=>  p = 1 - 0.05^(1/n).
    expected = 1.0 - 0.05 ** (1.0 / trials)
    assert binomial_upper_bound(0, trials) == pytest.approx(expected, rel=1e-9)


def test_upper_bound_with_no_errors_is_about_three_over_n() -> None:
    assert binomial_upper_bound(0, 300) == pytest.approx(3 / 300, rel=0.01)
    assert binomial_upper_bound(0, 3000) == pytest.approx(3 / 3000, rel=0.01)


def test_upper_bound_one_error_in_ten_matches_published_value() -> None:
    # Clopper-Pearson one-sided 95% upper limit for 1/10 is 0.3942 in standard tables.
    assert binomial_upper_bound(1, 10) == pytest.approx(0.3942, abs=1e-4)


@pytest.mark.parametrize(
    ("errors", "trials", "confidence"),
    [(1, 10, 0.95), (3, 20, 0.95), (5, 100, 0.95), (2, 300, 0.99), (10, 50, 0.9)],
)
def test_upper_bound_matches_independent_computation(
    errors: int, trials: int, confidence: float
) -> None:
    expected = brute_force_upper_bound(errors, trials, confidence)
    bound = binomial_upper_bound(errors, trials, confidence)
    assert bound == pytest.approx(expected, rel=1e-7)
    assert binomial_cdf(errors, trials, bound) == pytest.approx(1.0 - confidence, rel=1e-5)
    assert bound > errors / trials


def test_upper_bound_grows_with_confidence_and_errors() -> None:
    assert binomial_upper_bound(2, 100, 0.99) > binomial_upper_bound(2, 100, 0.95)
    assert binomial_upper_bound(3, 100) > binomial_upper_bound(2, 100)
    assert binomial_upper_bound(2, 1000) < binomial_upper_bound(2, 100)


@pytest.mark.parametrize(("errors", "trials"), [(0, 0), (5, 0), (5, 5), (6, 5)])
def test_upper_bound_is_one_when_nothing_can_be_said(errors: int, trials: int) -> None:
    assert binomial_upper_bound(errors, trials) == 1.0


# ---------------------------------------------------------------------- open-set search


def mated(distance: float, is_mate: bool = True) -> SearchOutcome:
    return SearchOutcome(rank1_distance=distance, rank1_is_mate=is_mate)


def test_fpir_counts_non_mated_searches_within_threshold() -> None:
    non_mated = [mated(d, False) for d in (0.2, 0.4, 0.4, 0.9)]
    assert fpir_at(non_mated, 0.4) == pytest.approx(0.75)
    assert fpir_at(non_mated, 0.3) == pytest.approx(0.25)
    assert fpir_at([], 0.4) == 0.0


def test_fnir_counts_wrong_rank1_even_within_threshold() -> None:
    searches = [
        mated(0.2),  # hit
        mated(0.3, is_mate=False),  # wrong person at rank 1: a miss however close
        mated(0.5),  # right person but beyond 0.4: a miss
        mated(0.4),  # hit at the threshold itself
    ]
    assert fnir_at(searches, 0.4) == pytest.approx(0.5)
    assert fnir_at(searches, 1.0) == pytest.approx(0.25)
    assert fnir_at([], 0.4) == 0.0


def test_fnir_at_fpir_needs_300_non_mated_searches_for_one_percent() -> None:
    searches = [mated(0.0), mated(2.0), mated(3.0), mated(1.0, is_mate=False)]
    # Non-mated rank-1 distances 0..299: 1% allows 0, 1 and 2, threshold just below 3.
    # Mated: 0.0 and 2.0 are hits; 3.0 is beyond; the non-mate at 1.0 is a miss -> 0.5.
    non_mated = [mated(float(d), False) for d in range(300)]
    assert fnir_at_fpir(searches, non_mated, 1e-2) == pytest.approx(0.5)
    assert fnir_at_fpir(searches, non_mated[:299], 1e-2) is None


def test_fnir_at_fpir_is_none_without_mated_searches() -> None:
    non_mated = [mated(float(d), False) for d in range(300)]
    assert fnir_at_fpir([], non_mated, 1e-2) is None
