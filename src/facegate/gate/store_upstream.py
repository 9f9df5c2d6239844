"""The gate's upstream as an adapter over the site database (same machine or LAN)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from facegate.domain.clock import Clock
from facegate.domain.errors import (
    DatabaseUnavailableError,
    SiteNotInitializedError,
    UpstreamUnavailableError,
)
from facegate.domain.gate import GateEvent, GateReport, GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import SiteMode
from facegate.ports import Store, TemplateSealer
from facegate.services.context import ServiceContext
from facegate.services.gate_sync import receive_events
from facegate.services.site_mode import ModeWatch, mode_in_force
from facegate.services.snapshots import (
    SnapshotRequest,
    build_snapshot,
    build_snapshots,
    snapshot_version,
    snapshot_versions,
)

CHECKED_FOR_S = 1.0
"""How long a version :meth:`StoreUpstream.prepare` read stands in for a poll's own read
(seconds; a poll right after the round's check, never a stale one)."""


class StoreUpstream:
    """A :class:`facegate.ports.GateUpstream` reading and writing the site database.

    The database is opened on first use and again after a failure, so a database that
    comes back is found without restarting the gate. The last snapshot built for each
    target is kept: a poll whose version is still current costs one version read, and
    :meth:`fetch_snapshot` answers the kept one while it is current.

    Args:
        open_store: opens the database (raises when it is unreachable).
        sealer: decrypts templates for the snapshot's gallery.
        clock: the time source.
        model_id: the descriptor model of the gate's engine.
        match: threshold and margin the gate applies.
        mode: a site mode forced into every snapshot (benchmarks, tests); ``None``, the
            default, is the site's mode in force (:mod:`facegate.services.site_mode`).
    """

    def __init__(
        self,
        open_store: Callable[[], Store],
        sealer: TemplateSealer,
        clock: Clock,
        model_id: str,
        match: MatchPolicy,
        mode: SiteMode | None = None,
    ) -> None:
        self._open_store = open_store
        self._store: Store | None = None
        self._sealer = sealer
        self._clock = clock
        self.model_id = model_id
        self.match = match
        self.mode = mode
        self._held: dict[str, GateSnapshot] = {}
        self._checked: dict[str, tuple[str, datetime]] = {}  # read by prepare, for a poll
        self._lock = threading.Lock()
        self._watch = ModeWatch()
        self.push_wait_s = 1.0  # the same reads as a longer wait, and a quick stop

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
        """The current snapshot for ``target_id`` (rebuilt only when the data changed)."""
        snapshot = self.poll_snapshot(gate_id, target_id, None)
        if snapshot is None:  # pragma: no cover - no known version was given
            raise UpstreamUnavailableError("no snapshot")
        return snapshot

    def poll_snapshot(
        self,
        gate_id: str,
        target_id: str,
        known_version: str | None,
        report: GateReport | None = None,
    ) -> GateSnapshot | None:
        """The current snapshot, or ``None`` when ``known_version`` is still current.

        One version read when nothing changed (none right after :meth:`prepare` read it);
        else the kept snapshot when it is current, else a rebuild (see
        :func:`build_snapshot`, audited once per version). ``report`` is not kept (a gate
        on the database reports nowhere yet).
        """
        request = SnapshotRequest(target_id, self.model_id, self.match, self.mode)
        with self._context(gate_id) as context:
            version = self._take_checked(target_id, context.clock.now())
            if version is None:
                version = snapshot_version(context, request)
            if version == known_version:
                return None
            with self._lock:
                held = self._held.get(target_id)
                if held is not None and held.version == version:
                    return replace(held, built_at=context.clock.now())
                fresh = build_snapshot(
                    context,
                    self._sealer,
                    target_id,
                    self.model_id,
                    self.match,
                    self.mode,
                    gate_id=gate_id,
                )
                self._held[target_id] = fresh
                return fresh

    def _take_checked(self, target_id: str, now: datetime) -> str | None:
        """The version :meth:`prepare` read for ``target_id``, once and fresh; else ``None``."""
        with self._lock:
            checked = self._checked.pop(target_id, None)
        if checked is None or now - checked[1] > timedelta(seconds=CHECKED_FOR_S):
            return None
        return checked[0]

    def prepare(self, gate_id: str, target_ids: Sequence[str]) -> int:
        """Build the stale snapshots of ``target_ids`` together; how many were built.

        The versions of all of them are read in one transaction
        (:func:`snapshot_versions`); after a change, one more transaction (one commit)
        builds every changed door's new snapshot (:func:`build_snapshots`, each audited).
        Each door's next :meth:`poll_snapshot` takes the version read here instead of
        reading it again, and answers the snapshot kept here: a round over many doors
        where nothing changed costs one transaction. A server that keeps many doors
        current calls this before polling them.
        """
        with self._context(gate_id) as context, self._lock:
            requests = [
                SnapshotRequest(t, self.model_id, self.match, self.mode) for t in target_ids
            ]
            versions = snapshot_versions(context, requests)
            now = context.clock.now()
            self._checked.update((t, (v, now)) for t, v in zip(target_ids, versions, strict=True))
            stale = [
                r
                for r, version in zip(requests, versions, strict=True)
                if (held := self._held.get(r.target_id)) is None or held.version != version
            ]
            if not stale:
                return 0
            built = build_snapshots(context, self._sealer, stale, gate_id)
            for snapshot in built:
                self._held[snapshot.target.id] = snapshot
            return len(built)

    def mode_now(self, gate_id: str) -> SiteMode:
        """The site mode in force now (the forced one, if any): one small read, nothing built.

        Raises:
            UpstreamUnavailableError: the database cannot be reached.
        """
        if self.mode is not None:
            return self.mode
        with self._context(gate_id) as context, context.store.unit_of_work() as uow:
            version = uow.reads.data_version()
            return mode_in_force(uow, context.clock.now(), context.store, version)

    def wait_mode(self, gate_id: str, known: SiteMode | None, wait_s: float) -> SiteMode:
        """The site mode as soon as it differs from ``known``, or after ``wait_s``.

        On the database there is no push to receive: the mode is read every
        :data:`~facegate.services.site_mode.WATCH_S` (one primary-key read while it is
        unchanged). With a mode forced (``mode``), that mode.

        Raises:
            UpstreamUnavailableError: the database cannot be reached.
        """
        if self.mode is not None:
            return self.mode
        with self._context(gate_id) as context:
            return self._watch.wait(context, known, wait_s)

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Store ``events`` once each (see :func:`receive_events`); returns how many new."""
        if not events:
            return 0
        with self._context(events[0].gate_id) as context:
            return receive_events(context, events)
