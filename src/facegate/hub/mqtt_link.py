"""The hub's own publishing link (notices): one MQTT 5 client, QoS 1, waits for PUBACK."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.domain.errors import ServiceUnavailableError

PUBLISH_TIMEOUT_S = 10.0
"""How long a notice may wait for the broker's acknowledgement (seconds)."""


class HubPublisher:
    """Publishes the hub's notices.

    Args:
        host: broker host.
        port: broker port.
        client_id: the client id (``hub-notices``).
        credentials: broker ``(username, password)`` when the broker asks for them.
    """

    def __init__(
        self, host: str, port: int, client_id: str, credentials: tuple[str, str] | None = None
    ) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if credentials is not None:
            self._client.username_pw_set(*credentials)
        try:
            self._client.connect(host, port, keepalive=30)
        except OSError as err:
            raise ServiceUnavailableError(f"broker {host}:{port} unreachable ({err})") from err
        self._client.loop_start()

    def publish(self, name: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement.

        Raises:
            ServiceUnavailableError: not acknowledged within :data:`PUBLISH_TIMEOUT_S`.
        """
        info = self._client.publish(name, payload, qos=1)
        try:
            info.wait_for_publish(PUBLISH_TIMEOUT_S)
        except (RuntimeError, ValueError) as err:
            raise ServiceUnavailableError(f"broker did not take the notice ({err})") from err
        if not info.is_published():
            raise ServiceUnavailableError("broker did not acknowledge the notice in time")

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
