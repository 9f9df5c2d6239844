"""Challenge mode at a kiosk door: random prompts the face must follow before it is decided.

A door whose liveness mode is ``challenge`` (:class:`facegate.domain.site.DoorLiveness`;
``default`` at a kiosk) gets a :class:`ChallengeDesk` in the server's station. It sits
between perception (run without the passive liveness check) and the door's controller:

- the first frame of a face (a track) starts a challenge of
  :attr:`ChallengeSettings.prompts` prompts drawn from a system random source; its answer
  carries them (:class:`facegate.domain.challenge.ChallengeView`) and the kiosk shows
  them with a countdown;
- every frame of that face becomes a :class:`PoseSample` (FaceMesh head pose, eyelids,
  lips) fed to the challenge; meanwhile nothing reaches the controller (the answer is a
  pending ``spoof_suspected``);
- passed: the face is live (``track.live``) and goes on to identity and policy as usual,
  with its descriptor *pinned*: the face of the frame that completed the last prompt is
  described then and there (:attr:`ChallengeDesk.describe`), and the face identified is
  that one. The track's best descriptor (perhaps from a frame before or during the
  challenge) is used only when it is the same person at the door's match threshold;
  every later descriptor of the track must be too, else the track starts over as a new
  face with a ``spoof_suspected`` refusal (counted as a failed challenge). So a photo
  held up before, during or after the prompts, in the same place (the same track), is
  never the face that is granted;
- failed (a prompt not done in time, or another face/track in its place): a
  ``spoof_suspected`` refusal the controller records as any other; the next frame of a
  face starts a new challenge (a kiosk shows the refusal for a few seconds first), but
  not before the door's back-off: :attr:`ChallengeSetup.retry_after_s` after the first
  failure, doubling with each further one up to :attr:`ChallengeSetup.retry_max_s`
  (a replay retried over and over gets fewer tries; a pass or a quiet
  :attr:`ChallengeSetup.forget_after_s` resets it). Meanwhile a face is refused
  ``spoof_suspected`` at once. The :attr:`ChallengeSetup.alarm_after` th failure in a
  row raises one ``challenge_failures`` alarm of the door (through the door's
  controller, as its other alarms), again only after a pass or a quiet spell resets
  the count.

The pose reader is built on first use (FaceMesh loads then); the caller serialises
calls per door (the station's lock).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from facegate.domain.challenge import (
    Challenge,
    ChallengeSettings,
    ChallengeView,
    PoseSample,
    draw_prompts,
)
from facegate.domain.liveness import FaceFrame
from facegate.domain.matching import FloatArray, verify
from facegate.domain.policy import FaceEvidence
from facegate.domain.reasons import Reason
from facegate.gate.perception import Observation, restart

PoseReader = Callable[[FaceFrame, float, int], PoseSample | None]
"""A face frame, its time (seconds) and track id to its pose; ``None`` when unmeasurable."""

Describer = Callable[[Observation], FloatArray | None]
"""The descriptor of the face in an observation's frame, computed for that frame
(:meth:`facegate.gate.perception.Perception.describe`); ``None`` when it has none."""

Alarm = Callable[[str], None]
"""Raises the door's ``challenge_failures`` alarm with a note."""


@dataclass(frozen=True, slots=True)
class ChallengeSetup:
    """What a server needs to run challenges at its kiosk doors.

    Attributes:
        poses: the calling thread's pose reader (FaceMesh), built on first use.
        settings: prompts per challenge, time per prompt, move thresholds.
        by_default: whether doors left at ``default`` get the challenge at a kiosk
            (``False`` where the passive check is configured ``none``: tests, benches).
        retry_after_s: the door's wait after a failed challenge before the next one
            starts (seconds; default 2, less than the kiosk shows a refusal).
        retry_max_s: the longest wait, reached by doubling (seconds; default 60).
        forget_after_s: seconds without a failure after which the wait starts over
            (default 600).
        alarm_after: failed challenges in a row at a door that raise its
            ``challenge_failures`` alarm (default 3: a live person who misses a prompt
            twice is not an alarm; a replay or a photo tried again and again is).
    """

    poses: Callable[[], PoseReader]
    settings: ChallengeSettings = field(default_factory=ChallengeSettings)
    by_default: bool = True
    retry_after_s: float = 2.0
    retry_max_s: float = 60.0
    forget_after_s: float = 600.0
    alarm_after: int = 3


