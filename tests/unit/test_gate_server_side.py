"""The server's kiosk pipeline: one station per door, nothing shared between doors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facegate.domain.gate import GateEvent, GateSnapshot
from facegate.domain.liveness import (
    CueResult,
    FaceFrame,
    LivenessSchedule,
    LivenessVerdict,
    SensorFrame,
    fuse,
)
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import Target
from facegate.domain.site import CredentialKind, CredentialMode
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.server_side import ActuatorPool, PipelineDecider, SnapshotRefresher
from facegate.ports import FrameDecision, LivenessCheck
from facegate.vision.images import ImageLimits
from fakes import FakeClock, FakeDoor, FakeFaceEngine, fake_frame, unit_descriptor
from support import Hold


class FakeUpstream:
    """Snapshots for any door (the resident may pass ``bench-door`` only); keeps events."""

    def __init__(self) -> None:
        self.base = bench_snapshot([unit_descriptor(7)], MatchPolicy(0.57, 0.0))
        self.events: list[GateEvent] = []

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        kinds = frozenset({CredentialKind.FACE, CredentialKind.CARD})
        return replace(self.base, target=Target(target_id, kinds))

    def deliver(self, events: Sequence[GateEvent]) -> int:
        self.events.extend(events)
        return len(events)


def png(person: int) -> bytes:
    image = fake_frame(0, person).image
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
    assert ok
    return bytes(data.tobytes())


def kiosk_decider(
    upstream: FakeUpstream,
    tmp_path: Path,
    door: FakeDoor | None = None,
    refresh_s: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    engine: Callable[[], Any] = FakeFaceEngine,
    liveness: LivenessCheck | None = None,
) -> PipelineDecider:
    """The server's kiosk pipeline on fakes (one door for every target)."""
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    return PipelineDecider(
        engine,
        ActuatorPool(lambda target: door or FakeDoor(), upstream),
        SqliteOutbox(tmp_path / "server-outbox.db"),
        lambda: liveness,
        FakeClock(),
        options,
        ImageLimits(),
        refresh_s=refresh_s,
        monotonic=monotonic,
    )


def test_frames_of_other_doors_do_not_break_a_doors_track(tmp_path: Path) -> None:
    upstream, door = FakeUpstream(), FakeDoor()
    decider = kiosk_decider(upstream, tmp_path, door)
    resident, nobody = png(7), png(0)
    answers = []
    for _ in range(20):
        answers.append(decider.decide_frame("bench-door", resident).reason)
        for _ in range(11):  # a busy second door between two frames of the first
            assert decider.decide_frame("lobby", nobody).reason == "no_face"
    assert set(answers) == {"granted"}
    assert len(door.commands) == 1
    assert [e.reason.value for e in upstream.events if e.reason] == ["granted"]
    assert decider.station("bench-door").frames == 20
    assert decider.station("lobby").frames == 220


def test_a_kiosk_door_refuses_a_poor_face_after_0_6_s_of_its_own_frames(
    tmp_path: Path,
) -> None:
    """``low_quality`` after 0.6 s of that door's frames (4 per second), however busy the
    others: 0.75 s, the 4th frame (it was the 15th, 3.5 s, when frames were counted)."""
    now = [0.0]
    upstream = FakeUpstream()
    decider = kiosk_decider(upstream, tmp_path, monotonic=lambda: now[0])
    image = fake_frame(0, 7, good=False).image
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
    assert ok
    poor, nobody = bytes(data.tobytes()), png(0)
    answers = []
    for _ in range(6):
        answers.append(decider.decide_frame("bench-door", poor))
        for _ in range(11):  # a busy second door between two frames of the first
            decider.decide_frame("lobby", nobody)
        now[0] += 0.25
    assert [a.pending for a in answers[:4]] == [True, True, True, False]
    assert answers[3].reason == "low_quality"
    assert decider.station("bench-door").frames == 6


class NeverLive:
    """A liveness check that never sees life (a still print)."""

    cue_names = ("never",)

    def check(
        self, frames: Sequence[FaceFrame], second_sensor: Sequence[SensorFrame] = ()
    ) -> LivenessVerdict:
        return fuse([CueResult("never", 0.0, 0.5)])


def test_a_kiosk_at_4_fps_refuses_a_face_that_never_shows_life_at_3_s(tmp_path: Path) -> None:
    """The README's kiosk claim on the server's own path: pending, then refused at 3 s."""
    now = [0.0]
    decider = kiosk_decider(
        FakeUpstream(), tmp_path, monotonic=lambda: now[0], liveness=NeverLive()
    )
    resident = png(7)
    answers = []
    for _ in range(14):
        answers.append(decider.decide_frame("bench-door", resident))
        now[0] += 0.25
    refused = [n for n, a in enumerate(answers) if not a.pending]
    assert refused[0] * 0.25 == pytest.approx(3.0)  # the 13th frame, not the 50th
    assert answers[refused[0]].reason == "spoof_suspected"
    assert all(a.pending for a in answers[: refused[0]])


class HeldUpstream(FakeUpstream):
    """An upstream whose reads off the test's thread are held until released.

    Such a read is a rebuild under load that does not end (``hold``: how many wait now,
    how many the hang guard freed). ``frame_reads`` counts the reads made on the test's
    (the frames') thread.
    """

    def __init__(self, guard_s: float = 10.0) -> None:
        super().__init__()
        self.version = 1
        self.hold = Hold(guard_s)
        self.frame_thread = threading.get_ident()
        self.frame_reads = 0

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        if threading.get_ident() == self.frame_thread:
            self.frame_reads += 1
        else:
            self.hold()
        return replace(super().fetch_snapshot(gate_id, target_id), version=str(self.version))


