"""How often a stranger comes within a distance of one enrolled person, and what that allows.

1:N identification compares a stranger's face with every enrolled person: with ``N``
people and a per-person stranger rate ``r(d)`` at threshold ``d`` (the share of stranger
photos within ``d`` of a person's nearest template), the chance that a stranger matches
*someone* is ``FPIR(N) = 1 - (1 - r(d))^N`` (people taken as independent). A threshold
fit for one comparison is therefore far too loose for a gallery of thousands.

:class:`ImpostorCurve` is ``r(d)`` as counted on real people (the shipped curve, or a
site's own from ``facegate calibrate``); :func:`identification_threshold` picks, for a
gallery of ``N`` people, the largest distance ``d`` no larger than the 1:1 threshold at
which the rate is, with 95 % confidence, low enough that ``FPIR(N) <= max_fpir``. The
confidence is a one-sided Clopper-Pearson bound on the counted rate, which where no
stranger was counted is the rule of 3 (about ``3 / comparisons``): a curve never claims a
rate of zero. When no distance qualifies, the result is ``-inf``: the face alone names
nobody in 1:N search (the door then needs a card or a PIN, where the face is checked 1:1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.domain.metrics import binomial_cdf

NO_THRESHOLD = -math.inf
"""The identification threshold when no distance meets the target: nothing matches."""

DEFAULT_MAX_FPIR = 1e-2
"""The largest stranger match rate a door accepts in 1:N search (per stranger's face).

The shipped 1:1 threshold (0.57) was calibrated at a false-match rate of 1e-2 per
comparison; a door searching its whole gallery is held to the same odds per stranger.
"""

CONFIDENCE = 0.95
"""Confidence of the upper bound on the counted stranger rate."""

CURVE_GRID: tuple[float, ...] = tuple(round(0.25 + 0.01 * i, 2) for i in range(46))
"""Distances (euclidean) a curve is counted at: 0.25 to 0.70 by 0.01."""

SHIPPED_CURVE_FILE = "impostor_curve.json"
"""The shipped curve, a data file of this package (measured by ``bench/fpir_gallery.py``)."""


@dataclass(frozen=True, slots=True)
class ImpostorCurve:
    """Counted stranger comparisons against enrolled people, at ascending distances.

    Attributes:
        distances: ascending euclidean distances the curve was counted at.
        counts: at each distance, the (stranger photo, enrolled person) comparisons within
            it (nearest of the person's templates); non-decreasing.
        comparisons: (stranger photo, enrolled person) comparisons counted in all.
        templates: templates per enrolled person when counted (3 at enrolment).
        source: where and how it was measured.
    """

    distances: tuple[float, ...]
    counts: tuple[int, ...]
    comparisons: int
    templates: int = 3
    source: str = ""

    @property
    def valid(self) -> bool:
        """Whether the curve can be used: finite ascending distances, sane counts."""
        d, c = self.distances, self.counts
        return (
            len(d) == len(c) > 0
            and self.comparisons > 0
            and all(math.isfinite(x) for x in d)
            and all(a < b for a, b in pairwise(d))
            and all(isinstance(x, int) and 0 <= x <= self.comparisons for x in c)
            and all(a <= b for a, b in pairwise(c))
        )

    @classmethod
    def count(
        cls,
        distances: npt.ArrayLike,
        *,
        grid: Sequence[float] = CURVE_GRID,
        templates: int = 3,
        source: str = "",
    ) -> ImpostorCurve:
        """Count stranger-to-person ``distances`` (euclidean) at each ``grid`` distance."""
        values = np.sort(np.asarray(distances, dtype=np.float64).ravel())
        counts = np.searchsorted(values, np.asarray(grid, dtype=np.float64), side="right")
        return cls(
            tuple(float(g) for g in grid),
            tuple(int(c) for c in counts),
            int(values.size),
            templates,
            source,
        )

    def to_json(self) -> dict[str, Any]:
        """The curve as JSON-able data (what :meth:`from_json` reads)."""
        return {
            "comparisons": self.comparisons,
            "templates": self.templates,
            "source": self.source,
            "points": [[d, c] for d, c in zip(self.distances, self.counts, strict=True)],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ImpostorCurve:
        """Read :meth:`to_json`'s data.

        Raises:
            ValueError: the data is not a usable curve.
        """
        try:
            points = [(float(d), c) for d, c in raw["points"]]
            curve = cls(
                tuple(d for d, _ in points),
                tuple(c for _, c in points),
                raw["comparisons"],
                raw.get("templates", 3),
                str(raw.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not an impostor curve ({err})") from err
        if not isinstance(curve.comparisons, int) or not curve.valid:
            raise ValueError("not an impostor curve (points or comparisons out of order)")
        return curve


@lru_cache(maxsize=1)
def shipped_impostor_curve() -> ImpostorCurve:
    """The curve shipped with facegate for dlib's descriptor (read once).

    Measured on the *choose* half of the 87 real people of the shared face sets
    (``bench/fpir_gallery.py --curve``); its ``source`` says so.
    """
    text = resources.files("facegate.domain").joinpath(SHIPPED_CURVE_FILE).read_text("utf-8")
    return ImpostorCurve.from_json(json.loads(text))


def per_person_rate(max_fpir: float, people: int) -> float:
    """The per-person stranger rate ``r`` with ``1 - (1 - r)^people == max_fpir``."""
    return -math.expm1(math.log1p(-max_fpir) / people)


def surely_below(errors: int, trials: int, rate: float) -> bool:
    """Whether ``errors`` in ``trials`` show, at 95 % confidence, a true rate below ``rate``.

    Equivalent to the one-sided Clopper-Pearson upper bound being at most ``rate``; with
    no error it is the rule of 3 (``rate >= ~3 / trials``).
    """
    if not 0.0 < rate < 1.0:
        return rate >= 1.0
    if errors >= rate * trials:  # the bound lies above the observed rate
        return False
    return binomial_cdf(errors, trials, rate) <= 1.0 - CONFIDENCE


@lru_cache(maxsize=1024)
def identification_threshold(
    threshold: float, max_fpir: float, curve: ImpostorCurve, people: int
) -> float:
    """The 1:N threshold for a gallery of ``people``: at most ``threshold``, FPIR-capped.

    Args:
        threshold: the 1:1 threshold (euclidean distance), the most it can be.
        max_fpir: the largest share of strangers that may match someone (``>= 1``: no
            cap, the 1:1 threshold; ``<= 0`` or NaN: nothing matches).
        curve: the per-person stranger rates it is judged by.
        people: the people in the gallery (``<= 1`` is judged as one).

    Returns:
        The largest distance at or below ``threshold`` whose counted stranger rate is,
        with 95 % confidence, low enough for ``max_fpir`` at ``people``; between curve
        points a distance takes the count of the next point above it (unmeasured beyond
        the last point: refused). :data:`NO_THRESHOLD` (``-inf``) when none qualifies,
        or when ``threshold`` is not a finite number or the curve is unusable.
    """
    if not math.isfinite(threshold):
        return NO_THRESHOLD
    if max_fpir >= 1.0:
        return threshold
    if not max_fpir > 0.0 or not curve.valid:
        return NO_THRESHOLD
    rate = per_person_rate(max_fpir, max(people, 1))
    best = NO_THRESHOLD
    for distance, count in zip(curve.distances, curve.counts, strict=True):
        if not surely_below(count, curve.comparisons, rate):
            break
        best = min(distance, threshold)
        if distance >= threshold:
            break
    return best
