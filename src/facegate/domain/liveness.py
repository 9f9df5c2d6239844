"""Liveness (presentation attack detection) in the terms of ISO/IEC 30107-3.

Every cue turns what it sees into a *liveness score* (higher is more live) and compares
it with its own threshold; a sample is accepted as bona fide when ``score >= threshold``.

- APCER (attack presentation classification error rate): share of attack presentations
  accepted as bona fide.
- BPCER (bona fide presentation classification error rate): share of bona fide
  presentations rejected as attacks.
- ACER: the mean of APCER and BPCER (a summary the NUAA literature reports).

Fusion rule (documented, deliberately simple): a presentation is live only when **every
cue that ran** says live; an attacker has to fool all of them. The fused score is the
lowest of the cues' *normalised* scores, each mapped piecewise-linearly so that its own
threshold lands on 0.5 (see :func:`normalise_score`); the fused threshold is therefore
0.5. No cue run at all is not live (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.reasons import Reason

FUSED_THRESHOLD = 0.5
"""Threshold of the fused (normalised) score; each cue's own threshold maps to it."""


@dataclass(frozen=True, slots=True)
class SensorFrame:
    """A frame of a second sensor taken with a :class:`FaceFrame` (the NIR/depth hook).

    Attributes:
        kind: ``"nir"`` (near-infrared intensity) or ``"depth"`` (millimetres).
        pixels: a 2-D array registered to the colour frame's pixel grid.
        skew_s: its time minus its colour frame's time, on the pair's clock (seconds;
            a cue refuses a frame too far from its colour frame: stale).
    """

    kind: str
    pixels: npt.NDArray[np.float32] = field(repr=False)
    skew_s: float = 0.0


@dataclass(frozen=True, slots=True)
class FaceFrame:
    """One camera frame with the face the check is about.

    Attributes:
        image: ``(height, width, 3)`` uint8 RGB pixels.
        box: the face box in the frame's pixels.
        landmarks: the face's 5-point landmarks in the frame's pixels.
        sensor: the second sensor's frames paired with this one (none without one).
    """

    image: npt.NDArray[np.uint8] = field(repr=False)
    box: Box
    landmarks: FivePointLandmarks
    sensor: tuple[SensorFrame, ...] = ()


@dataclass(frozen=True, slots=True)
class CueResult:
    """What one cue concluded.

    Attributes:
        name: the cue (``"texture"``, ``"motion"``, ...).
        score: its liveness score (higher is more live; the unit is the cue's own).
        threshold: its threshold; live when ``score >= threshold``.
        details: named measurements behind the score, for logs and reports.
        error: why the cue could not decide (it is then not live).
        score_range: the lowest and highest scores the cue gives, for normalisation.
    """

    name: str
    score: float
    threshold: float
    details: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    score_range: tuple[float, float] = (0.0, 1.0)

    @property
    def live(self) -> bool:
        """Whether this cue accepts the presentation as bona fide."""
        return bool(self.error is None and self.score >= self.threshold)

    @property
    def normalised_score(self) -> float:
        """The score mapped so that the threshold is 0.5 (see :func:`normalise_score`)."""
        if self.error is not None:
            return 0.0
        return normalise_score(self.score, self.threshold, *self.score_range)


@dataclass(frozen=True, slots=True)
class LivenessVerdict:
    """The fused decision of a liveness check.

    Attributes:
        live: whether the presentation is accepted as bona fide.
        score: the fused score in [0, 1] (live when ``>= FUSED_THRESHOLD``).
        cues: each cue's result, by name.
        reason: :attr:`Reason.SPOOF_SUSPECTED` when not live, else ``None``.
        note: a human-readable remark (which cues ran, why a cue failed).
    """

    live: bool
    score: float
    cues: Mapping[str, CueResult]
    reason: Reason | None
    note: str = ""

    def cue_scores(self) -> dict[str, float]:
        """Each cue's raw score, by name."""
        return {name: cue.score for name, cue in self.cues.items()}


def normalise_score(score: float, threshold: float, low: float = 0.0, high: float = 1.0) -> float:
    """Map ``score`` piecewise-linearly so ``low -> 0``, ``threshold -> 0.5``, ``high -> 1``.

    Args:
        score: a cue's score.
        threshold: the cue's threshold, strictly between ``low`` and ``high``.
        low: the lowest score the cue gives.
        high: the highest score the cue gives (scores beyond are clipped).
    """
    if not low < threshold < high:
        return 1.0 if score >= threshold else 0.0
    if score < threshold:
        return float(np.clip(0.5 * (score - low) / (threshold - low), 0.0, 0.5))
    return float(np.clip(0.5 + 0.5 * (score - threshold) / (high - threshold), 0.5, 1.0))


def fuse(cues: Sequence[CueResult], note: str = "") -> LivenessVerdict:
    """Fuse cue results by the AND rule of this module's docstring (fail closed)."""
    if not cues:
        return LivenessVerdict(False, 0.0, {}, Reason.SPOOF_SUSPECTED, note or "no cue ran")
    live = all(cue.live for cue in cues)
    score = min(cue.normalised_score for cue in cues)
    errors = "; ".join(f"{c.name}: {c.error}" for c in cues if c.error)
    text = "; ".join(part for part in (note, errors) if part)
    return LivenessVerdict(
        live=live,
        score=score,
        cues={cue.name: cue for cue in cues},
        reason=None if live else Reason.SPOOF_SUSPECTED,
        note=text,
    )