def test_with_a_refresher_frames_never_wait_for_a_rebuild_and_changes_still_arrive(
    tmp_path: Path,
) -> None:
    upstream = HeldUpstream()
    decider = kiosk_decider(upstream, tmp_path, refresh_s=0.05)
    nobody = png(0)
    try:
        decider.decide_frame("lobby", nobody)  # builds the station (one read)
        deadline = time.monotonic() + 10.0  # a hang guard, not a speed claim
        while upstream.hold.held < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert upstream.hold.held == 1, "the refresher never read the upstream"
        for _ in range(5):  # while the refresher's rebuild is held
            decider.decide_frame("lobby", nobody)
        held_after_frames = upstream.hold.held
    finally:
        upstream.hold.release.set()
    assert held_after_frames == 1, "the frames waited for the rebuild"
    assert upstream.frame_reads == 1, "the frames read the upstream themselves"
    upstream.version = 2
    deadline = time.monotonic() + 10.0
    while decider.station("lobby").holder().version != "2" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert decider.station("lobby").holder().version == "2"
    assert upstream.hold.timed_out == 0


class PreparingUpstream(FakeUpstream):
    """Records the batched rebuilds asked for and each door's own snapshot reads after them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, object]] = []

    def prepare(self, gate_id: str, target_ids: Sequence[str]) -> int:
        self.calls.append(("prepare", sorted(target_ids)))
        return len(target_ids)

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        self.calls.append(("read", target_id))
        return super().fetch_snapshot(gate_id, target_id)


def test_a_refresh_round_rebuilds_every_door_together_before_their_polls(
    tmp_path: Path,
) -> None:
    upstream = PreparingUpstream()
    decider = kiosk_decider(upstream, tmp_path)  # no thread: the round is run by hand
    refresher = SnapshotRefresher(decider, 60.0)
    for door in ("east", "north", "west"):
        decider.station(door)
    upstream.calls.clear()
    assert refresher.refresh_all()
    assert upstream.calls[0] == ("prepare", ["east", "north", "west"])
    assert sorted(c[1] for c in upstream.calls[1:]) == ["east", "north", "west"]


class HeldEngine(FakeFaceEngine):
    """The fake face engine, whose detector waits at each frame until ``go`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.go = threading.Event(), threading.Event()

    def detect(self, image: Any) -> list[Any]:
        self.inside.set()
        assert self.go.wait(10.0), "the test never let the frame go on"
        return super().detect(image)


def test_a_card_at_a_kiosk_door_is_answered_while_a_frame_of_that_door_is_looked_at(
    tmp_path: Path,
) -> None:
    """The face work of a frame runs outside the door's controller lock (issue 11)."""
    upstream, door, engine = FakeUpstream(), FakeDoor(), HeldEngine()
    decider = kiosk_decider(upstream, tmp_path, door, engine=lambda: engine)
    answers: dict[str, FrameDecision] = {}

    def post_frame() -> None:
        answers["frame"] = decider.decide_frame("bench-door", png(7))

    def post_card() -> None:
        answers["card"] = decider.decide_credential("bench-door", "card", "00000000")

    framing = threading.Thread(target=post_frame)
    framing.start()
    try:
        assert engine.inside.wait(5.0)
        carding = threading.Thread(target=post_card)
        carding.start()
        carding.join(1.0)  # before: waits for the frame (here: until ``go``)
        assert "card" in answers, "the card waited for the frame's face work"
        assert answers["card"].reason == "unknown_credential"
        assert "frame" not in answers  # the frame is still being looked at
    finally:
        engine.go.set()
        framing.join(5.0)
    assert answers["frame"].granted  # the controller's state held: the face still decides
    assert len(door.commands) == 1
    assert sorted(e.reason.value for e in upstream.events if e.reason) == [
        "granted",
        "unknown_credential",
    ]


class CardAndFaceUpstream(FakeUpstream):
    """Every door takes the face AND a card; card ``C-1`` is the resident's."""

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        snapshot = super().fetch_snapshot(gate_id, target_id)
        target = replace(snapshot.target, mode=CredentialMode.ALL_OF)
        access = replace(snapshot.access, cards={"C-1": "bench-person"})
        return replace(snapshot, target=target, access=access)


def test_a_card_typed_while_the_face_is_looked_at_is_taken_by_that_faces_decision(
    tmp_path: Path,
) -> None:
    """The controller's waiting card stays consistent across the unlocked face work."""
    upstream, door, engine = CardAndFaceUpstream(), FakeDoor(), HeldEngine()
    decider = kiosk_decider(upstream, tmp_path, door, engine=lambda: engine)
    answers: dict[str, FrameDecision] = {}

    def post_frame() -> None:
        answers["frame"] = decider.decide_frame("bench-door", png(7))

    framing = threading.Thread(target=post_frame)
    framing.start()
    try:
        assert engine.inside.wait(5.0)
        card = decider.decide_credential("bench-door", "card", "C-1")
        assert (card.granted, card.reason) == (False, "no_face")  # it waits for the face
    finally:
        engine.go.set()
        framing.join(5.0)
    assert answers["frame"].granted  # face and card: the door opens once
    assert len(door.commands) == 1
    assert decider.decide_credential("bench-door", "card", "C-1").reason == "no_face"
    assert len(door.commands) == 1  # a card alone opens nothing: it waits for a face again
