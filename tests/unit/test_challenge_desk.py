"""Challenge mode at a kiosk door: the server's flow on fakes (scripted poses, no models).

A fake person follows (or ignores) the prompts each frame's answer shows; the pose reader
turns that into FaceMesh-like measures. The door is opened only after every prompt was
followed in order and in time by the same face; a timeout, a wrong order or another
track is a ``spoof_suspected`` refusal recorded as an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
from test_gate_server_side import FakeUpstream, png

from facegate.domain.challenge import ChallengeSettings, PoseSample, Prompt
from facegate.domain.faces import Box
from facegate.domain.gate import GateEventKind
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.domain.policy import FaceEvidence, Target
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, DoorLiveness
from facegate.gate.challenge_desk import ChallengeDesk, ChallengeSetup
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.perception import Observation
from facegate.gate.server_side import ActuatorPool, PipelineDecider
from facegate.gate.tracker import Track
from facegate.ports import Frame, FrameDecision
from facegate.vision.images import ImageLimits
from fakes import FakeClock, FakeDoor, FakeFaceEngine

NEUTRAL = {"yaw": 0.0, "pitch": 0.3, "eyes": 0.3, "mouth": 0.02}
MOVE = {
    Prompt.TURN_LEFT: {"yaw": 0.3},
    Prompt.TURN_RIGHT: {"yaw": -0.3},
    Prompt.LOOK_UP: {"pitch": 0.1},
    Prompt.BLINK: {"eyes": 0.05},
    Prompt.OPEN_MOUTH: {"mouth": 0.4},
}
"""Each prompt's move, well past its threshold (the pose reader's units)."""


@dataclass
class Person:
    """What the fake person in front of the camera does on the next frame."""

    pose: dict[str, float] = field(default_factory=lambda: dict(NEUTRAL))

    def read(self, frame: FaceFrame, time_s: float, track_id: int) -> PoseSample:
        p = self.pose
        return PoseSample(time_s, track_id, p["yaw"], p["pitch"], p["eyes"], p["mouth"])

    def do(self, prompt: Prompt | None) -> None:
        self.pose = {**NEUTRAL, **(MOVE[prompt] if prompt else {})}


class ChallengeUpstream(FakeUpstream):
    """The door's snapshot says challenge (or ``liveness``)."""

    def __init__(self, liveness: DoorLiveness = DoorLiveness.CHALLENGE) -> None:
        super().__init__()
        self.liveness = liveness

    def fetch_snapshot(self, gate_id: str, target_id: str):  # type: ignore[no-untyped-def]
        kinds = frozenset({CredentialKind.FACE, CredentialKind.CARD})
        target = Target(target_id, kinds, liveness=self.liveness)
        return replace(self.base, target=target)


