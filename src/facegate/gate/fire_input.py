"""A fire panel's input at the gate over MQTT: the gate opens its door without the server.

Topics (``<p>`` the prefix, ``<s>`` the site segment, ``<id>`` the door or lift):

- ``<p>/<s>/fire``: the site's fire panel (every gate of the site listens);
- ``<p>/<s>/door/<id>/fire`` (or ``lift``): a panel zone wired to this door only.

Payload ``active`` / ``clear`` (also ``ON``/``OFF``, ``1``/``0``, ``true``/``false``,
any case). The fire panel's integration should publish it retained, so a gate that
(re)starts during a fire learns it at once. Any other payload is logged and changes
nothing. Each change is a ``fire_input`` alarm event (note ``active`` or ``clear``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.domain.clock import Clock
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.policy import SiteMode
from facegate.gate.mqtt import topic_base
from facegate.gate.site_mode import LocalInputs

log = logging.getLogger(__name__)

_ACTIVE = frozenset({"active", "on", "1", "true", "fire", "alarm"})
_CLEAR = frozenset({"clear", "off", "0", "false", "normal"})


def fire_topics(prefix: str, site: str, kind: str, target_id: str) -> tuple[str, str]:
    """The site-wide fire topic and this door's (or lift's) own."""
    return f"{prefix}/{site}/fire", f"{topic_base(prefix, site, kind, target_id)}/fire"


def parse_fire_payload(text: str) -> bool | None:
    """``True`` for an active fire input, ``False`` for clear, ``None`` when unreadable."""
    word = text.strip().lower()
    if word in _ACTIVE:
        return True
    if word in _CLEAR:
        return False
    return None


def fire_event_recorder(
    record: Callable[[GateEvent], None], clock: Clock, gate_id: str, door_id: str
) -> Callable[[str, bool], None]:
    """A callback recording each fire input change as a ``fire_input`` alarm event."""

    def changed(name: str, active: bool) -> None:
        note = f"{name}: {'active' if active else 'clear'}"
        kind = GateEventKind.FIRE_INPUT
        record(GateEvent(str(uuid.uuid4()), gate_id, kind, door_id, clock.now(), note=note))

    return changed


def apply_fire_input(
    inputs: LocalInputs, name: str, active: bool, changed: Callable[[str, bool], None]
) -> None:
    """Set input ``name`` in ``inputs``; on a change, tell ``changed``."""
    if inputs.set(name, SiteMode.FIRE if active else None):
        changed(name, active)


class MqttFireInput:
    """Listens to the fire topics; one connection, reconnecting itself.

    Args:
        host: broker host.
        port: broker port.
        topics: the topics to follow (:func:`fire_topics`).
        inputs: the gate's local inputs (each topic is one input, named by its topic).
        changed: told of each change (:func:`fire_event_recorder`).
    """

    def __init__(
        self,
        host: str,
        port: int,
        topics: tuple[str, ...],
        inputs: LocalInputs,
        changed: Callable[[str, bool], None],
    ) -> None:
        self.topics, self.inputs, self.changed = topics, inputs, changed
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = self._connected_cb
        self._client.on_subscribe = self._subscribed_cb
        self._client.on_message = self._message_cb
        self._client.reconnect_delay_set(min_delay=1, max_delay=4)
        self._client.connect_async(host, port, keepalive=15)
        self._client.loop_start()

    def _connected_cb(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe([(topic, 1) for topic in self.topics])

    def _subscribed_cb(self, *_: Any) -> None:
        self._subscribed.set()

    def _message_cb(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        text = bytes(message.payload).decode("utf-8", "replace")
        active = parse_fire_payload(text)
        if active is None:
            log.error("fire input %s: unreadable payload %r ignored", message.topic, text[:40])
            return
        apply_fire_input(self.inputs, f"mqtt:{message.topic}", active, self.changed)

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Whether the subscription is in place within ``timeout_s`` seconds."""
        return self._subscribed.wait(timeout_s)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()
