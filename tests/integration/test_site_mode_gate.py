"""The site mode end to end: the CLI on a real SQLite site, a gate built by ``build_gate``
that follows it, and the fire panel's MQTT topic on the real broker acting at the gate.

The gate uses a fake face engine (no face is needed for what is tested here) and the
simulated door; the fire test uses its own topic prefix and publishes nothing retained.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from brokers import SHARED_BROKER, broker_up, unique_prefix
from facegate.bootstrap import SystemClock, build_store
from facegate.bootstrap_gate import build_gate
from facegate.cli import app
from facegate.config import GateSettings, Settings
from facegate.domain.gate import GateEventKind
from facegate.domain.policy import SiteMode
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.runner import RunningGate, sync_once
from facegate.services import places
from facegate.services.context import ServiceContext
from fakes import FakeFaceEngine
from support import card_site, wait_for

runner = CliRunner()


class NamedEngine(FakeFaceEngine):
    model_id = "fake-model"


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings, _, _ = card_site(tmp_path, monkeypatch, "Lobby")
    return settings.model_copy(update={"gate": replace(GateSettings(), liveness="none")})


def door_id(settings: Settings) -> str:
    store = build_store(settings)
    try:
        context = ServiceContext(store=store, clock=SystemClock(), actor="test")
        return places.list_doors(context)[0].id
    finally:
        store.close()


def gate(settings: Settings) -> RunningGate:
    return build_gate(settings, door_id(settings), engine=NamedEngine())  # type: ignore[arg-type]


def door_of(running: RunningGate) -> SimulatedDoor:
    inner = running.actuator.inner  # type: ignore[attr-defined]
    assert isinstance(inner, SimulatedDoor)
    return inner


def test_the_cli_sets_the_mode_and_the_gate_follows_on_its_next_poll(settings: Settings) -> None:
    running = gate(settings)
    try:
        assert door_of(running).commands == []
        code, shown = cli("site", "mode", "set", "free_passage", "--reason", "moving day")
        assert (code, shown["mode"], shown["source"]) == (0, "free_passage", "operator")
        sync_once(running.holder, running.outbox)  # one round of the sync thread
        commands = door_of(running).commands
        assert [c.action for c in commands] == ["unlock"]
        code, shown = cli(
            "site", "mode", "set", "lockdown", "--reason", "intruder", "--until", "1h"
        )
        assert (code, shown["mode"]) == (0, "lockdown")
        sync_once(running.holder, running.outbox)
        assert running.holder().access.mode is SiteMode.LOCKDOWN
        running.sync.ticks[-1]()  # the keeper's tick: lockdown renews nothing
        assert len(door_of(running).commands) == 1
        assert cli("site", "mode", "show")[1]["until"] is not None
    finally:
        running.stop()


def test_bad_mode_input_exits_3(settings: Settings) -> None:
    assert cli("site", "mode", "set", "lockdown", "--reason", "x", "--until", "soon")[0] == 3
    assert cli("site", "mode", "set", "lockdown", "--reason", "")[0] == 3
    assert cli("site", "mode", "set", "party", "--reason", "x")[0] == 2
    assert runner.invoke(app, ["site", "mode"]).stdout.strip() == "site mode: normal"


def publish(prefix: str, topic: str, payload: str) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(*SHARED_BROKER)
    client.loop_start()
    client.publish(f"{prefix}/site/{topic}", payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_the_fire_topic_opens_the_door_through_a_lockdown_without_the_server(
    settings: Settings,
) -> None:
    if not broker_up(*SHARED_BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    cli("site", "mode", "set", "lockdown", "--reason", "intruder")
    prefix = unique_prefix()
    fire = replace(settings.gate, fire_mqtt=True, mqtt_prefix=prefix)
    running = gate(settings.model_copy(update={"gate": fire}))
    try:
        listener = running.closers[-1].__self__  # type: ignore[attr-defined]
        assert listener.wait_subscribed(5.0)
        assert running.holder().access.mode is SiteMode.LOCKDOWN
        publish(prefix, "fire", "ACTIVE")
        assert wait_for(lambda: running.holder().access.mode is SiteMode.FIRE)
        assert [c.action for c in door_of(running).commands] == ["unlock"]
        publish(prefix, f"door/{door_id(settings)}/fire", "garbage")  # logged, ignored
        publish(prefix, "fire", "clear")
        assert wait_for(lambda: running.holder().access.mode is SiteMode.LOCKDOWN)
        notes = [e.note for e in running.outbox.pending() if e.kind is GateEventKind.FIRE_INPUT]
        assert notes == [f"mqtt:{prefix}/site/fire: active", f"mqtt:{prefix}/site/fire: clear"]
    finally:
        running.stop()