class Seconds:
    """The doors' frame clock for these tests: 10 ms further at each reading, and moved on
    by :meth:`wait`, so the challenge's timings do not depend on how fast the machine is."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


CLOCK = Seconds()


def _decider(
    upstream: FakeUpstream,
    tmp_path: Path,
    person: Person,
    door: FakeDoor,
    response_s: float,
    retry_after_s: float = 0.2,
) -> PipelineDecider:
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    settings = ChallengeSettings(prompts=3, response_s=response_s)
    return PipelineDecider(
        FakeFaceEngine,
        ActuatorPool(lambda target: door, upstream),
        SqliteOutbox(tmp_path / "server-outbox.db"),
        lambda: None,
        FakeClock(),
        options,
        ImageLimits(),
        challenge=ChallengeSetup(
            lambda: person.read, settings, by_default=False, retry_after_s=retry_after_s
        ),
        monotonic=CLOCK,
    )


def _reasons(upstream: FakeUpstream) -> list[str]:
    return [e.reason.value for e in upstream.events if e.reason]


def _pass(decider: PipelineDecider, person: Person, image: bytes) -> FrameDecision:
    """Frames of ``image`` while ``person`` follows the prompts, until the answer is final."""
    answer = decider.decide_frame("bench-door", image)
    for index in range(24):
        if not answer.pending:
            return answer
        assert answer.challenge is not None
        person.do(answer.challenge.prompt if index % 2 == 0 else None)
        answer = decider.decide_frame("bench-door", image)
    raise AssertionError("the challenge never ended")


def test_a_face_that_follows_the_prompts_is_decided_and_the_door_opens(
    tmp_path: Path,
) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=3.0)
    resident = png(7)
    first = decider.decide_frame("bench-door", resident)
    assert first.pending
    assert not first.granted
    assert first.reason == "spoof_suspected"
    assert first.challenge is not None
    assert first.challenge.status == "pending"
    prompts = first.challenge.prompts
    assert len(prompts) == 3
    assert first.challenge.step == 0
    assert 0.0 < first.challenge.remaining_s <= 3.0
    answer, steps = first, []
    for index in range(24):
        assert answer.challenge is not None
        steps.append(answer.challenge.step)
        # The move, then back to the middle (which may count as the next turn).
        person.do(answer.challenge.prompt if index % 2 == 0 else None)
        answer = decider.decide_frame("bench-door", resident)
        if not answer.pending:
            break
    assert answer.granted, answer
    assert answer.challenge is not None
    assert answer.challenge.status == "passed"
    assert steps[0] == 0
    assert steps == sorted(steps)
    assert len(door.commands) == 1
    assert _reasons(upstream) == ["granted"]


def test_no_move_in_time_is_refused_as_a_spoof_and_the_door_stays_shut(
    tmp_path: Path,
) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=0.3)
    resident = png(7)
    answer = decider.decide_frame("bench-door", resident)
    assert answer.pending
    assert answer.challenge is not None
    CLOCK.wait(0.35)  # a replay that does not make the prompted move
    answer = decider.decide_frame("bench-door", resident)
    assert not answer.granted
    assert not answer.pending
    assert answer.reason == "spoof_suspected"
    assert answer.challenge is not None
    assert answer.challenge.status == "failed"
    assert door.commands == []
    assert _reasons(upstream) == ["spoof_suspected"]
    # Not at once (the door's back-off), then a new challenge (new prompts, countdown).
    at_once = decider.decide_frame("bench-door", resident)
    assert (at_once.granted, at_once.pending, at_once.reason) == (False, False, "spoof_suspected")
    assert at_once.challenge is None
    CLOCK.wait(0.25)
    again = decider.decide_frame("bench-door", resident)
    assert again.pending
    assert again.challenge is not None
    assert again.challenge.step == 0


def test_the_moves_in_the_wrong_order_are_refused(tmp_path: Path) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=0.4)
    resident = png(7)
    answer = decider.decide_frame("bench-door", resident)
    assert answer.challenge is not None
    person.do(answer.challenge.prompts[1])  # the second prompt's move first, held
    for _ in range(3):
        answer = decider.decide_frame("bench-door", resident)
    assert answer.pending
    assert answer.challenge is not None
    assert answer.challenge.step == 0
    CLOCK.wait(0.45)
    answer = decider.decide_frame("bench-door", resident)
    assert answer.reason == "spoof_suspected"
    assert not answer.granted
    assert door.commands == []


def test_a_door_left_at_default_has_no_challenge_where_liveness_is_off(tmp_path: Path) -> None:
    upstream, door, person = ChallengeUpstream(DoorLiveness.DEFAULT), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=3.0)
    answer = decider.decide_frame("bench-door", png(7))
    assert answer.granted
    assert answer.challenge is None
    # Set to challenge: the door's next frames are challenged (the perception is rebuilt).
    upstream.liveness = DoorLiveness.CHALLENGE
    answer = decider.decide_frame("bench-door", png(7))
    assert answer.pending
    assert answer.challenge is not None


def _described(seen: Observation) -> np.ndarray:
    """The face of every frame of :func:`_seen` (the zero descriptor it carries)."""
    return np.zeros(128, np.float32)


def _seen(track: Track, time_s: float) -> Observation:
    image = np.zeros((120, 160, 3), np.uint8)
    frame = Frame(image, int(time_s * 10), time_s)
    track.frames.add(time_s, FaceFrame(image, track.box, None))  # type: ignore[arg-type]
    return Observation(track, frame, FaceEvidence(descriptor=np.zeros(128)))


def test_another_track_in_the_faces_place_fails_the_challenge() -> None:
    person = Person()
    desk = ChallengeDesk(
        ChallengeSetup(lambda: person.read, ChallengeSettings(prompts=2)), _described
    )
    first = Track(1, Box(40, 20, 120, 100), 0, 0.0, 0)
    held = desk.screen(_seen(first, 0.0), 0.57)
    assert held.evidence is None
    assert held.refusal is None
    assert desk.view is not None
    assert desk.view.status == "pending"
    person.do(desk.view.prompt)
    desk.screen(_seen(first, 0.2), 0.57)
    assert desk.view is not None
    assert desk.view.step == 1
    # Another face (a new track) where the first one was: the challenge fails.
    other = Track(2, Box(40, 20, 120, 100), 3, 0.3, 3)
    refused = desk.screen(_seen(other, 0.3), 0.57)
    assert refused.evidence is not None
    assert refused.evidence.refusal is not None
    assert refused.evidence.refusal.value == "spoof_suspected"
    assert desk.view is not None
    assert desk.view.status == "failed"
    assert not first.live
    assert not other.live


def test_each_failure_doubles_the_doors_wait_and_a_pass_resets_it() -> None:
    person = Person()
    setup = ChallengeSetup(
        lambda: person.read, ChallengeSettings(prompts=1, response_s=1.0), retry_after_s=2.0
    )
    desk = ChallengeDesk(setup, _described)
    track = Track(1, Box(40, 20, 120, 100), 0, 0.0, 0)
    clock = 0.0
    for failures, wait in ((1, 2.0), (2, 4.0), (3, 8.0)):
        desk.screen(_seen(track, clock), 0.57)  # a challenge starts; no move follows
        clock += 1.1
        refused = desk.screen(_seen(track, clock), 0.57)
        assert refused.evidence is not None
        assert desk.failures == failures
        assert desk.next_start_s() == pytest.approx(clock + wait)
        early = desk.screen(_seen(track, clock + wait - 0.1), 0.57)  # still waiting: refused
        assert early.evidence is not None
        assert desk.view is None
        clock += wait
    # A face that leaves mid-challenge is no free retry: the lapse counts as a failure.
    desk.screen(_seen(track, clock), 0.57)
    desk.no_face(clock + 1.1)
    assert desk.failures == 4
    clock += 1.1 + 16.0
    desk.screen(_seen(track, clock), 0.57)
    assert desk.view is not None
    person.do(desk.view.prompt)
    desk.screen(_seen(track, clock + 0.2), 0.57)
    assert track.live
    assert desk.failures == 0
    assert desk.next_start_s() == float("-inf")


STRANGER, RESIDENT = 3, 7
"""Fake people: the gallery holds the resident (7) only."""


def test_a_photo_shown_before_the_prompts_is_not_the_face_granted(tmp_path: Path) -> None:
    """A resident's photo held up first (the track's first, sharpest description), then a
    stranger answers the prompts in the same place (same track): the stranger is the face
    identified, so the door stays shut (the resident was granted before the pin)."""
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=3.0)
    first = decider.decide_frame("bench-door", png(RESIDENT))  # the photo: challenge starts
    assert first.pending
    answer = _pass(decider, person, png(STRANGER))
    assert answer.challenge is not None
    assert answer.challenge.status == "passed"
    assert not answer.granted
    assert answer.reason == "unknown_face"
    assert door.commands == []
    assert "granted" not in _reasons(upstream)


def test_a_photo_swapped_in_after_a_pass_is_not_granted(tmp_path: Path) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=3.0)
    answer = _pass(decider, person, png(STRANGER))
    assert (answer.granted, answer.reason) == (False, "unknown_face")
    for _ in range(3):  # the resident's photo in the stranger's place, frame after frame
        swapped = decider.decide_frame("bench-door", png(RESIDENT))
        assert not swapped.granted
    assert door.commands == []
    assert "granted" not in _reasons(upstream)


def test_the_resident_who_answers_is_granted_with_the_pinned_face(tmp_path: Path) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=3.0)
    answer = _pass(decider, person, png(RESIDENT))
    assert answer.granted
    assert len(door.commands) == 1


def test_another_face_in_a_passed_track_is_refused_and_starts_over() -> None:
    """After a pass, a descriptor of another face in the same track (a photo swapped in)
    is never handed on for identity: a refusal, and the track is a new face again."""
    person = Person()
    desk = ChallengeDesk(
        ChallengeSetup(lambda: person.read, ChallengeSettings(prompts=1)), _described
    )
    track = Track(1, Box(40, 20, 120, 100), 0, 0.0, 0)
    desk.screen(_seen(track, 0.0), 0.57)
    assert desk.view is not None
    person.do(desk.view.prompt)
    passed = desk.screen(_seen(track, 0.2), 0.57)
    assert track.live
    assert passed.evidence is not None
    assert passed.evidence.descriptor is not None
    assert not passed.evidence.descriptor.any()  # the face that answered
    same = desk.screen(_seen(track, 0.3), 0.57)
    assert same.evidence is not None
    assert same.evidence.refusal is None
    photo = _seen(track, 0.4)
    swapped = desk.screen(replace(photo, evidence=FaceEvidence(np.ones(128) * 0.2)), 0.57)
    assert swapped.evidence is not None
    assert swapped.evidence.refusal is Reason.SPOOF_SUSPECTED
    assert swapped.evidence.descriptor is None
    assert not track.live
    assert track.descriptor is None
    assert desk.failures == 1


def test_the_third_failed_challenge_in_a_row_raises_one_alarm(tmp_path: Path) -> None:
    upstream, door, person = ChallengeUpstream(), FakeDoor(), Person()
    decider = _decider(upstream, tmp_path, person, door, response_s=0.3, retry_after_s=0.2)
    for failure in range(1, 5):  # a replay that never moves, tried again and again
        answer = decider.decide_frame("bench-door", png(RESIDENT))
        assert answer.pending, failure
        CLOCK.wait(0.35)
        answer = decider.decide_frame("bench-door", png(RESIDENT))
        assert answer.reason == "spoof_suspected"
        CLOCK.wait(0.2 * 2.0 ** (failure - 1) + 0.05)  # the door's back-off
        alarms = [e for e in upstream.events if e.kind is GateEventKind.CHALLENGE_FAILURES]
        assert len(alarms) == (0 if failure < 3 else 1), failure
    assert alarms[0].door_id == "bench-door"
    assert alarms[0].note == "3 failed challenges in a row"
    assert door.commands == []
    # A pass resets the count.
    assert _pass(decider, person, png(RESIDENT)).granted
    assert decider.stations()[0].desk is not None
    assert decider.stations()[0].desk.failures == 0
