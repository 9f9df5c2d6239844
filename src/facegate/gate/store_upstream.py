"""The gate's upstream as an adapter over the site database (same machine or LAN)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from facegate.domain.clock import Clock
from facegate.domain.errors import (
    DatabaseUnavailableError,
    SiteNotInitializedError,
    UpstreamUnavailableError,
)
from facegate.domain.gate import GateEvent, GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import SiteMode
from facegate.ports import Store, TemplateSealer
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import build_snapshot, receive_events


class StoreUpstream:
    """A :class:`facegate.ports.GateUpstream` reading and writing the site database.

    The database is opened on first use and again after a failure, so a database that
    comes back is found without restarting the gate.

    Args:
        open_store: opens the database (raises when it is unreachable).
        sealer: decrypts templates for the snapshot's gallery.
        clock: the time source.
        model_id: the descriptor model of the gate's engine.
        match: threshold and margin the gate applies.
        mode: the site mode put into snapshots.
    """

    def __init__(
        self,
        open_store: Callable[[], Store],
        sealer: TemplateSealer,
        clock: Clock,
        model_id: str,
        match: MatchPolicy,
        mode: SiteMode = SiteMode.NORMAL,
    ) -> None:
        self._open_store = open_store
        self._store: Store | None = None
        self._sealer = sealer
        self._clock = clock
        self.model_id = model_id
        self.match = match
        self.mode = mode

    @contextmanager
    def _context(self, gate_id: str) -> Iterator[ServiceContext]:
        try:
            if self._store is None:
                self._store = self._open_store()
            yield ServiceContext(self._store, self._clock, f"gate:{gate_id}")
        except (DatabaseUnavailableError, SiteNotInitializedError) as err:
            self._store = None
            raise UpstreamUnavailableError(f"site database unreachable: {err}") from err

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        """The current snapshot for ``target_id`` (see :func:`build_snapshot`)."""
        with self._context(gate_id) as context:
            return build_snapshot(
                context, self._sealer, target_id, self.model_id, self.match, self.mode
            )

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Store ``events`` once each (see :func:`receive_events`); returns how many new."""
        if not events:
            return 0
        with self._context(events[0].gate_id) as context:
            return receive_events(context, events)
