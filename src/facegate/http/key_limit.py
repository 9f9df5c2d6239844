"""The device keys' request rate, applied before routing (:mod:`facegate.http.key_rate`).

A request that carries a device key (``X-Device-Key``) takes a token of that key's bucket
here, on the event loop: a key over its rate is answered ``429`` with ``Retry-After``
without a route, a dependency, a worker thread or a database read (50 unpaced pollers
of one key on a real ``facegate serve``, 2 cores shared with them: 1,500-2,000 such
answers a second, where 350-376 ``304`` checks a second were; ``bench/key_flood.py``).
The key itself is checked later (:func:`facegate.http.deps.principal_of`), which drops
the bucket of a key that is not live.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from facegate.http.deps import device_bucket
from facegate.http.errors import json_answer
from facegate.http.key_rate import KeyRate, RateLimitedError

_DEVICE_HEADER = b"x-device-key"


class KeyRateMiddleware:
    """Answers ``429`` to a request whose device key is over its rate.

    Args:
        app: the wrapped ASGI app.
        rate: the buckets (read per request: the server's ``deps.device_rate``).
    """

    def __init__(self, app: ASGIApp, rate: Callable[[], KeyRate]) -> None:
        self.app, self.rate = app, rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Take the key's token, or answer 429; requests without a key pass as they are."""
        if scope["type"] == "http":
            secret = next((v for k, v in scope["headers"] if k == _DEVICE_HEADER), None)
            if secret:
                try:
                    self.rate().take(device_bucket(secret.decode("latin-1")))
                except RateLimitedError as err:
                    answer = await json_answer(Request(scope), err)
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)
