"""Prometheus metrics in the text exposition format, counted by a small ASGI middleware."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(slots=True)
class Metrics:
    """Counters of one server process.

    Attributes:
        requests: ``(method, route, status)`` to the number of answered requests.
        logins_failed: failed login attempts (rate-limited ones included).
        sse_clients: open live event streams.
    """

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    logins_failed: int = 0
    sse_clients: int = 0

    def render(self) -> str:
        """The counters in Prometheus text format (version 0.0.4)."""
        lines = [
            "# HELP facegate_http_requests_total HTTP requests answered.",
            "# TYPE facegate_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
            lines.append(f"facegate_http_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP facegate_logins_failed_total Failed or refused login attempts.",
            "# TYPE facegate_logins_failed_total counter",
            f"facegate_logins_failed_total {self.logins_failed}",
            "# HELP facegate_sse_clients Open live event streams.",
            "# TYPE facegate_sse_clients gauge",
            f"facegate_sse_clients {self.sse_clients}",
            "# HELP facegate_up Whether the server answers (always 1 when scraped).",
            "# TYPE facegate_up gauge",
            "facegate_up 1",
        ]
        return "\n".join(lines) + "\n"


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other is counted as ``other`` (a bounded label set)."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsMiddleware:
    """Counts each HTTP request by method, route template (not raw path) and status.

    Args:
        app: the wrapped ASGI app.
        metrics: where to count.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, noting the status of its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.requests[(method, str(template), status)] += 1
