"""Who is asking: sessions in cookies with CSRF tokens, device keys, login rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from facegate.config import ServerSettings
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
_MAX_TRACKED = 10_000
"""Above this many (client, username) pairs, idle ones are forgotten."""


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


_PROCESS_KEY = secrets.token_bytes(32)
"""The signing key in development when no session secret is set (one per process)."""


def signing_key(server: ServerSettings) -> bytes:
    """The key that signs the login form's CSRF token: ``FACEGATE_SERVER__SESSION_SECRET``.

    Required outside development (:meth:`ServerSettings.check_secrets`); in development
    without one, a random key of this process.
    """
    if server.session_secret is None:
        return _PROCESS_KEY
    return server.session_secret.get_secret_value().encode("utf-8")


def signed_token(key: bytes) -> str:
    """A fresh random token with its HMAC-SHA256 under ``key`` (``nonce.signature``)."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(key, nonce)}"


def signed_token_valid(key: bytes, token: str) -> bool:
    """Whether ``token`` was made by :func:`signed_token` with ``key`` (constant time)."""
    nonce, _, signature = token.partition(".")
    expected = _signature(key, nonce).encode()
    return bool(nonce) and hmac.compare_digest(expected, signature.encode())


def _signature(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"login-csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    """Whether ``presented`` is the session's CSRF token (constant-time compare)."""
    return presented is not None and hmac.compare_digest(
        session.csrf_token.encode(), presented.encode()
    )


@dataclass(slots=True)
class LoginLimiter:
    """Refuses logins after too many failures per (client, username) in a window.

    Counting is atomic: :meth:`reserve` takes an attempt before the password is checked
    (under a lock), so N concurrent tries check at most ``attempts`` passwords. While
    the attempts left are all taken by checks still running, a new try waits (up to
    ``wait_s``) for their outcome instead of being refused: concurrent *correct* logins
    go through one after another, concurrent wrong ones stop at the limit. A success
    forgets the failures; :meth:`failed` settles a reserved attempt as a failure.

    Args:
        attempts: failures allowed within ``window_s`` (default 5).
        window_s: the window in seconds (default 300).
        wait_s: how long a try waits for running checks to settle (seconds, default 10).
        now: a monotonic time source in seconds (injectable for tests).
    """

    attempts: int = 5
    window_s: float = 300.0
    wait_s: float = 10.0
    now: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _running: dict[tuple[str, str], int] = field(default_factory=dict)
    _settled: threading.Condition = field(default_factory=threading.Condition)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        horizon = self.now() - self.window_s
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures

    def reserve(self, client: str, username: str) -> bool:
        """Take one attempt for this client on ``username``; ``False`` when none is left.

        The attempt counts as a failure until :meth:`succeeded` forgets it.
        """
        key = (client, username.casefold())
        deadline = time.monotonic() + self.wait_s
        with self._settled:
            while len(self._recent(key)) >= self.attempts:
                left_s = deadline - time.monotonic()
                if self._running.get(key, 0) == 0 or left_s <= 0:
                    return False
                self._settled.wait(left_s)
            self._recent(key).append(self.now())
            self._running[key] = self._running.get(key, 0) + 1
            if len(self._failures) > _MAX_TRACKED:
                self._forget_idle()
            return True

    def _forget_idle(self) -> None:
        horizon = self.now() - self.window_s
        for key in [k for k, v in self._failures.items() if not v or v[-1] < horizon]:
            if not self._running.get(key):
                del self._failures[key]

    def _settle(self, key: tuple[str, str]) -> None:
        running = self._running.get(key, 0) - 1
        if running > 0:
            self._running[key] = running
        else:
            self._running.pop(key, None)
        self._settled.notify_all()

    def blocked(self, client: str, username: str) -> bool:
        """Whether this client may not try ``username`` now."""
        with self._settled:
            return len(self._recent((client, username.casefold()))) >= self.attempts

    def failed(self, client: str, username: str) -> None:
        """Settle a reserved attempt as a failure (it stays counted)."""
        with self._settled:
            self._settle((client, username.casefold()))

    def succeeded(self, client: str, username: str) -> None:
        """Settle a reserved attempt as a success: forget this client's failures on it."""
        key = (client, username.casefold())
        with self._settled:
            self._failures.pop(key, None)
            self._settle(key)


def client_of(request: Request) -> str:
    """The client's address as the rate limiter keys it.

    This is the TCP peer: ``facegate serve`` lets uvicorn take ``X-Forwarded-For`` only
    from the proxies in ``FACEGATE_SERVER__TRUSTED_PROXIES`` (none by default).
    """
    return request.client.host if request.client else "unknown"
