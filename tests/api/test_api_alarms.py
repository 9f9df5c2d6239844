"""Alarms end to end: a forced door at a gate reaches MQTT, the webhook and the console."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from api_site import Site
from brokers import SHARED_BROKER, broker_up, unique_prefix
from facegate.domain.accounts import GateKind
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.contact import ContactMonitor, alarm_to_outbox
from facegate.gate.outbox import SqliteOutbox, event_to_json
from facegate.messaging.mqtt_alarms import MqttAlarmPublisher, alarm_topic
from facegate.messaging.webhook import WebhookNotifier
from facegate.services import accounts, places
from facegate.services.alarms import AlarmFeed, AlarmService


class Listener:
    """Subscribes to one topic and keeps every message's JSON."""

    def __init__(self, topic: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.got = threading.Event()
        self._ready = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = lambda c, *_: (c.subscribe(topic, 1), self._ready.set())
        self._client.on_message = self._message
        self._client.connect(*SHARED_BROKER)
        self._client.loop_start()
        assert self._ready.wait(5.0)
        time.sleep(0.2)  # the subscription settles

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        self.messages.append(json.loads(message.payload))
        self.got.set()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def prefix() -> str:
    if not broker_up(*SHARED_BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    return unique_prefix()


def test_a_forced_door_raises_an_alarm_on_every_channel(
    site: Site, tmp_path: Path, prefix: str
) -> None:
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    issued = accounts.issue_device_key(site.context, door, "gate", GateKind.EDGE, "gate-n")
    secret = issued.secret
    topic = alarm_topic(prefix, "site")
    listener = Listener(topic)
    hooked: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        hooked.append(json.loads(request.content))
        return httpx.Response(204)

    publisher = MqttAlarmPublisher(*SHARED_BROKER, topic)
    webhook = WebhookNotifier("http://hooks.test/alarm", transport=httpx.MockTransport(receiver))
    feed = AlarmFeed()
    site.deps.alarms = AlarmService([publisher, webhook], feed)
    try:
        # At the gate: the contact says open while the gate never unlocked.
        outbox = SqliteOutbox(tmp_path / "gate-outbox.db")
        monitor = ContactMonitor(
            site.deps.clock, 30.0, alarm_to_outbox(outbox, site.deps.clock, "gate-n", door)
        )
        monitor.contact("open")
        batch = {"events": [event_to_json(e) for e in outbox.pending()]}
        client = site.client()
        for _ in range(2):  # delivered twice (a retry): raised once
            answer = client.post(
                "/api/v1/gates/gate-n/events", json=batch, headers={"X-Device-Key": secret}
            )
            assert answer.status_code == 200, answer.text
        assert site.deps.alarms.drain(10.0)
        assert listener.got.wait(10.0)
    finally:
        listener.close()
        publisher.close()
        outbox.close()
    for channel in (listener.messages, hooked, [p for _, p in feed.after(0)]):
        assert [(m["type"], m["door_id"], m["event"]) for m in channel] == [
            ("door_forced_open", door, "alarm")
        ]


def test_the_console_stream_shows_alarms(site: Site) -> None:
    feed = AlarmFeed()
    alarms = AlarmService([], feed)
    site.deps.alarms = alarms
    client = site.client("operator")

    def later() -> None:
        time.sleep(0.3)
        event = GateEvent(
            "alarm-key-1",
            "gate-1",
            GateEventKind.DOOR_HELD_OPEN,
            "door-1",
            site.deps.clock.now(),
            note="held 45 s",
        )
        alarms.raise_event(event)

    threading.Thread(target=later, daemon=True).start()
    with client.stream("GET", "/api/v1/events/stream", params={"duration_s": 1.5}) as answer:
        assert answer.status_code == 200
        text = "".join(answer.iter_text())
    assert "event: alarm" in text
    data = next(line for line in text.splitlines() if line.startswith('data: {"event"'))
    assert json.loads(data.removeprefix("data: "))["type"] == "door_held_open"


def test_a_gate_gone_silent_is_raised_by_the_servers_watch(site: Site) -> None:
    from facegate.bootstrap_server import watch_silent_gates

    feed = AlarmFeed()
    site.deps.alarms = AlarmService([], feed)
    stop = watch_silent_gates(site.deps, lambda: [("gate-7", "door-7")], every_s=0.05)
    assert stop is not None
    try:
        deadline = time.monotonic() + 5.0
        while not feed.after(0) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert [(p["type"], p["gate_id"], p["door_id"]) for _, p in feed.after(0)] == [
        ("gate_silent", "gate-7", "door-7")
    ]


def test_the_server_watches_its_registered_edge_gates(site: Site) -> None:
    from facegate.bootstrap_server import _silent_gates

    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    ).id
    accounts.issue_device_key(site.context, door, "edge", GateKind.EDGE, "gate-silent")
    accounts.issue_device_key(site.context, door, "kiosk", GateKind.KIOSK, "kiosk-1")
    assert _silent_gates(site.deps, 0.0)() == [("gate-silent", door)]
    assert _silent_gates(site.deps, 3600.0)() == []  # not before the server ran that long
