"""The single-frame screen-and-print cue: a few fitted weights on explicit measurements.

The :mod:`frame_measures <facegate.vision.liveness.frame_measures>` of one frame are
standardised and combined linearly (logistic regression):

    score = 1 / (1 + exp(-(bias + sum_i weight_i * (measure_i - centre_i) / scale_i)))

in (0, 1), higher is more live; live when ``score >= threshold``. Nothing is trained at
the site and no model file is read: the :data:`SHIPPED` weights are written here by
``bench/fit_frame_cue.py`` from licence-clean sources only (attack frames of the attack
suite's calibration part and frames of the shared live videos; never NUAA, never the
images it is reported on), with the data they were fitted on in its docstring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.domain.liveness import CueResult, FaceFrame
from facegate.vision.liveness.frame_measures import (
    LIVE_DIRECTION,
    MEASURES,
    Vector,
    measure_frame,
)

CUE_NAME: Final = "frame"
"""The cue's name in verdicts."""


@dataclass(frozen=True, slots=True)
class FrameCueWeights:
    """The fitted combination of :data:`MEASURES` (one value per measure, in that order).

    Attributes:
        centre: subtracted from each measure (its calibration mean, the measure's unit).
        scale: each centred measure is divided by it (its calibration standard deviation).
        weights: logistic-regression weight of each standardised measure (unitless).
        bias: the intercept (logit units).
        threshold: live when the score (0-1) is at least this.
    """

    centre: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def __post_init__(self) -> None:
        sizes = {len(self.centre), len(self.scale), len(self.weights)}
        if sizes != {len(MEASURES)} or not 0.0 < self.threshold < 1.0:
            raise ValueError(f"frame cue weights need {len(MEASURES)} values each, 0<threshold<1")
        if min(self.scale) <= 0.0:
            raise ValueError("frame cue scales must be positive")

    def score(self, measures: Vector) -> float:
        """The liveness score (0-1) of one frame's :data:`MEASURES`."""
        z = (measures - np.asarray(self.centre)) / np.asarray(self.scale)
        logit = self.bias + float(np.dot(np.asarray(self.weights), z))
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))


SHIPPED: Final = FrameCueWeights(
    centre=(1.01504, 0.245773, 10.8783, 0.0331585, 45.8655, 0.136715),
    scale=(1.39425, 0.162429, 1.84213, 0.0990287, 23.8478, 1.00462),
    weights=(-2.46336, 0, -0.927061, -0.829417, 0.816917, 0.480225),
    bias=0.363133,
    threshold=0.120898,
)
"""The shipped weights: ``python bench/fit_frame_cue.py --per-cell 6 --replay-per-cell 1``
on 144 live frames (``webcam_one_person.mp4`` and ``several_people_walking.mp4``, every
10th frame) and 87 attack frames (three of each colour clip of the attack suite's
calibration part: 6 prints per type and distance, 1 replay per screen and distance, as
rendered in the time there was). ``hand_skin`` got no weight (its fitted weight pointed
the wrong way: skin-coloured walls in the live frames). Calibration: 1.4 % of the live
frames refused at this threshold (the 2 % rule)."""


FIT_MAX_BPCER: Final = 0.02
"""Share of the fitting data's live frames the fitted threshold may refuse (default 2 %)."""

FIT_C: Final = 1.0
"""Inverse regularisation strength of the fit (scikit-learn's ``C``)."""


def fit_weights(
    measures: Vector, labels: npt.NDArray[np.int_], max_bpcer: float = FIT_MAX_BPCER
) -> FrameCueWeights:
    """Fit :class:`FrameCueWeights` on ``(n, 6)`` measures (label 1 live, 0 attack).

    The measures are standardised by their mean and standard deviation over all samples,
    a class-balanced, L2-regularised logistic regression is fitted, and the threshold is
    the highest score that refuses at most ``max_bpcer`` of the live samples. A measure
    whose fitted weight points against its physical direction
    (:data:`facegate.vision.liveness.frame_measures.LIVE_DIRECTION`) learnt an artefact
    of the fitting data, not the attack: its weight is set to 0 and the rest refitted.

    Raises:
        ValueError: fewer than 10 samples of either class, measures of another shape, or
            no measure left in its physical direction.
    """
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels, dtype=np.int_)
    if measures.ndim != 2 or measures.shape[1] != len(MEASURES):
        raise ValueError(f"expected (n, {len(MEASURES)}) measures, got {measures.shape}")
    if min(int(np.sum(labels == 1)), int(np.sum(labels == 0))) < 10:
        raise ValueError("fitting needs at least 10 live and 10 attack samples")
    centre = measures.mean(axis=0)
    scale = np.maximum(measures.std(axis=0), 1e-6)
    standard = (measures - centre) / scale
    used = np.ones(len(MEASURES), dtype=bool)
    weights = np.zeros(len(MEASURES))
    bias = 0.0
    while used.any():
        model = LogisticRegression(C=FIT_C, class_weight="balanced", max_iter=1000)
        model.fit(standard[:, used], labels)
        weights[:] = 0.0
        weights[used] = model.coef_[0]
        bias = float(model.intercept_[0])
        against = used & (weights * np.asarray(LIVE_DIRECTION) < 0)
        if not against.any():
            break
        used &= ~against
    if not used.any():
        raise ValueError("no measure separates live from attack in its physical direction")
    weights[~used] = 0.0
    unfitted = FrameCueWeights(
        tuple(float(v) for v in centre),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in weights),
        bias,
        0.5,
    )
    live = np.sort([unfitted.score(row) for row in measures[labels == 1]])
    threshold = float(live[int(np.floor(max_bpcer * live.size))])
    threshold = min(max(threshold, 1e-6), 1.0 - 1e-6)
    return FrameCueWeights(
        unfitted.centre, unfitted.scale, unfitted.weights, unfitted.bias, threshold
    )


def frame_cue(frame: FaceFrame, weights: FrameCueWeights = SHIPPED) -> CueResult:
    """The single-frame cue on the face of ``frame``; never raises (a failure is not live)."""
    try:
        measures = measure_frame(frame.image, frame.box)
    except (ValueError, ArithmeticError) as err:
        return CueResult(CUE_NAME, 0.0, weights.threshold, {}, f"frame: {err}")
    if not np.all(np.isfinite(measures)):
        return CueResult(CUE_NAME, 0.0, weights.threshold, {}, "frame: a measure is not finite")
    details = dict(zip(MEASURES, (float(v) for v in measures), strict=True))
    return CueResult(CUE_NAME, weights.score(measures), weights.threshold, details)
