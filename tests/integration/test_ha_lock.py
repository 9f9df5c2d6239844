"""The Home Assistant lock on the real broker: named by the door, back to ``locked``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from brokers import SHARED_BROKER, Responder, broker_up, unique_prefix
from facegate.bootstrap_gate import build_actuator
from facegate.config import GateSettings, Settings
from facegate.domain.policy import Target
from facegate.domain.site import CredentialKind
from facegate.ports import ActuatorCommand


@pytest.fixture
def responder() -> Iterator[Responder]:
    if not broker_up(*SHARED_BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    controller = Responder(*SHARED_BROKER, unique_prefix())
    controller.wait_connected()
    yield controller
    controller.close()


class Watcher:
    """Every message on the topics of one prefix, with when it came."""

    def __init__(self, prefix: str) -> None:
        self.seen: list[tuple[float, str, str]] = []
        self.prefix = prefix
        self._ready = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_: c.subscribe(
            [(f"{prefix}/#", 1), ("homeassistant/lock/+/config", 1)]
        )
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = self._on_message
        self._client.connect(*SHARED_BROKER)
        self._client.loop_start()
        assert self._ready.wait(5.0)

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        if self.prefix not in message.topic:
            return
        self.seen.append((time.monotonic(), message.topic, message.payload.decode()))

    def states(self) -> list[str]:
        return [payload for _, topic, payload in self.seen if topic.endswith("/state")]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_the_lock_is_named_by_the_door_and_relocks_after_the_unlock_time(
    responder: Responder,
) -> None:
    watcher = Watcher(responder.prefix)
    gate = replace(GateSettings(), actuator="mqtt", mqtt_prefix=responder.prefix)
    door = Target("door-7", frozenset({CredentialKind.CARD}), name="North entrance")
    actuator = build_actuator(Settings(gate=gate), door, None)
    try:
        assert actuator.wait_connected(5.0)  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5.0
        while "locked" not in watcher.states() and time.monotonic() < deadline:
            time.sleep(0.02)
        configs = [json.loads(p) for _, t, p in watcher.seen if t.endswith("/config") and p]
        assert [c["name"] for c in configs] == ["North entrance"]
        actuator.send(ActuatorCommand("r1", "unlock", 0.4))
        sent = time.monotonic()
        while watcher.states()[-1:] != ["locked"] or len(watcher.states()) < 3:
            assert time.monotonic() < sent + 5.0, watcher.states()
            time.sleep(0.02)
        assert watcher.states() == ["locked", "unlocked", "locked"]
        relocked_at = [at for at, t, p in watcher.seen if p == "locked"][-1]
        assert relocked_at - sent >= 0.35  # not before the unlock time ran out
    finally:
        actuator.close()
        watcher.close()
