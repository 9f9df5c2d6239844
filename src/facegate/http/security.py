"""Who is asking: sessions in cookies with CSRF tokens, device keys, login rate limits."""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from facegate.domain.accounts import DeviceKey, User, WebSession

SESSION_COOKIE = "facegate_session"
"""The cookie holding the session token (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
CSRF_HEADER = "x-csrf-token"
"""Header an API client echoes the session's CSRF token in, on unsafe methods."""
CSRF_FIELD = "csrf_token"
"""Form field a web page echoes the session's CSRF token in."""
DEVICE_HEADER = "x-device-key"
"""Header a gate sends its device key in."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user with a session, or a gate with a device key."""

    user: User | None = None
    session: WebSession | None = None
    device: DeviceKey | None = None

    @property
    def actor(self) -> str:
        """How audit records name this caller (``web:alice``, ``device:<key id>``)."""
        if self.user is not None:
            return f"web:{self.user.username}"
        if self.device is not None:
            return f"device:{self.device.id}"
        return "web:anonymous"


def set_session_cookie(response: Response, token: str, lifetime: timedelta, secure: bool) -> None:
    """Give the browser its session token: HttpOnly, SameSite=Lax, ``Secure`` over HTTPS.

    Args:
        response: the answer to the successful login.
        token: the session token (the store keeps only its SHA-256).
        lifetime: how long the cookie lives.
        secure: send it over HTTPS only (``ServerSettings.secure_cookies``).
    """
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    """Whether ``presented`` is the session's CSRF token (constant-time compare)."""
    return presented is not None and hmac.compare_digest(
        session.csrf_token.encode(), presented.encode()
    )


@dataclass(slots=True)
class LoginLimiter:
    """Refuses logins after too many failures per (client, username) in a window.

    Args:
        attempts: failures allowed within ``window_s`` (default 5).
        window_s: the window in seconds (default 300).
        now: a monotonic time source in seconds (injectable for tests).
    """

    attempts: int = 5
    window_s: float = 300.0
    now: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        horizon = self.now() - self.window_s
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures

    def blocked(self, client: str, username: str) -> bool:
        """Whether this client may not try ``username`` now."""
        return len(self._recent((client, username.casefold()))) >= self.attempts

    def failed(self, client: str, username: str) -> None:
        """Count one failed attempt."""
        self._recent((client, username.casefold())).append(self.now())

    def succeeded(self, client: str, username: str) -> None:
        """Forget the failures of this client on ``username``."""
        self._failures.pop((client, username.casefold()), None)


def client_of(request: Request) -> str:
    """The client's address as the rate limiter keys it."""
    return request.client.host if request.client else "unknown"
