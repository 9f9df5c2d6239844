"""Time as the domain sees it: a :class:`Clock` is passed in, never read from the system.

Every moment in the domain is a timezone-aware :class:`datetime.datetime`; stored and
compared in UTC, shown in a site's own time zone only where a rule says so (schedules).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current moment."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


def require_aware(moment: datetime, name: str) -> datetime:
    """Return ``moment`` in UTC, refusing a naive datetime.

    Raises:
        ValueError: ``moment`` has no time zone (its meaning would depend on the host).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)
