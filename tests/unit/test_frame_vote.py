"""The single-frame cue voted over a presentation: one live-looking frame is not enough."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.vision.liveness import frame_vote as vote_module
from facegate.vision.liveness.check import FusedLivenessCheck, run_schedule
from facegate.vision.liveness.frame_cue import MEASURES, FrameCueWeights
from facegate.vision.liveness.frame_vote import FrameVote, frame_vote, tallies

FACE = Box(260, 180, 380, 320)
LANDMARKS = FivePointLandmarks(points=((345, 230), (330, 230), (295, 230), (310, 230), (320, 280)))

SIDES_ONLY = FrameCueWeights(
    centre=(2.0,) + (0.0,) * (len(MEASURES) - 1),
    scale=(1.0,) * len(MEASURES),
    weights=(-5.0,) + (0.0,) * (len(MEASURES) - 1),
    bias=0.0,
    threshold=0.5,
)
"""Weights of our own: a frame is live exactly when no bezel stands around the face."""


def _scene() -> np.ndarray:
    rng = np.random.default_rng(0)
    room = cv2.GaussianBlur(rng.integers(60, 200, (480, 640, 3)).astype(np.uint8), (0, 0), 6)
    cv2.ellipse(room, (320, 250), (60, 70), 0, 0, 360, (200, 140, 120), -1)
    return room


PLAIN = _scene()
HELD = PLAIN.copy()
cv2.rectangle(HELD, (150, 60), (490, 440), (15, 15, 15), 14)  # a phone's dark bezel


def _frames(pattern: str) -> list[FaceFrame]:
    """``L`` a frame that looks live, ``A`` one that shows the bezel (new frames)."""
    return [FaceFrame(PLAIN if c == "L" else HELD, FACE, LANDMARKS) for c in pattern]


def test_one_live_looking_frame_among_many_is_not_live() -> None:
    """The check used to ask the cue about the newest frame only: this replay passed."""
    frames = _frames("A" * 11 + "L")
    check = FusedLivenessCheck(frame=SIDES_ONLY)
    assert check.check(frames[-1:]).live  # that frame alone looks live
    assert not check.check(frames).live


def test_a_presentation_that_looks_live_throughout_a_glitch_aside_is_live() -> None:
    frames = _frames("LLLLALLLLL")
    verdict = FusedLivenessCheck(frame=SIDES_ONLY).check(frames)
    assert verdict.live
    assert verdict.cues["frame"].details["frames"] == 10
    assert verdict.cues["frame"].details["accepted"] == 9


def test_the_vote_counts_every_frame_scored_since_the_windows_first() -> None:
    frames = _frames("AAAALLLLLL")
    made = tallies(frames, SIDES_ONLY)
    assert [t.accepted for t in made] == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    strict = FrameVote(share=0.8)
    assert frame_vote(frames, SIDES_ONLY, strict).score == pytest.approx(0.6)
    # A window that starts later (a newest-seconds window): only its frames count, also
    # those between its first and newest that it leaves out.
    assert frame_vote([frames[4], frames[-1]], SIDES_ONLY, strict).score == 1.0
    assert frame_vote([frames[3], frames[-1]], SIDES_ONLY, strict).score == pytest.approx(6 / 7)


def test_each_frame_is_scored_once_over_a_presentations_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scored: list[int] = []
    real = vote_module.frame_cue

    def counting(frame: FaceFrame, weights: FrameCueWeights) -> object:
        scored.append(id(frame))
        return real(frame, weights)

    monkeypatch.setattr(vote_module, "frame_cue", counting)
    frames = _frames("A" * 6 + "L" * 44)
    check = FusedLivenessCheck(frame=SIDES_ONLY, frame_vote=FrameVote(share=0.8))
    outcome = run_schedule(check, frames, LivenessSchedule(window_s=0.4, max_s=3.0), 25.0)
    assert outcome.verdict.live
    assert outcome.frames_seen == 30  # 24 of 30 frames look live: 0.8
    assert outcome.windows == 20  # a check on every frame from the 11th
    assert len(scored) == len(set(scored)) == outcome.frames_seen
    # The gate keeps 24 frames of a presentation; the vote still counted all 30.
    assert outcome.verdict.cues["frame"].details["frames"] == 30


def test_a_frame_that_cannot_be_measured_counts_as_refused() -> None:
    frames = [*_frames("LLLL"), FaceFrame(PLAIN, Box(0, 0, 10, 10), LANDMARKS)]
    result = frame_vote(frames, SIDES_ONLY, FrameVote(share=0.9))
    assert result.score == pytest.approx(0.8)
    assert not result.live


def test_without_a_vote_the_newest_frame_decides() -> None:
    frames = _frames("A" * 11 + "L")
    assert FusedLivenessCheck(frame=SIDES_ONLY, frame_vote=None).check(frames).live


@pytest.mark.parametrize("share", [0.0, -0.1, 1.1])
def test_a_vote_needs_a_share_in_range(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        FrameVote(share=share)
