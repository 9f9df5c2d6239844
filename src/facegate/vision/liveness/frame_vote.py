"""The single-frame cue over a presentation: a vote of its frames, each scored once.

The single-frame screen-and-print cue (:mod:`facegate.vision.liveness.frame_cue`) judges
one frame. The gate checks a face on every frame from 0.4 s on, so a replay or a print
shown for 3 s at 25 frames/s meets some 65 checks; asked about each check's newest frame
only, the cue lets it through at the first frame that happens to look live (a screen's
moire lost to the camera's resampling for a frame, a print's sheen turned away). The
vote asks the cue about *every* frame of the presentation so far and calls it live when
at least :attr:`FrameVote.share` of them are: one live-looking frame among many is not
enough, while a live face, whose frames the cue accepts almost all of, is not slowed.

Each frame is scored once, when it first appears in a check's window (the gate also
scores frames no check is due on as they come: ``FusedLivenessCheck.prepare``): its
:class:`Tally` (the cue's result on it, and running counts of the frames scored and
accepted from its chain's first frame) is kept with the frame in :attr:`FaceFrame.work`,
so a check costs one frame's measures (about 3 ms of CPU) and a subtraction, whatever
the presentation's length. A frame the cue cannot measure counts as refused (fail
closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from facegate.domain.liveness import CueResult, FaceFrame
from facegate.vision.liveness.frame_cue import CUE_NAME, SHIPPED, FrameCueWeights, frame_cue


@dataclass(frozen=True, slots=True)
class FrameVote:
    """The presentation-level rule of the single-frame cue.

    Attributes:
        share: live when at least this share of the presentation's frames so far (0-1]
            is accepted by the single-frame cue.
    """

    share: float

    def __post_init__(self) -> None:
        if not 0.0 < self.share <= 1.0:
            raise ValueError("a frame vote needs 0 < share <= 1")


SHIPPED_VOTE: Final = FrameVote(share=0.9)
"""The shipped vote: at least 90 % of the presentation's frames so far look live.

Chosen by ``python bench/liveness_motion.py --calibrate-vote --per-cell 4`` on the frame
cue's own fitting data only: the attack suite v3's *calibration* part (every attack type,
4 clips per type and distance, 88 presentations of 3 s) and the calibration live video
(``webcam_one_person.mp4``, 51 presentations starting every second), under the shipped
schedule (a check on every frame from 0.4 s). Of the shares tried (0.3-1.0), the largest
that refuses at most 2 % of the calibration live presentations (all shares refuse none:
the cue accepts every frame of that video) and lets a live face whose frames the cue
refuses at its fitted 2 % rate, independently, pass the first check (11 frames) at least
98 % of the time (0.9: one refused frame in 11 is borne, 98.0 %; 0.95 and 1.0 bear none,
81.7 %). Calibration attacks accepted by the cue alone: 3/88 at 0.9 (replays 0/16; a
zoom, a tilt and an all-ways print), against 17/88 asking each check's newest frame
(replays 5/16); nothing of the reporting part was looked at to choose it."""


@dataclass(frozen=True, slots=True)
class Tally:
    """What the vote keeps of one frame.

    Attributes:
        result: the single-frame cue's result on this frame alone.
        scored: frames scored from the chain's first frame to this one, both included.
        accepted: of those, the frames the cue accepted.
        chain: identifies the chain (the first frame's tally starts one).
    """

    result: CueResult
    scored: int
    accepted: int
    chain: object = field(compare=False)


def _key(weights: FrameCueWeights) -> str:
    return f"frame.tally.{hash(weights):x}"


def tallies(frames: Sequence[FaceFrame], weights: FrameCueWeights = SHIPPED) -> list[Tally]:
    """The tally of each of ``frames`` (oldest first), scoring those that have none yet.

    A frame without a tally continues the tally of the frame before it in ``frames`` (the
    first one starts a chain).
    """
    key = _key(weights)
    made: list[Tally] = []
    for frame in frames:
        found = frame.work.get(key)
        if not isinstance(found, Tally):
            result = frame_cue(frame, weights)
            own = int(result.live)
            if made:
                before = made[-1]
                found = Tally(result, before.scored + 1, before.accepted + own, before.chain)
            else:
                found = Tally(result, 1, own, object())
            frame.work[key] = found
        made.append(found)
    return made


def frame_vote(
    frames: Sequence[FaceFrame],
    weights: FrameCueWeights = SHIPPED,
    vote: FrameVote = SHIPPED_VOTE,
) -> CueResult:
    """The vote over the frames from ``frames[0]`` to ``frames[-1]``; never raises.

    The score is the share of those frames (every frame scored between them, also frames
    the window leaves out) the single-frame cue accepted; the threshold is
    ``vote.share``. The details are the newest frame's measures, its own score
    (``frame_score``), and the ``frames`` counted and ``accepted``.
    """
    if not frames:
        return CueResult(CUE_NAME, 0.0, vote.share, {}, "frame vote: no frame")
    made = tallies(frames, weights)
    first, newest = made[0], made[-1]
    if first.chain is newest.chain:
        scored = newest.scored - first.scored + 1
        accepted = newest.accepted - first.accepted + int(first.result.live)
    else:  # frames scored in another order: count the window's own frames
        scored = len(made)
        accepted = sum(int(t.result.live) for t in made)
    details = {
        **newest.result.details,
        "frame_score": newest.result.score,
        "frames": float(scored),
        "accepted": float(accepted),
    }
    return CueResult(CUE_NAME, accepted / scored, vote.share, details)
