"""Per-device-key request rate: a token bucket per key, answered 429 with ``Retry-After``.

Every request that carries a device key (``X-Device-Key``) takes one token from that
key's bucket before it is routed (:mod:`facegate.http.key_limit`), so a key over its rate
costs the server a SHA-256 and a dictionary read, not a worker thread or a database
read; a bucket is kept only for a key that turned out to be live (a wrong key's is
forgotten when the key is checked). A bucket holds at most
``burst`` tokens and gains ``rate_per_s`` a second; a request that finds less than one
is refused with :class:`RateLimitedError` (HTTP 429, ``Retry-After``: the seconds until
the token is there). Work that costs far more than a request (a snapshot answer that
was built and audited) is charged on top (:meth:`KeyRate.charge`), which may leave the bucket
in debt: the key's next requests wait it out.

Sizes: ``FACEGATE_SERVER__DEVICE_RATE_PER_S`` and ``FACEGATE_SERVER__DEVICE_BURST``
(:class:`facegate.config.ServerSettings`, where the defaults are argued). Per process:
several uvicorn workers each keep their own buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from facegate.config import ServerSettings
from facegate.domain.errors import ServiceBusyError

_MAX_TRACKED = 10_000
"""Above this many buckets, the full ones (the same as none) are forgotten."""


class RateLimitedError(ServiceBusyError):
    """This device key is over its request rate: try again after ``retry_after_s`` (429)."""


@dataclass(slots=True)
class KeyRate:
    """Token buckets of device keys.

    Args:
        rate_per_s: tokens each key gains a second (its sustained requests per second);
            0 or less: no limit.
        burst: most tokens a key holds (its requests at once after a quiet spell).
        now: monotonic time source in seconds (injectable for tests).
    """

    rate_per_s: float
    burst: int
    now: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, server: ServerSettings) -> KeyRate:
        """The buckets sized by ``server``'s ``device_rate_per_s`` and ``device_burst``."""
        return cls(server.device_rate_per_s, server.device_burst)

    def _tokens(self, key: str, at: float) -> float:
        tokens, since = self._buckets.get(key, (float(self.burst), at))
        return min(float(self.burst), tokens + (at - since) * self.rate_per_s)

    def take(self, key: str) -> None:
        """Take one token of ``key``'s bucket.

        Raises:
            RateLimitedError: less than one token is left (``retry_after_s``: until one is).
        """
        if self.rate_per_s <= 0:
            return
        with self._lock:
            at = self.now()
            tokens = self._tokens(key, at)
            if tokens < 1.0:
                self._buckets[key] = (tokens, at)
                wait_s = (1.0 - tokens) / self.rate_per_s
                raise RateLimitedError(
                    f"too many requests with this device key: at most {self.rate_per_s:g} "
                    f"a second; try again in {math.ceil(wait_s)} s",
                    wait_s,
                )
            self._buckets[key] = (tokens - 1.0, at)
            if len(self._buckets) > _MAX_TRACKED:
                self._forget_full(at)

    def charge(self, key: str, tokens: float) -> None:
        """Take ``tokens`` more from ``key``'s bucket, into debt if need be (never refuses)."""
        if self.rate_per_s <= 0:
            return
        with self._lock:
            at = self.now()
            self._buckets[key] = (self._tokens(key, at) - tokens, at)

    def forget(self, key: str) -> None:
        """Drop ``key``'s bucket (a key that is not live keeps none)."""
        with self._lock:
            self._buckets.pop(key, None)

    def tracked(self) -> int:
        """How many keys have a bucket."""
        with self._lock:
            return len(self._buckets)

    def _forget_full(self, at: float) -> None:
        for key in [k for k in self._buckets if self._tokens(k, at) >= self.burst]:
            del self._buckets[key]
