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

from bisect import bisect_right
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
        work: what a cue computed from this frame alone, kept with it so that the
            frame's next checks reuse it (the motion cue's grey image, image pyramid,
            corners and FaceMesh points); keyed by the cue's own names, never compared,
            and not carried over by ``dataclasses.replace`` (new pixels, nothing kept).
    """

    image: npt.NDArray[np.uint8] = field(repr=False)
    box: Box
    landmarks: FivePointLandmarks
    sensor: tuple[SensorFrame, ...] = ()
    work: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)


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
    """When a multi-frame check looks at a face, and when it gives up, in seconds.

    Times are the door's own frame times (:attr:`facegate.ports.Frame.timestamp_s`, the
    camera's or the kiosk's clock), measured from the presentation's first frame, so a
    kiosk posting 4 frames/s and a gate camera at 25 frames/s are held to the same
    limits. A check runs once the face has been seen ``window_s`` seconds *and* in
    ``min_frames`` frames, then again whenever ``step_s`` seconds passed since the
    last check (0: on every frame); a live person is let through at the first check that
    shows life. The check looks at the whole presentation so far (``grow``) or at its
    newest ``window_s`` seconds (widened to ``min_frames`` frames). The multi-frame cue
    is incremental (each frame measured once, against the one before it), so a check on
    every frame over the whole presentation costs little; measured
    (``bench/liveness_motion.py``, docs/gate.md), the whole presentation from 0.4 s on
    decides live faces soonest with no planar print of the reporting part accepted.
    Once ``max_s`` seconds *and* ``min_frames`` frames passed without a live check the
    presentation is refused (``spoof_suspected``) and the next frames start a new one.

    Frame rates: at 25 frames/s the first check comes at 0.4 s, then one on every frame,
    and the refusal at 3 s; at 4 frames/s the first check waits for the 6th frame
    (1.25 s) and the refusal still comes at 3 s (13 frames); at 2 frames/s the first
    check is at 2.5 s (6 frames) and the refusal at 3 s (7 frames), with frames 0.5 s
    apart (a head turn in between is seen as parallax, a quick blink may fall between
    two frames). Below ``(min_frames - 1) / max_s`` frames/s (1.67 for the defaults) the
    refusal waits for the ``min_frames``-th frame, later than ``max_s``: a face is not
    refused before it could be judged. The attack error rates are measured under this
    same schedule (``bench/liveness_motion.py``: every check an attacker gets counts).

    Attributes:
        window_s: seconds of the face seen before the first check (default 0.4), and
            the span a check looks at without ``grow``.
        step_s: seconds between two checks (default 0: every frame).
        max_s: seconds of one presentation before it is refused (default 3.0).
        min_frames: fewest frames a check looks at (default 6; also the fewest seen
            before a refusal).
        window_max_frames: half the frames a presentation keeps (default 12: 24 frames,
            the newest ``window_s`` frame by frame, older ones thinned; memory).
        grow: check the whole presentation so far rather than its newest ``window_s``
            seconds (default on).
    """

    window_s: float = 0.4
    step_s: float = 0.0
    max_s: float = 3.0
    min_frames: int = 6
    window_max_frames: int = 12
    grow: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.window_s <= self.max_s or self.step_s < 0.0:
            raise ValueError("liveness schedule needs 0 < window_s <= max_s and step_s >= 0")
        if not 2 <= self.min_frames <= self.window_max_frames:
            raise ValueError("liveness schedule needs 2 <= min_frames <= window_max_frames")

    @property
    def kept_frames(self) -> int:
        """Frames a presentation keeps (:class:`PresentationFrames`' capacity)."""
        return 2 * self.window_max_frames

    def presentation(self) -> PresentationFrames:
        """An empty :class:`PresentationFrames` for this schedule."""
        return PresentationFrames(self.kept_frames, self.window_s)

    def due(self, seen: PresentationFrames) -> bool:
        """Whether the check runs on the frame just added to ``seen``."""
        if seen.count < self.min_frames or seen.elapsed_s < self.window_s - _EPSILON_S:
            return False
        if seen.checked_s is None or self.over(seen):
            return True
        return seen.elapsed_s - seen.checked_s >= self.step_s - _EPSILON_S

    def over(self, seen: PresentationFrames) -> bool:
        """Whether the presentation has lasted ``max_s`` seconds and ``min_frames`` frames."""
        return seen.count >= self.min_frames and seen.elapsed_s >= self.max_s - _EPSILON_S

    def window(self, seen: PresentationFrames) -> list[FaceFrame]:
        """The frames the check looks at now (oldest first, the newest always included).

        Every kept frame from the window's first on: the whole presentation with
        ``grow``, else its newest ``window_s`` seconds (from the last frame at or before
        ``window_s`` ago, widened to ``min_frames`` frames). The frames are those
        :class:`PresentationFrames` keeps (at most :attr:`kept_frames`: the newest
        ``window_s`` frame by frame, older ones thinned): the multi-frame cue measures
        each frame once, against the one before it, when it first appears in a window,
        and combines what it kept from the window's first frame to its newest.
        """
        times = [time for time, _ in seen.kept]
        start = 0
        if not self.grow:  # the last frame at or before window_s ago, min_frames back
            start = max(bisect_right(times, times[-1] - self.window_s + _EPSILON_S) - 1, 0)
            start = min(start, max(len(times) - self.min_frames, 0))
        return [frame for _, frame in seen.kept[start:]]


_EPSILON_S = 1e-6
"""Frame times closer than this (seconds) are the same time (float rounding)."""


@dataclass(slots=True)
class PresentationFrames:
    """The frames of one face's current presentation kept for the liveness check.

    Every frame is added; past ``capacity`` one older frame goes: of the frames older
    than ``recent_s`` (the first never), the one whose neighbours are closest in time.
    The kept frames so span the whole presentation evenly, with its newest ``recent_s``
    seconds dense, at a bounded memory (``capacity`` images).

    Attributes:
        capacity: most frames kept.
        recent_s: the newest seconds kept frame by frame (the schedule's ``window_s``).
        kept: ``(time_s, frame)`` pairs, oldest first (times on the door's clock).
        count: frames added in this presentation.
        checked_s: seconds into the presentation of the last check (``None``: none yet).
    """

    capacity: int = 24
    recent_s: float = 0.5
    kept: list[tuple[float, FaceFrame]] = field(default_factory=list, repr=False)
    count: int = 0
    checked_s: float | None = None

    def add(self, time_s: float, frame: FaceFrame) -> None:
        """Add the newest frame, seen at ``time_s`` on the door's clock (seconds)."""
        self.kept.append((time_s, frame))
        self.count += 1
        if len(self.kept) <= max(self.capacity, 3):
            return
        times = [t for t, _ in self.kept]
        older = [i for i in range(1, len(times) - 1) if times[i] < time_s - self.recent_s]
        candidates = older or list(range(1, len(times) - 1))
        drop = min(candidates, key=lambda i: times[i + 1] - times[i - 1])
        del self.kept[drop]

    @property
    def newest(self) -> FaceFrame | None:
        """The newest frame kept (``None`` when none is)."""
        return self.kept[-1][1] if self.kept else None

    @property
    def elapsed_s(self) -> float:
        """Seconds from the presentation's first frame to its newest (0 when empty)."""
        return self.kept[-1][0] - self.kept[0][0] if self.kept else 0.0

    def checked(self) -> None:
        """Note that the check ran on the newest frame."""
        self.checked_s = self.elapsed_s

    def clear(self) -> None:
        """Start a new presentation."""
        self.kept.clear()
        self.count, self.checked_s = 0, None

    def __len__(self) -> int:
        return len(self.kept)


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
