"""Synthetic residents whose faces are as far from real faces as real strangers are.

A gallery of 2,000 residents cannot be made of the ~80 real people of the shared sets,
and random vectors would never come near a real face (no false match, no margin
conflict, nothing measured). The fill is drawn from a two-level Gaussian model fitted
on real descriptors: a person's centre from the between-person spread of the real
identity means, each template from the real within-person spread around its centre.
One scale factor on the between-person spread is chosen so that the distances from
synthetic templates to real faces follow the measured impostor distribution (the
smallest two-sample Kolmogorov-Smirnov statistic on a grid), so a stranger meets the
fill about as often as they would meet real residents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from facegate.domain.errors import DataSetError
from facegate.domain.matching import pairwise_distances

Matrix = npt.NDArray[np.float64]
SCALES = tuple(float(s) for s in np.linspace(0.4, 1.6, 13))
"""Candidate factors on the between-person standard deviation (dimensionless)."""
ANCHORS = (0.0, 0.5, 0.7, 0.8)
"""Candidate weights of a real person's position in a synthetic centre (0: none)."""
TAIL_QUANTILES = (1e-3, 3e-3, 1e-2, 3e-2)
"""Shares of the real impostor distances at whose quantiles the fit also matches the tail."""
TAIL_FLOOR = 2e-4
"""Added to both shares before their ratio (a share of 0 is not infinitely wrong)."""
TAIL_WEIGHT = 0.05
"""Weight of the tail's log gap against the KS statistic in the fit's loss."""
SHRINKS = (0.0, 0.3, 0.6)
"""Candidate shares of shrinkage of the between-person covariance towards its mean variance."""


@dataclass(frozen=True, slots=True)
class FillModel:
    """The fitted generator of synthetic people.

    Attributes:
        mean: the mean of the real identity means (128-D).
        between: a factor ``B`` with ``B @ B.T`` the between-person covariance.
        within: a factor ``W`` with ``W @ W.T`` the within-person covariance.
        scale: the factor on ``between`` chosen to match the impostor distribution.
        ks: the Kolmogorov-Smirnov statistic of synthetic-to-real against real impostor
            distances at ``scale`` (0 = identical distributions).
        anchors: the real identity means; a synthetic centre starts ``anchor`` of the
            way from ``mean`` to one of them (real faces come in clusters: sets, ages,
            lighting), then spreads by ``scale``.
        anchor: that weight (0: a plain Gaussian around ``mean``).
        tail_error: :func:`tail_gap` at the chosen parameters (0 = the low tail matches).
    """

    mean: Matrix
    between: Matrix
    within: Matrix
    scale: float
    ks: float
    anchors: Matrix | None = None
    anchor: float = 0.0
    tail_error: float = 1.0

    def people(self, count: int, templates: int, seed: int) -> npt.NDArray[np.float32]:
        """``count`` synthetic people of ``templates`` descriptors each: (count, templates, 128)."""
        rng = np.random.default_rng(seed)
        dim = self.mean.shape[0]
        start = np.broadcast_to(self.mean, (count, dim))
        if self.anchors is not None and self.anchor > 0:
            picked = self.anchors[rng.integers(len(self.anchors), size=count)]
            start = self.mean + self.anchor * (picked - self.mean)
        centres = start + self.scale * rng.standard_normal((count, dim)) @ self.between.T
        noise = rng.standard_normal((count, templates, dim)) @ self.within.T
        return (centres[:, None, :] + noise).astype(np.float32)


