from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from facegate.domain.errors import ActuatorFailedError, BadInputError
from facegate.domain.gate import GateEventKind
from facegate.gate.actuators import HttpRelay, SimulatedDoor
from facegate.gate.contact import ContactMonitor
from facegate.gate.mqtt import discovery_config, topic_base
from facegate.ports import ActuatorCommand
from fakes import FakeClock

UNLOCK = ActuatorCommand("r1", "unlock", 3.0)


def test_simulated_door_records_or_fails() -> None:
    door = SimulatedDoor()
    door.send(UNLOCK)
    assert door.commands == [UNLOCK]
    with pytest.raises(ActuatorFailedError):
        SimulatedDoor(fail=True).send(UNLOCK)


class _Relay(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Relay.paths.append(self.path)
        self.send_response(200 if "fail" not in self.path else 500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_http_relay_acks_on_2xx_and_fails_otherwise() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Relay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        HttpRelay(f"http://127.0.0.1:{port}/relay?turn=on&timer={{duration_s}}", 2.0).send(UNLOCK)
        assert _Relay.paths[-1] == "/relay?turn=on&timer=3"
        with pytest.raises(ActuatorFailedError, match="500"):
            HttpRelay(f"http://127.0.0.1:{port}/fail", 2.0).send(UNLOCK)
    finally:
        server.shutdown()
    with pytest.raises(ActuatorFailedError):
        HttpRelay(f"http://127.0.0.1:{port}/relay", 0.5).send(UNLOCK)


def test_topic_scheme_and_home_assistant_discovery() -> None:
    assert topic_base("facegate", "oak", "door", "d1") == "facegate/oak/door/d1"
    topic, payload = discovery_config("facegate", "oak", "d1", "North gate")
    assert topic == "homeassistant/lock/facegate_oak_d1/config"
    config = json.loads(payload)
    assert config["command_topic"] == "facegate/oak/door/d1/set"
    assert json.loads(config["payload_unlock"])["action"] == "unlock"


def test_contact_forced_and_held_open() -> None:
    clock = FakeClock()
    alarms: list[GateEventKind] = []
    monitor = ContactMonitor(clock, held_open_s=30, alarm=alarms.append)
    assert monitor.state == "unknown"  # reported with the gate's health
    monitor.unlocked(5)
    monitor.contact("open")
    assert monitor.state == "open"
    monitor.contact("closed")
    assert monitor.state == "closed"
    assert alarms == []
    clock.advance(seconds=10)
    monitor.contact("open")
    assert alarms == [GateEventKind.DOOR_FORCED_OPEN]
    clock.advance(seconds=31)
    monitor.tick()
    monitor.tick()
    assert alarms == [GateEventKind.DOOR_FORCED_OPEN, GateEventKind.DOOR_HELD_OPEN]


def test_an_http_lift_gets_the_rides_floors_and_a_url_without_them_is_refused() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Relay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        lift = HttpRelay(
            f"http://127.0.0.1:{port}/ride?floors={{floors}}&for={{duration_s}}", 2.0, lift=True
        )
        lift.send(ActuatorCommand("r2", "floors", 5.0, (3, 7)))
        assert _Relay.paths[-1] == "/ride?floors=3,7&for=5"
    finally:
        server.shutdown()
    with pytest.raises(BadInputError, match="floors"):
        HttpRelay("http://127.0.0.1:1/relay?turn=on", 2.0, lift=True)
