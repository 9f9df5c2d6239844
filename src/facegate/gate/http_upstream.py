"""The gate's upstream over HTTP: the site server's gate endpoints (httpx).

``GET {server}/api/v1/gates/{gate_id}/snapshot?target=<door or lift>&model=<model id>`` answers the
snapshot in the wire format of :mod:`facegate.gate.snapshot_wire`;
``POST {server}/api/v1/gates/{gate_id}/events`` takes ``{"events": [...]}`` (the outbox's
JSON) and answers ``{"received": n, "new": m}``. Both send the device key in the
``X-Device-Key`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from facegate.domain.errors import UpstreamUnavailableError
from facegate.domain.gate import GateEvent, GateSnapshot
from facegate.gate.outbox import event_to_json
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire

DEVICE_HEADER = "X-Device-Key"


class HttpUpstream:
    """A :class:`facegate.ports.GateUpstream` over the site server's REST API.

    Args:
        base_url: the server, e.g. ``https://site.local:8000``.
        gate_id: this gate (the device key's gate).
        device_key: the device key's secret.
        model_id: the descriptor model of the gate's engine (the gallery is of it).
        timeout_s: how long one request may take (seconds).
        client: an httpx client to send through (tests pass the app's TestClient);
            ``None`` makes one for ``base_url``.
    """

    def __init__(
        self,
        base_url: str,
        gate_id: str,
        device_key: str,
        model_id: str,
        timeout_s: float,
        client: httpx.Client | None = None,
    ) -> None:
        self.gate_id, self.model_id = gate_id, model_id
        self._key = gate_wire_key(device_key, gate_id)
        self._headers = {DEVICE_HEADER: device_key}
        self._root = f"/api/v1/gates/{gate_id}"
        self._client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self._client.request(
                method, self._root + path, headers=self._headers, **kwargs
            )
        except httpx.HTTPError as err:
            raise UpstreamUnavailableError(f"site server unreachable: {err}") from err
        if answer.status_code >= 400:
            # Any refusal leaves the events in the outbox and the snapshot held: a
            # revoked key or a server fault must not lose an event or stop the gate.
            raise UpstreamUnavailableError(
                f"site server answered {answer.status_code} to {method} {path}: {answer.text[:200]}"
            )
        try:
            return answer.json()
        except ValueError as err:
            raise UpstreamUnavailableError(f"site server sent no JSON to {path}") from err

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        """The current snapshot for ``target_id``.

        Raises:
            UpstreamUnavailableError: the server is unreachable, refuses the key, or fails.
            ValueError: the snapshot is malformed or not sealed for this gate.
        """
        raw = self._call("GET", "/snapshot", params={"target": target_id, "model": self.model_id})
        return snapshot_from_wire(raw, gate_id, self._key)

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Send ``events``; the server stores each once by its key. Returns how many new.

        Raises:
            UpstreamUnavailableError: not delivered (the outbox keeps them).
        """
        if not events:
            return 0
        body = {"events": [event_to_json(e) for e in events]}
        answer = self._call("POST", "/events", json=body)
        return int(answer["new"])

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
