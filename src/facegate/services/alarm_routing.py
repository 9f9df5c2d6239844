"""Alarm channels by type, each retried with back-off: what the notify settings say.

Every channel of :class:`facegate.services.alarms.AlarmService` is built here as a
:class:`RoutedChannel` (it only takes the alarm types routed to it) around a
:class:`RetryingChannel` (a failed send is logged and tried again after a growing
pause, then given up and logged as an error). The channels run on the alarm service's
one worker thread: a channel that keeps failing delays the next alarms by at most the
sum of its back-offs (1 + 2 + 4 s with the defaults).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from facegate.domain.errors import BadInputError
from facegate.domain.gate import ALARM_KINDS

log = logging.getLogger(__name__)

CHANNEL_NAMES = ("webhook", "mqtt", "email")
"""The alarm channels a route may name."""

Send = Callable[[dict[str, str]], None]
"""Sends one alarm payload; raises when it did not arrive."""


class RetryingChannel:
    """Calls ``send`` until it succeeds, ``attempts`` times at most.

    Args:
        name: the channel's name in the log.
        send: the raising sender.
        attempts: tries in all (at least 1).
        backoff_s: pause before the second try, doubled before each next one (seconds).
        pause: sleeps for the given seconds (tests pass a fake).
    """

    def __init__(
        self,
        name: str,
        send: Send,
        attempts: int = 4,
        backoff_s: float = 1.0,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name, self.send, self.pause = name, send, pause
        self.attempts, self.backoff_s = max(1, attempts), backoff_s

    def __call__(self, payload: dict[str, str]) -> bool:
        """Send ``payload``; whether it arrived (every failure is logged)."""
        for attempt in range(1, self.attempts + 1):
            try:
                self.send(payload)
            except Exception as err:  # any failure of the receiver is retried
                if attempt == self.attempts:
                    log.error(
                        "alarm %s not sent on %s after %d tries: %r",
                        payload.get("key"),
                        self.name,
                        attempt,
                        err,
                    )
                    return False
                wait = self.backoff_s * 2 ** (attempt - 1)
                log.warning(
                    "alarm %s on %s failed (try %d of %d), again in %.1f s: %r",
                    payload.get("key"),
                    self.name,
                    attempt,
                    self.attempts,
                    wait,
                    err,
                )
                self.pause(wait)
            else:
                log.info("alarm %s sent on %s (try %d)", payload.get("key"), self.name, attempt)
                return True
        return False


class RoutedChannel:
    """A channel that only takes the alarm types routed to it.

    Args:
        name: the channel's name (one of :data:`CHANNEL_NAMES`).
        channel: where the routed alarms go.
        routes: alarm type to the channel names it goes to; a type not named goes to
            every channel.
    """

    def __init__(
        self,
        name: str,
        channel: Callable[[dict[str, str]], object],
        routes: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.name, self.channel, self.routes = name, channel, dict(routes)

    def takes(self, kind: str) -> bool:
        """Whether alarms of type ``kind`` go to this channel."""
        return routed(kind, self.name, self.routes)

    def __call__(self, payload: dict[str, str]) -> None:
        """Pass ``payload`` on when its type is routed here."""
        if self.takes(payload["type"]):
            self.channel(payload)

    def __repr__(self) -> str:
        return f"RoutedChannel({self.name})"


def routed(kind: str, channel: str, routes: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether alarms of type ``kind`` go to ``channel`` (a type not named: every one)."""
    named = routes.get(kind)
    return named is None or channel in named


def routing_table(
    available: tuple[str, ...], routes: Mapping[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Each alarm type and the ``available`` channels it goes to (for the console)."""
    kinds = sorted(kind.value for kind in ALARM_KINDS)
    return {kind: [c for c in available if routed(kind, c, routes)] for kind in kinds}


def check_routes(routes: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse a route of an unknown alarm type or to an unknown channel.

    Raises:
        BadInputError: naming which one and what is allowed.
    """
    kinds = sorted(kind.value for kind in ALARM_KINDS)
    for kind, names in routes.items():
        if kind not in kinds:
            raise BadInputError(
                f"FACEGATE_NOTIFY__ROUTES: {kind!r} is no alarm type (one of {', '.join(kinds)})"
            )
        for name in names:
            if name not in CHANNEL_NAMES:
                raise BadInputError(
                    f"FACEGATE_NOTIFY__ROUTES: {name!r} is no channel "
                    f"(one of {', '.join(CHANNEL_NAMES)})"
                )
