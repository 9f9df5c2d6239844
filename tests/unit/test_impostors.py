"""The 1:N threshold by gallery size: the FPIR cap judged by an impostor curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facegate.domain import metrics
from facegate.domain.impostors import (
    CURVE_GRID,
    NO_THRESHOLD,
    ImpostorCurve,
    identification_threshold,
    per_person_rate,
    shipped_impostor_curve,
)
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD, Gallery, MatchPolicy

# 20,000 comparisons; strangers counted from 0.40 on, growing to 2 % at 0.57.
GRID = (0.35, 0.38, 0.40, 0.45, 0.50, 0.55, 0.57, 0.60)
COUNTS = (0, 0, 2, 30, 120, 300, 400, 700)
CURVE = ImpostorCurve(GRID, COUNTS, 20_000)
SIZES = (1, 2, 3, 5, 10, 20, 45, 100, 300, 1000, 2000, 25_000)


def fpir_bound(curve: ImpostorCurve, distance: float, people: int) -> float:
    """FPIR at ``people`` from the 95 % upper bound of the rate at the point covering it."""
    index = next(i for i, d in enumerate(curve.distances) if d >= distance)
    rate = metrics.binomial_upper_bound(curve.counts[index], curve.comparisons)
    return 1.0 - (1.0 - rate) ** people


@pytest.mark.parametrize("curve", [CURVE, shipped_impostor_curve()])
def test_the_threshold_never_rises_as_the_gallery_grows(curve: ImpostorCurve) -> None:
    limits = [identification_threshold(0.57, 1e-2, curve, n) for n in SIZES]
    assert limits == sorted(limits, reverse=True)
    assert all(t <= 0.57 for t in limits)


@pytest.mark.parametrize("people", SIZES)
@pytest.mark.parametrize("target", [1e-1, 1e-2, 1e-3])
def test_the_target_is_met_at_the_threshold_and_missed_just_above(
    people: int, target: float
) -> None:
    limit = identification_threshold(0.60, target, CURVE, people)
    if math.isfinite(limit):
        assert fpir_bound(CURVE, limit, people) <= target * (1 + 1e-6)
        above = [d for d in GRID if d > limit]
        if above:  # the largest such point: the next one misses the target
            assert fpir_bound(CURVE, above[0], people) > target
    else:
        assert fpir_bound(CURVE, GRID[0], people) > target


def test_where_no_stranger_was_counted_the_rule_of_3_bounds_the_rate() -> None:
    """Zero strangers in 30,000 comparisons is a rate below ~1e-4, not zero."""
    clean = ImpostorCurve((0.4, 0.5, 0.6), (0, 0, 0), 30_000)
    assert identification_threshold(0.57, 1e-2, clean, 10) == 0.57  # r* 1e-3 > 3/30,000
    assert identification_threshold(0.57, 1e-2, clean, 50) == 0.57  # r* 2e-4 > 1e-4
    assert identification_threshold(0.57, 1e-2, clean, 2000) == NO_THRESHOLD  # r* 5e-6
    # The switch lies where 1 - (1 - 3/n)^N crosses the target: N ~ 0.01 / 1e-4 = 100.
    assert identification_threshold(0.57, 1e-2, clean, 95) == 0.57
    assert identification_threshold(0.57, 1e-2, clean, 105) == NO_THRESHOLD


def test_a_threshold_between_points_takes_the_count_of_the_point_above() -> None:
    curve = ImpostorCurve((0.40, 0.50), (0, 10_000), 20_000)
    assert identification_threshold(0.38, 1e-2, curve, 1) == 0.38
    # 0.45 is not measured: it might count as many strangers as 0.50 does.
    assert identification_threshold(0.45, 1e-2, curve, 1) == 0.40


def test_beyond_the_last_point_nothing_is_vouched_for() -> None:
    curve = ImpostorCurve((0.40, 0.50), (0, 0), 1_000_000)
    assert identification_threshold(0.57, 1e-2, curve, 1) == 0.50


@pytest.mark.parametrize(
    "curve",
    [
        ImpostorCurve((), (), 20_000),
        ImpostorCurve((0.4,), (0,), 0),
        ImpostorCurve((float("nan"), 0.5), (0, 1), 20_000),
        ImpostorCurve((0.4, 0.5), (5, 1), 20_000),  # counts must not fall
        ImpostorCurve((0.5, 0.4), (0, 1), 20_000),  # distances must rise
        ImpostorCurve((0.4,), (30_000,), 20_000),
    ],
)
def test_an_unusable_curve_fails_closed(curve: ImpostorCurve) -> None:
    assert not curve.valid
    assert identification_threshold(0.57, 1e-2, curve, 1) == NO_THRESHOLD


@pytest.mark.parametrize(("threshold", "max_fpir"), [(math.nan, 1e-2), (0.57, math.nan)])
def test_nan_settings_fail_closed(threshold: float, max_fpir: float) -> None:
    assert identification_threshold(threshold, max_fpir, CURVE, 1) == NO_THRESHOLD


def test_a_target_of_one_keeps_the_verification_threshold_and_zero_admits_nobody() -> None:
    assert identification_threshold(0.57, 1.0, CURVE, 25_000) == 0.57
    assert identification_threshold(0.57, 0.0, CURVE, 1) == NO_THRESHOLD


def test_per_person_rate_inverts_the_fpir_formula() -> None:
    rate = per_person_rate(1e-2, 2000)
    assert 1 - (1 - rate) ** 2000 == pytest.approx(1e-2)


def test_a_curve_round_trips_through_json_and_counts_distances() -> None:
    curve = ImpostorCurve.count([0.30, 0.41, 0.41, 0.9], grid=(0.3, 0.4, 0.5), source="t")
    assert curve.counts == (1, 1, 3)
    assert curve.comparisons == 4
    assert ImpostorCurve.from_json(curve.to_json()) == curve
    with pytest.raises(ValueError, match="impostor curve"):
        ImpostorCurve.from_json({"points": [[0.4, 3], [0.5, 1]], "comparisons": 10})
    with pytest.raises(ValueError, match="impostor curve"):
        ImpostorCurve.from_json({"points": "x"})


def test_the_shipped_curve_is_measured_and_caps_a_complex() -> None:
    curve = shipped_impostor_curve()
    assert curve.valid
    assert curve.comparisons > 15_000
    assert curve.distances == CURVE_GRID
    assert "choose half" in curve.source
    policy = MatchPolicy(DEFAULT_MATCH_THRESHOLD, 0.06)
    assert policy.impostors == curve
    assert 0.45 < policy.identification_threshold(1) <= DEFAULT_MATCH_THRESHOLD
    assert policy.identification_threshold(2000) == NO_THRESHOLD


def test_gallery_search_uses_the_threshold_for_its_people() -> None:
    rng = np.random.default_rng(7)
    gallery = Gallery()
    for i in range(3):
        v = rng.normal(size=128)
        gallery.add(f"p{i}", (v / np.linalg.norm(v)).astype(np.float32))
    policy = MatchPolicy(0.57, 0.0, 1e-2, CURVE)
    found, limit = gallery.search(gallery.rows()[0][1], policy)
    assert gallery.people_count() == 3
    assert limit == identification_threshold(0.57, 1e-2, CURVE, 3)
    assert found.person_id == "p0"


def test_a_sets_curve_compares_every_stranger_photo_with_each_persons_templates() -> None:
    from facegate.services.evaluation import impostor_curve

    rng = np.random.default_rng(3)

    def unit() -> np.ndarray:
        v = rng.normal(size=128)
        return (v / np.linalg.norm(v)).astype(np.float32)

    ann, bob = unit(), unit()
    # Ann's 4th photo is not a template; Bob's photos are strangers to Ann and back.
    people = {"s/ann": [ann, ann, ann, unit()], "s/bob": [bob, bob]}
    close = {"s/ann": [ann], "s/twin": [(ann + 0.3 * unit()).astype(np.float32)]}
    curve = impostor_curve(people)
    assert curve is not None
    assert curve.comparisons == 2 + 4  # Bob's 2 photos vs Ann, Ann's 4 vs Bob
    assert curve.counts[-1] == 0  # random unit vectors lie ~1.4 apart
    near = impostor_curve(close)
    assert near is not None
    assert near.counts[-1] == 2  # within 0.70 of each other, both ways
    assert impostor_curve({"s/ann": [ann]}) is None
