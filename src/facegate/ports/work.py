"""Ports of the console's work lists: raised alarms (and their acknowledgement)."""

from __future__ import annotations

from typing import Protocol

from facegate.domain.alarms import AlarmRecord


class AlarmRepository(Protocol):
    """The alarms the site raised, each once by its key."""

    def add(self, alarm: AlarmRecord) -> bool:
        """Store ``alarm`` unless its key is stored already; whether it was new."""
        ...

    def get(self, key: str) -> AlarmRecord:
        """The alarm with ``key`` (:class:`NotFoundError` when none)."""
        ...

    def save(self, alarm: AlarmRecord) -> None:
        """Store the acknowledgement of the stored alarm ``alarm``."""
        ...

    def recent(self, active_only: bool, limit: int) -> list[AlarmRecord]:
        """Up to ``limit`` alarms (only unacknowledged ones if ``active_only``), newest first."""
        ...
