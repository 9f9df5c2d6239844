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
SCALES = tuple(float(s) for s in np.linspace(0.5, 1.6, 23))
"""Candidate factors on the between-person standard deviation (dimensionless)."""


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
    """

    mean: Matrix
    between: Matrix
    within: Matrix
    scale: float
    ks: float

    def people(self, count: int, templates: int, seed: int) -> npt.NDArray[np.float32]:
        """``count`` synthetic people of ``templates`` descriptors each: (count, templates, 128)."""
        rng = np.random.default_rng(seed)
        dim = self.mean.shape[0]
        centres = self.mean + self.scale * rng.standard_normal((count, dim)) @ self.between.T
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
    rows = [np.asarray(v, np.float64) for v in people.values()]
    labels = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)])
    matrix = np.concatenate(rows)
    distances = pairwise_distances(matrix, matrix)
    upper = np.triu(np.ones_like(distances, dtype=bool), k=1)
    return np.asarray(distances[upper & (labels[:, None] != labels[None, :])], np.float64)


def _factor(covariance: Matrix, floor: float) -> Matrix:
    """A square-root factor of a covariance, its eigenvalues floored (rank-deficient data)."""
    values, vectors = np.linalg.eigh(covariance)
    return np.asarray(vectors * np.sqrt(np.maximum(values, floor)), np.float64)


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
    between = _factor(np.cov(means, rowvar=False), 1e-6)
    within = _factor(np.cov(residuals, rowvar=False), 1e-7)
    model = FillModel(means.mean(axis=0), between, within, 1.0, 1.0)
    measured = impostor_distances(people)
    real = np.concatenate([np.asarray(v, np.float64) for v in people.values()])
    best = model
    for scale in SCALES:
        trial = FillModel(model.mean, between, within, scale, 1.0)
        drawn = trial.people(300, 1, seed)[:, 0, :]
        ks = ks_statistic(pairwise_distances(drawn, real).ravel(), measured)
        if ks < best.ks:
            best = FillModel(model.mean, between, within, scale, ks)
    return best


def fraction_below(distances: npt.ArrayLike, threshold: float) -> float:
    """The share of ``distances`` at or below ``threshold`` (a false match rate)."""
    values = np.asarray(distances, np.float64)
    return float(np.mean(values <= threshold)) if values.size else float("nan")
