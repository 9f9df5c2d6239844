"""Alarms on the site's MQTT alarm topic ``<prefix>/<site>/alarm`` (paho-mqtt 2.x).

Each alarm is one JSON message (:func:`facegate.services.alarms.alarm_payload`) at QoS 1,
never retained (an alarm must not replay to every new subscriber).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)


def alarm_topic(prefix: str, site: str) -> str:
    """``<prefix>/<site>/alarm``: where the site's alarms are published."""
    return f"{prefix}/{site}/alarm"


class MqttAlarmPublisher:
    """Publishes alarms to one topic; one connection, reconnecting itself.

    A failed publication is logged, never raised (the alarm is also stored and on the
    other channels).

    Args:
        host: broker host.
        port: broker port.
        topic: the alarm topic (:func:`alarm_topic`).
        timeout_s: how long one publication may wait for the broker (seconds).
    """

    def __init__(self, host: str, port: int, topic: str, timeout_s: float = 5.0) -> None:
        self.topic, self.timeout_s = topic, timeout_s
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.reconnect_delay_set(min_delay=1, max_delay=8)
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()

    def _on_connect(self, *_: Any) -> None:
        self._connected.set()

    def _on_disconnect(self, *_: Any) -> None:
        self._connected.clear()

    def __call__(self, payload: dict[str, str]) -> None:
        """Publish one alarm (an :data:`facegate.services.alarms.AlarmChannel`)."""
        if not self._connected.wait(self.timeout_s):
            log.error("alarm %s not published: no broker connection", payload.get("key"))
            return
        info = self._client.publish(self.topic, json.dumps(payload), qos=1)
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as err:
            log.error("alarm %s not published to %s: %s", payload.get("key"), self.topic, err)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()
