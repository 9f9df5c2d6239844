"""Choose a distance threshold that meets a target false-match rate, and say how surely."""

from __future__ import annotations

from dataclasses import dataclass

from facegate.domain import metrics
from facegate.domain.errors import DataSetError
from facegate.domain.impostors import ImpostorCurve
from facegate.domain.metrics import Scores


@dataclass(frozen=True, slots=True)
class Calibration:
    """A threshold calibrated on a site's own data by ``facegate calibrate``.

    Attributes:
        model_id: the descriptor model the threshold belongs to.
        threshold: the euclidean distance threshold.
        target_fmr: the false-match rate asked for.
        fmr: the FMR measured at the threshold on the calibration set.
        fmr_upper_95: one-sided 95% Clopper-Pearson upper bound of that FMR: the rate
            the threshold can be trusted to stay under on people like these.
        fnmr: the FNMR measured at the threshold.
        impostor_comparisons: impostor comparisons behind ``fmr``.
        genuine_comparisons: genuine comparisons behind ``fnmr``.
        supported: whether the impostor comparisons suffice to claim ``target_fmr``
            (rule of 3: at least ``3 / target_fmr`` of them).
        source: the calibration set.
        created_at: ISO 8601 UTC time of the calibration.
        impostor_curve: the per-person stranger rates counted on the same people (each
            enrolled from their first images, every other person's photos as strangers),
            which cap the 1:N threshold by gallery size; ``None`` in files written
            before it was recorded (the shipped curve is used then).
    """

    model_id: str
    threshold: float
    target_fmr: float
    fmr: float
    fmr_upper_95: float
    fnmr: float
    impostor_comparisons: int
    genuine_comparisons: int
    supported: bool
    source: str
    created_at: str
    impostor_curve: ImpostorCurve | None = None


def calibrate_threshold(
    genuine: Scores,
    impostor: Scores,
    target_fmr: float,
    *,
    model_id: str,
    source: str,
    created_at: str,
    impostor_curve: ImpostorCurve | None = None,
) -> Calibration:
    """The largest threshold whose FMR on ``impostor`` stays within ``target_fmr``.

    Raises:
        DataSetError: no impostor or no genuine comparisons, or a target outside (0, 1).
    """
    if not 0.0 < target_fmr < 1.0:
        raise DataSetError(f"the target FMR must lie between 0 and 1, got {target_fmr}")
    if impostor.size == 0 or genuine.size == 0:
        raise DataSetError(
            "calibration needs genuine and impostor comparisons: at least two people, "
            "one of them with two or more usable images"
        )
    threshold = metrics.threshold_for_fmr(impostor, target_fmr)
    fmr = metrics.false_match_rate(impostor, threshold)
    false_matches = round(fmr * impostor.size)
    return Calibration(
        model_id=model_id,
        threshold=threshold,
        target_fmr=target_fmr,
        fmr=fmr,
        fmr_upper_95=metrics.binomial_upper_bound(false_matches, int(impostor.size)),
        fnmr=metrics.false_non_match_rate(genuine, threshold),
        impostor_comparisons=int(impostor.size),
        genuine_comparisons=int(genuine.size),
        supported=metrics.claimable(int(impostor.size), target_fmr),
        source=source,
        created_at=created_at,
        impostor_curve=impostor_curve,
    )
