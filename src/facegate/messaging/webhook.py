"""Alert notifications POSTed as JSON to a configured URL (httpx)."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


class WebhookNotifier:
    """POSTs each notification to ``url``; a failed call is logged, never raised.

    A notification is a courtesy copy of a change that is already stored and audited, so
    an unreachable receiver must not undo or block that change; it is logged as an error.

    Args:
        url: the receiver.
        timeout_s: how long one call may take, in seconds.
        transport: an httpx transport (tests pass a mock transport).
    """

    def __init__(
        self, url: str, timeout_s: float = 5.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.transport = transport

    def send(self, payload: dict[str, str]) -> None:
        """Send ``payload`` (for callers that retry, like the alarm channels).

        Raises:
            httpx.HTTPError: it did not arrive.
        """
        with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
            client.post(self.url, json=payload).raise_for_status()

    def __call__(self, payload: dict[str, str]) -> None:
        """Send ``payload``; a failure is logged."""
        try:
            self.send(payload)
        except httpx.HTTPError as err:
            log.error("webhook %s failed for %s: %s", self.url, payload.get("event"), err)
