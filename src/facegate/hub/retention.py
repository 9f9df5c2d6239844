"""The hub's retention job: drop whole event partitions older than the retention period."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from facegate.domain.errors import FacegateError
from facegate.hub.store import HubStore

log = logging.getLogger(__name__)

EVERY_S = 6 * 3600.0
"""Seconds between two retention passes (a partition is a month: a few a day is plenty)."""


class RetentionJob:
    """Drops expired partitions every :data:`EVERY_S` seconds in a daemon thread.

    Args:
        store: the hub database.
        retention_days: how long events are kept (days).
    """

    def __init__(self, store: HubStore, retention_days: int) -> None:
        self.store, self.retention_days = store, retention_days

    def start(self) -> threading.Event:
        """Start the job; set the returned event to stop it."""
        stop = threading.Event()

        def loop() -> None:
            while True:
                try:
                    dropped = self.store.drop_expired(datetime.now(UTC), self.retention_days)
                    if dropped:
                        log.info("hub retention dropped %s", ", ".join(dropped))
                except FacegateError as err:
                    log.warning("hub retention pass failed: %s", err)
                if stop.wait(EVERY_S):
                    return

        threading.Thread(target=loop, name="hub-retention", daemon=True).start()
        return stop