@dataclass(slots=True)
class ChallengeDesk:
    """One kiosk door's challenges (one face at a time: the primary face).

    Args:
        setup: the pose reader and settings.
        describe: describes the face of a frame (the door's perception's).
        alarm: raises the door's ``challenge_failures`` alarm (``None``: none raised).
        rng: where prompts come from (default: the operating system's random source,
            so a replay cannot predict them).
    """

    setup: ChallengeSetup
    describe: Describer
    alarm: Alarm | None = None
    rng: random.Random = field(default_factory=random.SystemRandom)
    challenge: Challenge | None = None
    track_id: int | None = None
    view: ChallengeView | None = None
    """What the last frame's answer shows (``None``: no challenge in it)."""
    failures: int = 0
    """Failed challenges in a row at this door."""
    last_failure_s: float = float("-inf")
    """When the last one failed (seconds on the door's clock)."""
    pinned: FloatArray | None = field(default=None, repr=False)
    """The descriptor of the face that passed the challenge of track :attr:`track_id`."""

    def screen(self, seen: Observation, threshold: float) -> Observation:
        """The observation the controller gets for ``seen``.

        ``seen`` itself once its face passed a challenge (its descriptor checked against
        the pinned one) or when it needs no challenge (a decision reused, a refusal such
        as ``multiple_faces``); an observation with nothing to decide while the challenge
        runs; a ``spoof_suspected`` refusal when it failed. Sets :attr:`view`.

        Args:
            seen: what perception saw in the frame.
            threshold: the door's match threshold (euclidean): the largest distance
                between two descriptors of the same face.
        """
        self.view = None
        track = seen.track
        if track.live:
            return self._pinned(seen, threshold)
        if seen.reused or seen.held or seen.refusal is not None:
            return seen
        now_s = seen.frame.timestamp_s
        if self.challenge is not None and self.track_id != track.id:
            if self.challenge.status == "pending":
                # Another face (track) took the place of the one being challenged.
                self.challenge.observe(PoseSample(now_s, track.id, 0.0, 0.0, 0.0, 0.0))
                return self._refused(seen, self.challenge)
            self.challenge = None
        if self.challenge is None or self.challenge.status != "pending":
            if now_s < self.next_start_s():
                return Observation(track, seen.frame, FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
            self._start(seen)
        challenge = self.challenge
        assert challenge is not None
        sample = self._sample(seen)
        status = challenge.observe(sample) if sample else challenge.expire(now_s)
        if status == "failed":
            return self._refused(seen, challenge)
        self.view = challenge.view(now_s)
        if status == "passed":
            return self._passed(seen, threshold)
        return Observation(track, seen.frame)

    def next_start_s(self) -> float:
        """When the next challenge may start at this door (seconds on its clock)."""
        if self.failures == 0:
            return float("-inf")
        wait = self.setup.retry_after_s * 2.0 ** (self.failures - 1)
        return self.last_failure_s + min(wait, self.setup.retry_max_s)

    def no_face(self, now_s: float) -> None:
        """A frame without a face: the countdown still runs out (nothing is recorded)."""
        self.view = None
        if self.challenge is not None and self.challenge.expire(now_s) == "failed":
            self.challenge = None
            self._count_failure(now_s)  # stepping out of view is no free retry

    def _passed(self, seen: Observation, threshold: float) -> Observation:
        """Pin the face that completed the prompts; identify it, or the same person's best."""
        track = seen.track
        answered = self.describe(seen)
        if answered is None:  # cannot tell who answered: fail closed
            self._count_failure(seen.frame.timestamp_s)
            return Observation(track, seen.frame, FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
        if track.descriptor is None or not verify(track.descriptor, answered, threshold).same:
            track.descriptor = answered  # the best frame was someone else's (a photo)
        self.pinned = answered
        track.live, track.decision = True, None
        self.failures = 0
        if seen.evidence is None or seen.evidence.descriptor is None:
            return seen
        return replace(seen, evidence=replace(seen.evidence, descriptor=track.descriptor))

    def _pinned(self, seen: Observation, threshold: float) -> Observation:
        """A passed track's frame: its face must still be the one that answered."""
        evidence = seen.evidence
        if evidence is None or evidence.descriptor is None:
            return seen
        pinned = self.pinned if self.track_id == seen.track.id else None
        if pinned is not None and verify(evidence.descriptor, pinned, threshold).same:
            return seen
        # Another face where the one that answered was (a photo swapped in): start over.
        restart(seen.track, seen.frame)
        self.pinned = None
        self._count_failure(seen.frame.timestamp_s)
        return Observation(seen.track, seen.frame, FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))

    def _count_failure(self, now_s: float) -> None:
        if now_s - self.last_failure_s > self.setup.forget_after_s:
            self.failures = 0
        self.failures += 1
        self.last_failure_s = now_s
        if self.failures == self.setup.alarm_after and self.alarm is not None:
            self.alarm(f"{self.failures} failed challenges in a row")

    def _start(self, seen: Observation) -> None:
        settings = self.setup.settings
        prompts = draw_prompts(self.rng, settings.prompts, settings.choices)
        self.challenge = Challenge(prompts, settings, seen.frame.timestamp_s)
        self.track_id, self.pinned = seen.track.id, None
        # A face refused before (a failed challenge) is decided again once it passes.
        seen.track.decision = None

    def _sample(self, seen: Observation) -> PoseSample | None:
        newest = seen.track.frames.newest
        if newest is None or newest.image is not seen.frame.image:
            return None  # perception kept no frame of this face this time
        return self.setup.poses()(newest, seen.frame.timestamp_s, seen.track.id)

    def _refused(self, seen: Observation, challenge: Challenge) -> Observation:
        now_s = seen.frame.timestamp_s
        self.view = challenge.view(now_s)
        self.challenge = None
        self._count_failure(now_s)
        return Observation(seen.track, seen.frame, FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
