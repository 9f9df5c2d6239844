"""The MQTT door and lift (paho-mqtt 2.x), with Home Assistant discovery and door alarms.

Topic scheme (``<p>`` the prefix, ``<s>`` the site segment, ``<id>`` a door or lift id):

- ``<p>/<s>/door/<id>/set``: the gate's command, JSON
  ``{"action": "unlock", "duration_s": 5.0, "request_id": "..."}``; a lift's is
  ``{"action": "floors", "floors": [2, 3], "duration_s": 5.0, "request_id": "..."}``
  on ``<p>/<s>/lift/<id>/set`` (only the floors allowed for this ride).
- ``<p>/<s>/door/<id>/ack`` (and ``lift``): the controller's answer,
  ``{"request_id": "...", "ok": true}``; no ``ok`` answer within ``ack_timeout_s``
  is ``actuator_failed`` and the door stays locked.
- ``<p>/<s>/door/<id>/contact``: the door contact sensor, ``open`` or ``closed``.
- ``<p>/<s>/door/<id>/state``: ``locked`` / ``unlocked`` as the gate believes, retained,
  for Home Assistant: ``locked`` on connecting, ``unlocked`` on an acknowledged unlock,
  ``locked`` again when its unlock time has run out (a later unlock extends it).
- ``homeassistant/lock/<p>_<s>_<id>/config``: Home Assistant MQTT discovery (retained),
  so the door shows up as a lock, named by the door's name, whose ``unlock`` goes
  through the command topic.

Commands are published at QoS 1 and never retained: a command must not replay after a
broker restart.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.domain.errors import ActuatorFailedError
from facegate.ports import ActuatorCommand


def topic_base(prefix: str, site: str, kind: str, target_id: str) -> str:
    """``<prefix>/<site>/<kind>/<target_id>``: the root of one door's or lift's topics."""
    return f"{prefix}/{site}/{kind}/{target_id}"


def discovery_config(prefix: str, site: str, door_id: str, name: str) -> tuple[str, str]:
    """The Home Assistant discovery topic and payload that show ``door_id`` as a lock."""
    base = topic_base(prefix, site, "door", door_id)
    unique = f"{prefix}_{site}_{door_id}"
    payload = {
        "name": name,
        "unique_id": unique,
        "command_topic": f"{base}/set",
        "state_topic": f"{base}/state",
        "payload_unlock": json.dumps({"action": "unlock", "request_id": "home-assistant"}),
        "payload_lock": json.dumps({"action": "lock", "request_id": "home-assistant"}),
        "state_locked": "locked",
        "state_unlocked": "unlocked",
        "device": {"identifiers": [unique], "name": name, "manufacturer": "facegate"},
    }
    return f"homeassistant/lock/{unique}/config", json.dumps(payload)


class MqttDoor:
    """A door (or lift) behind an MQTT controller; one connection, reconnecting itself.

    Args:
        host: broker host.
        port: broker port.
        base: the target's topic root (:func:`topic_base`).
        ack_timeout_s: how long :meth:`send` waits for the acknowledgement (seconds).
        on_contact: called with ``"open"`` or ``"closed"`` when the contact sensor reports.
    """

    def __init__(
        self,
        host: str,
        port: int,
        base: str,
        ack_timeout_s: float,
        on_contact: Callable[[str], None] | None = None,
    ) -> None:
        self.base = base
        self.ack_timeout_s = ack_timeout_s
        self._on_contact = on_contact
        self._acks: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._relock: threading.Timer | None = None
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = self._connected_cb
        self._client.on_disconnect = self._disconnected_cb
        self._client.on_message = self._message_cb
        self._client.reconnect_delay_set(min_delay=1, max_delay=4)
        self._client.connect_async(host, port, keepalive=15)
        self._client.loop_start()

    def _connected_cb(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe([(f"{self.base}/ack", 1), (f"{self.base}/contact", 1)])
        with self._lock:
            relocking = self._relock is not None
        if not relocking:
            client.publish(f"{self.base}/state", "locked", qos=1, retain=True)
        self._connected.set()

    def _disconnected_cb(self, *_: Any) -> None:
        self._connected.clear()

    def _message_cb(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        text = bytes(message.payload).decode("utf-8", "replace").strip()
        if message.topic.endswith("/contact"):
            if self._on_contact is not None and text in ("open", "closed"):
                self._on_contact(text)
            return
        try:
            ack = json.loads(text)
            request_id, ok = str(ack["request_id"]), ack.get("ok") is True
        except (ValueError, KeyError, TypeError):
            return  # a malformed ack acknowledges nothing
        with self._lock:
            waiter = self._acks.get(request_id)
        if waiter is not None and ok:
            waiter.set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Whether the broker connection is up within ``timeout_s`` seconds."""
        return self._connected.wait(timeout_s)

    def send(self, command: ActuatorCommand) -> None:
        """Publish ``command`` and wait for its acknowledgement.

        Raises:
            ActuatorFailedError: not connected, not published, or not acknowledged in time.
        """
        deadline = time.monotonic() + self.ack_timeout_s
        waiter = threading.Event()
        with self._lock:
            self._acks[command.request_id] = waiter
        try:
            if not self._connected.wait(self.ack_timeout_s):
                raise ActuatorFailedError(f"no broker connection for {self.base}")
            body: dict[str, Any] = {
                "action": command.action,
                "duration_s": command.duration_s,
                "request_id": command.request_id,
            }
            if command.action == "floors":
                body["floors"] = list(command.floors)
            info = self._client.publish(f"{self.base}/set", json.dumps(body), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise ActuatorFailedError(f"publish to {self.base}/set failed (rc {info.rc})")
            if not waiter.wait(max(deadline - time.monotonic(), 0.0)):
                raise ActuatorFailedError(f"{self.base} did not acknowledge {command.request_id}")
        finally:
            with self._lock:
                self._acks.pop(command.request_id, None)
        self._client.publish(f"{self.base}/state", "unlocked", qos=1, retain=True)
        self._relock_after(command.duration_s)

    def _relock_after(self, duration_s: float) -> None:
        """Report ``locked`` once ``duration_s`` has passed (a newer unlock replaces it)."""
        timer = threading.Timer(duration_s, self._locked)
        timer.daemon = True
        with self._lock:
            if self._relock is not None:
                self._relock.cancel()
            self._relock = timer
        timer.start()

    def _locked(self) -> None:
        with self._lock:
            self._relock = None
        self._client.publish(f"{self.base}/state", "locked", qos=1, retain=True)

    def publish_discovery(self, name: str, prefix: str, site: str, door_id: str) -> None:
        """Publish the Home Assistant discovery config (retained) for this door."""
        topic, payload = discovery_config(prefix, site, door_id, name)
        self._client.publish(topic, payload, qos=1, retain=True)

    def close(self) -> None:
        """Disconnect and stop the network thread (a pending ``locked`` report is dropped)."""
        with self._lock:
            if self._relock is not None:
                self._relock.cancel()
            self._relock = None
        self._client.disconnect()
        self._client.loop_stop()
