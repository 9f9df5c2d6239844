"""OSDP end to end with real libosdp peripheral devices in the test process.

A reader (address 101) and an output board (102) on one in-memory RS-485 line, each with
its own Secure Channel key, facegate's control panel (:class:`OsdpBus`) talking to them:
a card read goes to a decision, the decision to the board's relay and the reader's LED,
buzzer and text; a PIN from the keypad is checked; a device with the wrong key never
comes online; a device that goes silent is a ``device_offline`` alarm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from facegate.domain.credentials import hash_pin
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.gate import GateEventKind, GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import FaceEvidence, SiteMode
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode
from facegate.gate.bench import bench_snapshot
from facegate.gate.controller import ControllerOptions, DoorController
from facegate.gate.osdp import OsdpBus, OsdpDevice, OsdpRelay
from facegate.gate.osdp_door import OsdpDoor, OsdpDoorWiring
from facegate.gate.site_mode import LocalInputs
from facegate.gate.tracker import Track
from facegate.ports import ActuatorCommand
from fakes import FakeClock, ListSink, unit_descriptor
from osdp_pds import BOARD_CAPS, READER_CAPS, Line, card_read, commands, osdp, start_pd, wait_for

READER, BOARD = 101, 102
READER_KEY, BOARD_KEY = bytes(range(16)), bytes(range(16, 32))
CARD = bytes.fromhex("C0FFEE")
PIN = hash_pin("2468", b"0123456789abcdef")


def door_snapshot(mode: CredentialMode, *kinds: CredentialKind) -> GateSnapshot:
    snapshot = bench_snapshot([unit_descriptor(7)], MatchPolicy(0.57, 0.0))
    target = replace(snapshot.target, accepted=frozenset(kinds), mode=mode)
    access = replace(snapshot.access, cards={"C0FFEE": "bench-person"}, pins={"bench-person": PIN})
    return replace(snapshot, target=target, access=access)


@dataclass
class Rig:
    line: Line
    reader: Any
    board: Any
    bus: OsdpBus
    door: OsdpDoor
    events: ListSink
    contact: list[str]
    local: LocalInputs
    snapshot: list[GateSnapshot]


@pytest.fixture
def rig() -> Iterator[Rig]:
    line = Line(2)
    reader = start_pd(line, 1, READER, READER_KEY, READER_CAPS)
    board = start_pd(line, 2, BOARD, BOARD_KEY, BOARD_CAPS)
    devices = [OsdpDevice(READER, READER_KEY, "reader"), OsdpDevice(BOARD, BOARD_KEY, "board")]
    bus = OsdpBus(line.end(0), devices)
    held = [door_snapshot(CredentialMode.ANY_OF, CredentialKind.CARD, CredentialKind.FACE)]
    events, clock, contact, local = ListSink(), FakeClock(), [], LocalInputs()
    options = ControllerOptions("gate-1", 3.0, card_window_s=10.0)
    relay = OsdpRelay(bus, BOARD, 0, ack_timeout_s=2.0)
    controller = DoorController(lambda: held[0], relay, events, clock, options)
    wiring = OsdpDoorWiring(READER, contact_input=0, fire_input=1, unlock_s=3.0)
    door = OsdpDoor(
        controller, wiring, clock, events.put, ("gate-1", "bench-door"), contact.append, local
    )
    bus.listener, door.bus = door, bus
    bus.start()
    assert wait_for(lambda: bus.online(READER) and bus.online(BOARD), 10.0), "devices offline"
    yield Rig(line, reader, board, bus, door, events, contact, local, held)
    bus.close()
    reader.teardown()
    board.teardown()


def decisions(rig: Rig) -> list[tuple[Reason | None, str | None]]:
    return [(e.reason, e.person_id) for e in rig.events.events if e.reason is not None]


def test_a_card_opens_the_strike_and_the_reader_shows_it(rig: Rig) -> None:
    rig.reader.submit_event(card_read(CARD))
    outputs = commands(rig.board, osdp.Command.Output)
    assert [(c["output_no"], c["control_code"], c["timer_count"]) for c in outputs] == [(0, 5, 30)]
    assert wait_for(lambda: decisions(rig) == [(Reason.GRANTED, "bench-person")])
    leds = commands(rig.reader, osdp.Command.LED)
    assert leds
    assert leds[0]["on_color"] == osdp.CommandLEDColor.Green


def test_an_unknown_card_is_refused_in_red_and_the_strike_stays_shut(rig: Rig) -> None:
    rig.reader.submit_event(card_read(bytes.fromhex("BADBAD")))
    leds = commands(rig.reader, osdp.Command.LED)
    assert leds
    assert leds[0]["on_color"] == osdp.CommandLEDColor.Red
    assert decisions(rig) == [(Reason.UNKNOWN_CREDENTIAL, None)]
    assert commands(rig.board, osdp.Command.Output, timeout_s=0.5) == []


def test_card_and_face_on_an_all_of_door(rig: Rig) -> None:
    rig.snapshot[0] = door_snapshot(CredentialMode.ALL_OF, CredentialKind.CARD, CredentialKind.FACE)
    rig.reader.submit_event(card_read(CARD))
    assert wait_for(lambda: rig.door.controller.waiting.has(CredentialKind.CARD))
    assert decisions(rig) == []  # the card waits for the face
    track = Track(1, (0, 0, 10, 10), 0, 0.0, 0)
    face = FaceEvidence(descriptor=unit_descriptor(7))
    outcome = rig.door.controller.decide_face(track, face, None, 0, 0.0, 0.0)
    assert outcome is not None
    assert outcome.decision.granted
    assert commands(rig.board, osdp.Command.Output)


def test_a_keypad_pin_is_checked_after_the_card(rig: Rig) -> None:
    rig.snapshot[0] = door_snapshot(CredentialMode.ALL_OF, CredentialKind.CARD, CredentialKind.PIN)
    rig.reader.submit_event(card_read(CARD))
    rig.reader.submit_event({"event": osdp.Event.KeyPress, "reader_no": 0, "data": b"1111#"})
    assert wait_for(lambda: decisions(rig) == [(Reason.WRONG_PIN, "bench-person")])
    rig.reader.submit_event({"event": osdp.Event.KeyPress, "reader_no": 0, "data": b"24*2468#"})
    assert wait_for(lambda: len(decisions(rig)) == 2)
    assert decisions(rig)[1] == (Reason.GRANTED, "bench-person")
    assert commands(rig.board, osdp.Command.Output)


def test_contact_and_fire_inputs(rig: Rig) -> None:
    status = {"event": osdp.Event.Status, "type": osdp.StatusReportType.Input}
    rig.board.submit_event({**status, "report": bytes([1, 0, 0, 0])})
    assert wait_for(lambda: rig.contact == ["open"])
    rig.board.submit_event({**status, "report": bytes([0, 1, 0, 0])})
    assert wait_for(lambda: rig.contact == ["open", "closed"])
    assert wait_for(lambda: rig.local.mode() is SiteMode.FIRE)


def test_a_device_with_the_wrong_key_never_comes_online() -> None:
    line = Line(1)
    impostor = start_pd(line, 1, READER, bytes(16), READER_CAPS)  # not the reader's key
    heard: list[str] = []

    class Ears:
        def card(self, address: int, number: str) -> None:
            heard.append(number)

        def keys(self, address: int, data: bytes) -> None:
            heard.append(data.hex())

        def inputs(self, address: int, states: tuple[bool, ...]) -> None:
            heard.append(str(states))

        def online(self, address: int, up: bool) -> None:
            if up:
                heard.append("online")

    bus = OsdpBus(line.end(0), [OsdpDevice(READER, READER_KEY, "reader")], Ears())
    bus.start()
    try:
        assert not wait_for(lambda: bus.online(READER), 2.0)
        impostor.submit_event(card_read(CARD))
        assert not wait_for(lambda: bool(heard), 1.0)
        with pytest.raises(ActuatorFailedError, match="offline"):
            OsdpRelay(bus, READER, 0, 1.0).send(ActuatorCommand("r1", "unlock", 3.0))
    finally:
        bus.close()
        impostor.teardown()


def test_a_reader_going_silent_is_an_offline_alarm(rig: Rig) -> None:
    came = [e.note for e in rig.events.events if e.kind is GateEventKind.DEVICE_ONLINE]
    assert sorted(came) == [f"OSDP device {READER} online", f"OSDP device {BOARD} online"]
    rig.line.unplug(1)

    def went() -> list[str]:
        return [e.note for e in rig.events.events if e.kind is GateEventKind.DEVICE_OFFLINE]

    assert wait_for(lambda: bool(went()), 15.0)  # libosdp gives up after about 8 s
    assert went() == [f"OSDP device {READER} offline"]
    assert rig.bus.online(BOARD)