@dataclass(frozen=True, slots=True)
class LivenessSchedule:
    """When a multi-frame check looks at a face, and when it gives up (one presentation).

    The check runs on the newest ``window_frames`` frames once the face has been seen
    that long, then again every ``step_frames`` frames: a live person is let through at
    the first window that shows life (a head turn, a blink, speech), so a moving face is
    decided after ``window_frames`` frames and a still one waits for its first blink.
    After ``max_frames`` frames without a live window the presentation is refused
    (``spoof_suspected``); the next frames start a new presentation. The attack error
    rates are measured under this same schedule (every window an attacker gets counts).

    Attributes:
        window_frames: frames per analysed window (default 12: 0.48 s at 25 fps).
        step_frames: frames between two windows (default 6: 0.24 s at 25 fps).
        max_frames: frames of one presentation (default 50: 2 s at 25 fps).
    """

    window_frames: int = 12
    step_frames: int = 6
    max_frames: int = 50

    def __post_init__(self) -> None:
        if not 2 <= self.window_frames <= self.max_frames or self.step_frames < 1:
            raise ValueError(
                "liveness schedule needs 2 <= window_frames <= max_frames and step_frames >= 1"
            )

    def is_checkpoint(self, seen: int) -> bool:
        """Whether the check runs when the face has been seen ``seen`` frames."""
        if seen < self.window_frames or seen > self.max_frames:
            return False
        return (seen - self.window_frames) % self.step_frames == 0 or seen == self.max_frames

    def checkpoints(self) -> list[int]:
        """Every frame count at which the check runs, in order."""
        return [n for n in range(1, self.max_frames + 1) if self.is_checkpoint(n)]


def failed_verdict(message: str) -> LivenessVerdict:
    """A not-live verdict for a check that could not run (fail closed)."""
    return LivenessVerdict(False, 0.0, {}, Reason.SPOOF_SUSPECTED, message)


@dataclass(frozen=True, slots=True)
class PadRates:
    """Error rates of a liveness decision at one threshold (ISO/IEC 30107-3 terms).

    Attributes:
        apcer: share of attacks accepted as live.
        bpcer: share of bona fide presentations rejected.
        threshold: the liveness-score threshold (live when ``score >= threshold``).
        bona_fide: number of bona fide presentations.
        attacks: number of attack presentations.
    """

    apcer: float
    bpcer: float
    threshold: float
    bona_fide: int
    attacks: int

    @property
    def acer(self) -> float:
        """Mean of APCER and BPCER."""
        return (self.apcer + self.bpcer) / 2.0

    def as_dict(self) -> dict[str, float | int]:
        """The rates as the contract's JSON keys."""
        return {
            "apcer": round(self.apcer, 6),
            "bpcer": round(self.bpcer, 6),
            "acer": round(self.acer, 6),
            "threshold": round(self.threshold, 6),
            "bona_fide": self.bona_fide,
            "attacks": self.attacks,
        }


def _finite(values: Sequence[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError("liveness scores must be finite numbers")
    return array


def pad_rates(
    bona_fide: Sequence[float] | npt.ArrayLike,
    attacks: Sequence[float] | npt.ArrayLike,
    threshold: float,
) -> PadRates:
    """APCER and BPCER of liveness scores at ``threshold`` (a rate is 0 with no samples)."""
    live, spoof = _finite(bona_fide), _finite(attacks)
    apcer = float(np.mean(spoof >= threshold)) if spoof.size else 0.0
    bpcer = float(np.mean(live < threshold)) if live.size else 0.0
    return PadRates(apcer, bpcer, float(threshold), int(live.size), int(spoof.size))


def equal_error_threshold(
    bona_fide: Sequence[float] | npt.ArrayLike, attacks: Sequence[float] | npt.ArrayLike
) -> float:
    """The threshold where APCER and BPCER are closest (ties: the lower ACER, then lower).

    Candidates are midpoints between adjacent distinct scores, plus one below and one
    above all of them. Choose it on training data only, never on the reported set.

    Raises:
        ValueError: no bona fide or no attack scores.
    """
    live, spoof = _finite(bona_fide), _finite(attacks)
    if not live.size or not spoof.size:
        raise ValueError("need bona fide and attack scores to choose a threshold")
    values = np.unique(np.concatenate([live, spoof]))
    middles = (values[:-1] + values[1:]) / 2.0
    candidates = np.concatenate([[values[0] - 1e-6], middles, [values[-1] + 1e-6]])
    apcer = np.mean(spoof[None, :] >= candidates[:, None], axis=1)
    bpcer = np.mean(live[None, :] < candidates[:, None], axis=1)
    order = np.lexsort((apcer + bpcer, np.abs(apcer - bpcer)))
    return float(candidates[order[0]])
