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
    centre=(0.9287, 0.266218, 11.3765, 0.00352248, 7.64875, 0.223403),
    scale=(1.24754, 0.163822, 2.77561, 0.0114553, 1.10632, 0.750629),
    weights=(-1.91657, 0, -1.04956, 0, 1.6844, 1.20425),
    bias=-0.180451,
    threshold=0.171525,
)
"""The shipped weights (measures version 3, attack suite version 3): ``python
bench/fit_frame_cue.py --per-cell 6 --replay-per-cell 2`` (every attack type) on 155 live
faces (every 10th frame of ``webcam_one_person.mp4``, 134, and every face of at least 40
pixels on every 5th frame of ``several_people_walking.mp4``, 21) and 99 attack frames
(three of each colour clip of the attack suite's calibration part: 25 prints, which since
suite version 3 look like ink on paper, sharper or blurrier than their room, none of them
``print_shake`` (that cell drew only grey photos), and 8 replays). ``hand_skin`` is
unweighted (:data:`UNWEIGHTED`); ``glare``'s fitted weight pointed the wrong way (the
fitting data's synthetic screens show none near the face) and was dropped. Calibration:
3 of the 155 live faces refused at the fitted threshold (the 2 % rule); 0-50 % of the
calibration attack frames accepted per type (this cue alone does not stop a print whose
inks keep the face red; the multi-frame cue is what stops a moved print)."""


FIT_MAX_BPCER: Final = 0.02
"""Share of the fitting data's live frames the fitted threshold may refuse (default 2 %)."""

UNWEIGHTED: Final = ("hand_skin",)
"""Measures :func:`fit_weights` gives no weight: ``hand_skin`` reads skin-coloured walls,
hair and wood beside a live face (on the fitting data's live frames it is *higher* than
on the attacks: median 0.32 against 0.10), not the hand; it is measured and shown only."""

FIT_C: Final = 1.0
"""Inverse regularisation strength of the fit (scikit-learn's ``C``)."""


def fit_weights(
    measures: Vector,
    labels: npt.NDArray[np.int_],
    max_bpcer: float = FIT_MAX_BPCER,
    unweighted: tuple[str, ...] = UNWEIGHTED,
) -> FrameCueWeights:
    """Fit :class:`FrameCueWeights` on ``(n, 6)`` measures (label 1 live, 0 attack).

    The measures are standardised by their mean and standard deviation over all samples,
    a class-balanced, L2-regularised logistic regression is fitted, and the threshold is
    the highest score that refuses at most ``max_bpcer`` of the live samples. A measure
    whose fitted weight points against its physical direction
    (:data:`facegate.vision.liveness.frame_measures.LIVE_DIRECTION`) learnt an artefact
    of the fitting data, not the attack: its weight is set to 0 and the rest refitted.
    The ``unweighted`` measures get weight 0 from the start.

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
    used = np.array([name not in unweighted for name in MEASURES])
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
