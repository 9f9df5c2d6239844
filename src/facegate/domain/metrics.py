"""Biometric error rates in the terms of ISO/IEC 19795-1.

Scores are euclidean *distances* (lower is closer); a comparison is a match when
``distance <= threshold``.

- FMR (false-match rate): share of impostor comparisons that match.
- FNMR (false non-match rate): share of genuine comparisons that do not match.
- EER: the rate where FMR and FNMR are equal.
- FPIR / FNIR: the open-set identification counterparts: a non-mated search that
  returns anyone within the threshold is a false positive; a mated search whose rank-1
  candidate is not the right person, or is beyond the threshold, is a false negative.

A rate of ``x`` can only be claimed from ``n`` comparisons when ``n >= 3 / x`` (the "rule of
3": with no error in ``n`` trials the 95% upper bound on the rate is about ``3 / n``);
functions that report a rate at such an operating point return ``None`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]


def _scores(values: Sequence[float] | npt.ArrayLike) -> Scores:
    array = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if not np.all(np.isfinite(array)):
        raise ValueError("scores must be finite numbers")
    return array


def claimable(comparisons: int, rate: float) -> bool:
    """Whether a rate of ``rate`` can be claimed from ``comparisons`` trials (rule of 3)."""
    return comparisons > 0 and comparisons >= 3.0 / rate


def false_match_rate(impostor: Sequence[float] | npt.ArrayLike, threshold: float) -> float:
    """Share of impostor distances ``<= threshold`` (0 when there are none)."""
    scores = _scores(impostor)
    if not scores.size:
        return 0.0
    return float(np.searchsorted(scores, threshold, side="right")) / scores.size


def false_non_match_rate(genuine: Sequence[float] | npt.ArrayLike, threshold: float) -> float:
    """Share of genuine distances ``> threshold`` (0 when there are none)."""
    scores = _scores(genuine)
    if not scores.size:
        return 0.0
    return 1.0 - float(np.searchsorted(scores, threshold, side="right")) / scores.size


def threshold_for_fmr(impostor: Sequence[float] | npt.ArrayLike, target_fmr: float) -> float:
    """The largest threshold whose FMR on ``impostor`` does not exceed ``target_fmr``.

    Args:
        impostor: impostor distances (at least one).
        target_fmr: the false-match rate not to exceed, in (0, 1].

    Returns:
        A distance threshold: just below the impostor distance that would push the
        number of false matches over ``floor(target_fmr * n)``.
    """
    scores = _scores(impostor)
    if not scores.size:
        raise ValueError("no impostor scores to set a threshold from")
    if not 0.0 < target_fmr <= 1.0:
        raise ValueError(f"target FMR must be in (0, 1], got {target_fmr}")
    allowed = math.floor(target_fmr * scores.size + 1e-9)
    if allowed >= scores.size:
        return float(scores[-1])
    return float(np.nextafter(scores[allowed], -np.inf))


def fnmr_at_fmr(
    genuine: Sequence[float] | npt.ArrayLike,
    impostor: Sequence[float] | npt.ArrayLike,
    target_fmr: float,
) -> float | None:
    """FNMR at the threshold where FMR first reaches ``target_fmr``, or ``None`` if unclaimable."""
    impostor_scores = _scores(impostor)
    if not claimable(impostor_scores.size, target_fmr) or not len(_scores(genuine)):
        return None
    return false_non_match_rate(genuine, threshold_for_fmr(impostor_scores, target_fmr))


@dataclass(frozen=True, slots=True)
class ErrorCurve:
    """FMR and FNMR at every distinct threshold worth trying, in ascending threshold order."""

    thresholds: Scores
    fmr: Scores
    fnmr: Scores


def error_curve(
    genuine: Sequence[float] | npt.ArrayLike, impostor: Sequence[float] | npt.ArrayLike
) -> ErrorCurve:
    """FMR and FNMR at each observed distance (and just below the smallest one)."""
    g, i = _scores(genuine), _scores(impostor)
    if not g.size or not i.size:
        raise ValueError("an error curve needs both genuine and impostor scores")
    observed = np.unique(np.concatenate([g, i]))
    thresholds = np.concatenate([[np.nextafter(observed[0], -np.inf)], observed])
    fmr = np.searchsorted(i, thresholds, side="right") / i.size
    fnmr = 1.0 - np.searchsorted(g, thresholds, side="right") / g.size
    return ErrorCurve(thresholds, fmr.astype(np.float64), fnmr.astype(np.float64))


def equal_error_rate(
    genuine: Sequence[float] | npt.ArrayLike, impostor: Sequence[float] | npt.ArrayLike
) -> tuple[float, float]:
    """The equal error rate and the threshold where it occurs.

    FMR rises and FNMR falls with the threshold; the EER is read where they cross,
    interpolating linearly between the two observed thresholds around the crossing.

    Returns:
        ``(eer, threshold)``.
    """
    curve = error_curve(genuine, impostor)
    gap = curve.fmr - curve.fnmr
    crossing = int(np.argmax(gap >= 0.0))
    if crossing == 0:
        return float((curve.fmr[0] + curve.fnmr[0]) / 2.0), float(curve.thresholds[0])
    before, after = crossing - 1, crossing
    span = gap[after] - gap[before]
    weight = 0.0 if span == 0 else -gap[before] / span
    eer_fmr = curve.fmr[before] + weight * (curve.fmr[after] - curve.fmr[before])
    eer_fnmr = curve.fnmr[before] + weight * (curve.fnmr[after] - curve.fnmr[before])
    threshold = curve.thresholds[before] + weight * (
        curve.thresholds[after] - curve.thresholds[before]
    )
    return float((eer_fmr + eer_fnmr) / 2.0), float(threshold)


def accuracy_at(
    genuine: Sequence[float] | npt.ArrayLike,
    impostor: Sequence[float] | npt.ArrayLike,
    threshold: float,
    failed_pairs: int = 0,
) -> float:
    """Share of pairs decided correctly at ``threshold``; ``failed_pairs`` count as wrong."""
    g, i = _scores(genuine), _scores(impostor)
    total = g.size + i.size + failed_pairs
    if total == 0:
        raise ValueError("no pairs to score")
    correct = np.searchsorted(g, threshold, side="right") + (
        i.size - np.searchsorted(i, threshold, side="right")
    )
    return float(correct) / total


def best_accuracy_threshold(
    genuine: Sequence[float] | npt.ArrayLike,
    impostor: Sequence[float] | npt.ArrayLike,
    failed_pairs: int = 0,
) -> tuple[float, float]:
    """The threshold with the highest pair accuracy, and that accuracy.

    Of equally good thresholds the midpoint of the best run is returned, so the value
    does not hug one observed score. ``failed_pairs`` count as errors at every threshold.

    Returns:
        ``(threshold, accuracy)``.
    """
    curve = error_curve(genuine, impostor)
    g_n, i_n = len(_scores(genuine)), len(_scores(impostor))
    # Counts are whole numbers; rounding keeps float noise from splitting a tie.
    correct = np.rint((1.0 - curve.fnmr) * g_n + (1.0 - curve.fmr) * i_n)
    best = correct.max()
    best_positions = np.flatnonzero(correct == best)
    first = int(best_positions[0])
    run_end = first
    while run_end + 1 < correct.size and correct[run_end + 1] == best:
        run_end += 1
    threshold = curve.thresholds[run_end]
    if run_end + 1 < curve.thresholds.size:
        midpoint = (curve.thresholds[first] + curve.thresholds[run_end + 1]) / 2.0
        # Two adjacent floats (the curve's first threshold and the smallest score) have no
        # midpoint: it would round up onto the score and change the decision there.
        if midpoint < curve.thresholds[run_end + 1]:
            threshold = midpoint
    return float(threshold), float(best / (g_n + i_n + failed_pairs))


def binomial_cdf(errors: int, trials: int, rate: float) -> float:
    """P(X <= errors) for X ~ Binomial(trials, rate), ``0 < rate < 1`` (log-space sum)."""
    log_terms = [
        math.lgamma(trials + 1)
        - math.lgamma(k + 1)
        - math.lgamma(trials - k + 1)
        + k * math.log(rate)
        + (trials - k) * math.log1p(-rate)
        for k in range(errors + 1)
    ]
    top = max(log_terms)
    return math.exp(top) * sum(math.exp(t - top) for t in log_terms)


def binomial_upper_bound(errors: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of an error rate.

    Args:
        errors: errors observed.
        trials: comparisons made.
        confidence: the bound's confidence level.

    Returns:
        The rate that, were it the truth, would show ``errors`` or fewer with probability
        ``1 - confidence``; about ``3 / trials`` for no errors at 95%.
    """
    if trials <= 0:
        return 1.0
    if errors >= trials:
        return 1.0
    alpha = 1.0 - confidence

    low, high = errors / trials, 1.0
    for _ in range(80):
        mid = (low + high) / 2.0
        if mid <= 0.0 or binomial_cdf(errors, trials, mid) > alpha:
            low = mid
        else:
            high = mid
    return high


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """One open-set search: the rank-1 candidate's distance and whether it is the mate."""

    rank1_distance: float
    rank1_is_mate: bool


def fpir_at(non_mated: Sequence[SearchOutcome], threshold: float) -> float:
    """Share of non-mated searches returning a candidate within ``threshold``."""
    if not non_mated:
        return 0.0
    return sum(o.rank1_distance <= threshold for o in non_mated) / len(non_mated)


def fnir_at(mated: Sequence[SearchOutcome], threshold: float) -> float:
    """Share of mated searches whose rank-1 is not the mate or lies beyond ``threshold``."""
    if not mated:
        return 0.0
    hits = sum(o.rank1_is_mate and o.rank1_distance <= threshold for o in mated)
    return 1.0 - hits / len(mated)


def fnir_at_fpir(
    mated: Sequence[SearchOutcome], non_mated: Sequence[SearchOutcome], target_fpir: float
) -> float | None:
    """FNIR at the largest threshold whose FPIR stays within ``target_fpir``.

    Returns:
        The rate, or ``None`` when there are too few non-mated searches to claim the
        target (rule of 3) or no mated ones.
    """
    if not mated or not claimable(len(non_mated), target_fpir):
        return None
    threshold = threshold_for_fmr([o.rank1_distance for o in non_mated], target_fpir)
    return fnir_at(mated, threshold)