def ks_statistic(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap of the two CDFs."""
    left, right = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    values = np.concatenate([left, right])
    cdf_left = np.searchsorted(left, values, side="right") / len(left)
    cdf_right = np.searchsorted(right, values, side="right") / len(right)
    return float(np.max(np.abs(cdf_left - cdf_right)))


def impostor_distances(people: Mapping[str, npt.NDArray[np.float32]]) -> Matrix:
    """Every distance between descriptors of different real people (euclidean)."""
    rows = [np.asarray(v, np.float32) for v in people.values()]
    labels = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)])
    matrix = np.concatenate(rows)
    distances = pairwise_distances(matrix, matrix)
    upper = np.triu(np.ones_like(distances, dtype=bool), k=1)
    return np.asarray(distances[upper & (labels[:, None] != labels[None, :])], np.float64)


def _factor(covariance: Matrix, floor: float) -> Matrix:
    """A square-root factor of a covariance, its eigenvalues floored (rank-deficient data)."""
    values, vectors = np.linalg.eigh(covariance)
    return np.asarray(vectors * np.sqrt(np.maximum(values, floor)), np.float64)


def _between_factors(means: Matrix) -> list[Matrix]:
    """Candidate between-person factors: the sample covariance shrunk by 0 to 60 %.

    Shrunk towards its mean variance. With about as many people as dimensions the sample
    covariance's eigenvalues spread too far (the large ones too large, unseen directions
    at zero), which widens the distance distribution; shrinking pulls them back.
    """
    sample = np.cov(means, rowvar=False)
    average = float(np.trace(sample)) / sample.shape[0]
    return [
        _factor((1.0 - share) * sample + share * average * np.eye(sample.shape[0]), 1e-9)
        for share in SHRINKS
    ]


def fit(people: Mapping[str, npt.NDArray[np.float32]], seed: int = 0) -> FillModel:
    """Fit the fill on real people's descriptors (at least 2 descriptors of 10 people).

    Raises:
        DataSetError: too few people or descriptors to fit.
    """
    groups = {k: np.asarray(v, np.float64) for k, v in people.items() if len(v) >= 2}
    if len(groups) < 10:
        raise DataSetError(f"the fill needs 10 real people with 2 faces or more ({len(groups)})")
    means = np.stack([g.mean(axis=0) for g in groups.values()])
    residuals = np.concatenate([g - g.mean(axis=0) for g in groups.values()])
    within = _factor(np.cov(residuals, rowvar=False), 1e-7)
    measured = impostor_distances(people)
    real = np.concatenate([np.asarray(v, np.float32) for v in people.values()])
    best, best_loss = FillModel(means.mean(axis=0), within, within, 1.0, 1.0), np.inf
    for between in _between_factors(means):
        for anchor in ANCHORS:
            for scale in SCALES:
                trial = FillModel(best.mean, between, within, scale, 1.0, means, anchor)
                drawn = trial.people(200, 1, seed)[:, 0, :]
                to_real = pairwise_distances(drawn, real).ravel()
                ks, tail = ks_statistic(to_real, measured), tail_gap(to_real, measured)
                if ks + TAIL_WEIGHT * tail < best_loss:
                    best_loss = ks + TAIL_WEIGHT * tail
                    best = FillModel(best.mean, between, within, scale, ks, means, anchor, tail)
    return best


def tail_gap(drawn: npt.ArrayLike, measured: npt.ArrayLike) -> float:
    """How far the low tail is off (0 = it matches).

    The largest ``|log(F_drawn(x_q) / q)|`` over the ``measured`` quantiles ``x_q`` for
    ``q`` in :data:`TAIL_QUANTILES`; on a log scale, so an excess of very close pairs
    (look-alikes) weighs as much as a shortage of them.
    """
    left, right = np.sort(np.asarray(drawn, np.float64)), np.asarray(measured, np.float64)
    gaps = []
    for q in TAIL_QUANTILES:
        share = np.searchsorted(left, float(np.quantile(right, q)), side="right") / len(left)
        gaps.append(abs(np.log((share + TAIL_FLOOR) / (q + TAIL_FLOOR))))
    return float(max(gaps))


def fraction_below(distances: npt.ArrayLike, threshold: float) -> float:
    """The share of ``distances`` at or below ``threshold`` (a false match rate)."""
    values = np.asarray(distances, np.float64)
    return float(np.mean(values <= threshold)) if values.size else float("nan")


def distinct_people(
    model: FillModel,
    count: int,
    templates: int,
    existing: npt.NDArray[np.float32],
    threshold: float,
    seed: int,
    batch: int = 512,
) -> npt.NDArray[np.float32]:
    """``count`` synthetic people none of whom an enrolment would refuse as a duplicate.

    A drawn person is kept when every one of their templates is farther than
    ``threshold`` (the duplicate threshold, euclidean) from every template of the people
    already there (``existing``, n x 128) and of those kept before; others are drawn
    again, as a site's enrolment would refuse them. People are drawn ``batch`` at a time
    until there are ``count``, or 20 batches in a row kept nobody (fewer then).
    """
    kept: list[npt.NDArray[np.float32]] = []
    start = np.asarray(existing, np.float32).reshape(-1, 128)
    rows = np.empty((len(start) + count * templates, 128), np.float32)
    rows[: len(start)] = start
    filled, attempt, barren = len(start), 0, 0
    while len(kept) < count and barren < 20:
        wanted = min(max(count - len(kept), 16), batch)
        drawn = model.people(wanted, templates, seed + 7919 * attempt)
        found = _distinct_batch(drawn, rows[:filled], threshold)[: count - len(kept)]
        for person in found:
            kept.append(person)
            rows[filled : filled + templates] = person
            filled += templates
        attempt, barren = attempt + 1, 0 if found else barren + 1
    return np.stack(kept) if kept else np.empty((0, templates, 128), np.float32)


def _distinct_batch(
    drawn: npt.NDArray[np.float32], rows: npt.NDArray[np.float32], threshold: float
) -> list[npt.NDArray[np.float32]]:
    """The people of ``drawn`` farther than ``threshold`` from ``rows`` and from each other."""
    count, templates = drawn.shape[:2]
    flat = drawn.reshape(-1, 128)
    owner = np.repeat(np.arange(count), templates)
    clear = np.ones(count, bool)
    if len(rows):
        nearest = np.min(
            [_nearest(flat, rows[i : i + 8192]) for i in range(0, len(rows), 8192)], axis=0
        )
        clear &= ~np.bincount(owner, nearest <= threshold, count).astype(bool)
    close = pairwise_distances(flat, flat) <= threshold
    close &= owner[:, None] != owner[None, :]
    near: npt.NDArray[np.bool_] = np.asarray(
        close.reshape(count, templates, count, templates).any(axis=(1, 3)), bool
    )
    kept: list[npt.NDArray[np.float32]] = []
    taken = np.zeros(count, bool)
    for i in np.flatnonzero(clear):
        if not taken[near[i]].any():
            taken[i] = True
            kept.append(drawn[i])
    return kept


def _nearest(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each row of ``a``'s euclidean distance to its nearest row of ``b``.

    In float32 (about 1e-6 off, far below the duplicate threshold's 0.35): half the work
    of :func:`pairwise_distances`, and only the minimum is kept (the fill's rows grow to
    75,000 at 25,000 residents).
    """
    lengths_a = np.einsum("ij,ij->i", a, a)[:, None]
    lengths_b = np.einsum("ij,ij->i", b, b)[None, :]
    nearest = (lengths_a + lengths_b - 2.0 * (a @ b.T)).min(axis=1)
    distances: npt.NDArray[np.float32] = np.sqrt(np.clip(nearest, 0.0, None)).astype(np.float32)
    return distances
