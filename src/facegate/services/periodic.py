"""Run a job again and again at a fixed interval until told to stop (``purge --every``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from facegate.domain.errors import ValidationError

_UNITS_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


class StopSignal(Protocol):
    """Tells a loop to end (a :class:`threading.Event` is one)."""

    def is_set(self) -> bool:
        """Whether stopping was asked for."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for the stop; ``True`` when it came."""
        ...


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``15m``, ``24h``, ``7d`` or ``0.5s``.

    Raises:
        ValidationError: not a positive number followed by one of s, m, h, d.
    """
    found = _DURATION.fullmatch(text.strip())
    seconds = float(found.group(1)) * _UNITS_S[found.group(2)] if found else 0.0
    if seconds <= 0:
        raise ValidationError(f"{text!r} is not a duration such as 90s, 15m, 24h or 7d")
    return seconds


def repeat(job: Callable[[], None], every_s: float, stop: StopSignal, runs: int | None) -> int:
    """Run ``job`` now and then every ``every_s`` seconds, until ``stop`` or ``runs`` runs.

    A stop that arrives during a run lets that run finish; the loop ends before the next.

    Returns:
        How many runs were made.
    """
    done = 0
    while not stop.is_set():
        job()
        done += 1
        if runs is not None and done >= runs:
            break
        if stop.wait(every_s):
            break
    return done
