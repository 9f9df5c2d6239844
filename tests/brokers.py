"""MQTT and TCP helpers for the gate's integration tests.

:class:`Responder` plays a door controller: it records every command on
``<base>/set`` and acknowledges it. :class:`OwnBroker` is a private Mosquitto on a free
port that a test may kill and restart (the shared broker on 1883 is never touched).
:class:`TcpProxy` stands between the gate and a database so a test can cut it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

# One proxy and one port finder for the city bench and the fault tests.
from facegate.citybench.infra import TcpProxy as TcpProxy
from facegate.citybench.infra import free_port as free_port

SHARED_BROKER = ("127.0.0.1", 1883)


def broker_up(host: str, port: int) -> bool:
    """Whether something listens on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def unique_prefix() -> str:
    """A topic prefix no other test uses."""
    return f"fgtest{uuid.uuid4().hex[:10]}"


class Responder:
    """A door controller on the broker: records commands under ``prefix`` and acks them."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.retained: set[str] = set()
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._client.connect_async(host, port, keepalive=15)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe([(f"{self.prefix}/#", 1), ("homeassistant/lock/#", 1)])
        self._connected.set()

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: Any) -> None:
        if message.topic.endswith(("/state", "/config")) and self.prefix in message.topic:
            self.retained.add(message.topic)
        if not message.topic.endswith("/set"):
            return
        body = json.loads(message.payload)
        self.commands.append((message.topic, body))
        ack = json.dumps({"request_id": body["request_id"], "ok": True})
        client.publish(message.topic.removesuffix("/set") + "/ack", ack, qos=1)

    def wait_connected(self, timeout_s: float = 5.0) -> None:
        """Wait for the broker connection (fails the test when it does not come)."""
        assert self._connected.wait(timeout_s), "responder could not reach the broker"

    def clear_retained(self) -> None:
        """Delete every retained message the gate left under this test's names."""
        for topic in self.retained:
            self._client.publish(topic, b"", qos=1, retain=True).wait_for_publish(2.0)

    def close(self) -> None:
        """Clear retained messages and disconnect."""
        self.clear_retained()
        self._client.disconnect()
        self._client.loop_stop()


class OwnBroker:
    """A private Mosquitto on a free port of 127.0.0.1 that a test may kill and restart."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).is_file():
            pytest.skip("mosquitto is not installed")
        self.binary, self.port = binary, free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it listens."""
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10.0
        while not broker_up("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "own mosquitto did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill it (SIGKILL: no goodbye to the clients)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
