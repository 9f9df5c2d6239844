"""A PIN at the gate: a second factor after a card or a face, locked out after wrong ones."""

from __future__ import annotations

from dataclasses import replace

from facegate.domain.credentials import hash_pin
from facegate.domain.gate import GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import FaceEvidence
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode
from facegate.gate.bench import bench_snapshot
from facegate.gate.controller import ControllerOptions, DoorController
from facegate.gate.tracker import Track
from fakes import FakeClock, FakeDoor, ListSink, unit_descriptor

RESIDENT = 7
PIN = hash_pin("2468", b"0123456789abcdef")


def door_taking(*kinds: CredentialKind) -> GateSnapshot:
    snapshot = bench_snapshot([unit_descriptor(RESIDENT)], MatchPolicy(0.57, 0.0))
    target = replace(snapshot.target, accepted=frozenset(kinds), mode=CredentialMode.ALL_OF)
    access = replace(snapshot.access, cards={"C-1": "bench-person"}, pins={"bench-person": PIN})
    return replace(snapshot, target=target, access=access)


def controller(snapshot: GateSnapshot) -> tuple[DoorController, FakeDoor, FakeClock]:
    door, clock = FakeDoor(), FakeClock()
    options = ControllerOptions("gate-t", 3.0, card_window_s=10.0)
    return DoorController(lambda: snapshot, door, ListSink(), clock, options), door, clock


def test_card_then_pin_opens_and_a_wrong_pin_does_not() -> None:
    gate, door, _ = controller(door_taking(CredentialKind.CARD, CredentialKind.PIN))
    assert gate.read_card("C-1") is None  # waits for the PIN
    wrong = gate.read_pin("1111")
    assert wrong is not None
    assert (wrong.decision.reason, wrong.decision.person_id) == (Reason.WRONG_PIN, "bench-person")
    right = gate.read_pin("2468")  # the card still waits; the wrong PIN was forgotten
    assert right is not None
    assert right.decision.granted
    assert len(door.commands) == 1
    assert gate.read_pin("2468") is None  # the card was used up: the PIN waits for one


def test_a_pin_alone_names_nobody_on_an_any_of_door() -> None:
    snapshot = door_taking(CredentialKind.CARD, CredentialKind.PIN)
    any_of = replace(snapshot, target=replace(snapshot.target, mode=CredentialMode.ANY_OF))
    gate, door, _ = controller(any_of)
    outcome = gate.read_pin("2468")
    assert outcome is not None
    assert outcome.decision.reason is Reason.UNKNOWN_CREDENTIAL
    assert door.commands == []


def test_repeated_wrong_pins_lock_the_person_out_even_for_the_right_one() -> None:
    gate, door, clock = controller(door_taking(CredentialKind.CARD, CredentialKind.PIN))
    gate.read_card("C-1")
    reasons = []
    for _ in range(3):
        outcome = gate.read_pin("0000")
        assert outcome is not None
        reasons.append(outcome.decision.scores.get("pin_locked_out", 0.0))
    assert reasons == [0.0, 0.0, 1.0]
    locked = gate.read_pin("2468")
    assert locked is not None
    assert locked.decision.reason is Reason.WRONG_PIN
    assert door.commands == []
    clock.advance(seconds=901)  # the lockout ends
    gate.read_card("C-1")
    assert (opened := gate.read_pin("2468")) is not None
    assert opened.decision.granted


def test_face_then_pin_checks_the_faces_person() -> None:
    gate, door, _ = controller(door_taking(CredentialKind.FACE, CredentialKind.PIN))
    assert gate.read_pin("2468") is None  # waits for the face
    track = Track(1, (0, 0, 10, 10), 0, 0.0, 0)
    evidence = FaceEvidence(descriptor=unit_descriptor(RESIDENT))
    outcome = gate.decide_face(track, evidence, None, 0, 0.0, 0.0)
    assert outcome is not None
    assert outcome.decision.granted
    assert len(door.commands) == 1
