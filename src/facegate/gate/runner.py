"""Running a gate: keep the snapshot fresh, deliver the outbox, feed frames to the loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from facegate.domain.errors import (
    CameraFailedError,
    FacegateError,
    UpstreamUnavailableError,
)
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.gate.loop import GateLoop, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.ports import DoorActuator, FrameSource, GateUpstream

log = logging.getLogger(__name__)


class SnapshotHolder:
    """The gate's current snapshot; refreshed from the upstream, kept when it is down.

    Args:
        upstream: where snapshots come from.
        gate_id: this gate.
        target_id: its door or lift.
    """

    def __init__(self, upstream: GateUpstream, gate_id: str, target_id: str) -> None:
        self.upstream, self.gate_id, self.target_id = upstream, gate_id, target_id
        self._current: GateSnapshot | None = None
        self.online = False

    def refresh(self) -> bool:
        """Fetch the current snapshot; ``False`` (old one kept) when the upstream is down.

        Raises:
            UpstreamUnavailableError: down and no snapshot held yet (nothing to decide from).
            ValueError: the upstream sent a snapshot of another format.
        """
        try:
            fresh = self.upstream.fetch_snapshot(self.gate_id, self.target_id)
        except UpstreamUnavailableError:
            self.online = False
            if self._current is None:
                raise
            return False
        if fresh.format != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {fresh.format}, this gate reads {SNAPSHOT_FORMAT}")
        self._current, self.online = fresh, True
        return True

    def __call__(self) -> GateSnapshot:
        """The snapshot held (call :meth:`refresh` first)."""
        if self._current is None:
            raise UpstreamUnavailableError("no snapshot yet")
        return self._current


def sync_once(holder: SnapshotHolder, outbox: SqliteOutbox) -> int:
    """Refresh the snapshot and deliver the outbox; returns events delivered.

    A failed refresh keeps the snapshot held (logged) and still tries the delivery: the
    gate goes on deciding from its copy, and its events wait in the outbox.
    """
    try:
        holder.refresh()
    except (FacegateError, ValueError) as err:
        log.warning("snapshot not refreshed, deciding from the one held: %s", err)
    return outbox.flush(holder.upstream)


class SyncThread(threading.Thread):
    """Calls :func:`sync_once` every ``interval_s`` seconds until :meth:`stop`.

    Args:
        holder: the snapshot holder.
        outbox: the outbox to deliver.
        interval_s: seconds between syncs.
        ticks: called about once a second (e.g. the door contact's held-open check).
    """

    def __init__(
        self,
        holder: SnapshotHolder,
        outbox: SqliteOutbox,
        interval_s: float,
        ticks: Sequence[Callable[[], None]] = (),
    ) -> None:
        super().__init__(name="facegate-gate-sync", daemon=True)
        self.holder, self.outbox, self.interval_s = holder, outbox, interval_s
        self.ticks = tuple(ticks)
        self._halt = threading.Event()

    def run(self) -> None:
        """Sync until stopped; run the ticks in between."""
        step_s = min(self.interval_s, 1.0)
        waited_s = 0.0
        while not self._halt.wait(step_s):
            for tick in self.ticks:
                tick()
            waited_s += step_s
            if waited_s >= self.interval_s:
                waited_s = 0.0
                sync_once(self.holder, self.outbox)

    def stop(self) -> None:
        """Ask the thread to end after its current round."""
        self._halt.set()


@dataclass(slots=True)
class RunningGate:
    """A gate as :func:`facegate.bootstrap_gate.build_gate` assembled it.

    Attributes:
        loop: the frame pipeline.
        holder: the snapshot it decides from.
        outbox: its durable events.
        actuator: its door or lift.
        sync: the thread refreshing the snapshot and delivering the outbox.
        closers: more things to close on :meth:`stop` (e.g. a contact sensor's link).
    """

    loop: GateLoop
    holder: SnapshotHolder
    outbox: SqliteOutbox
    actuator: DoorActuator
    sync: SyncThread
    closers: list[Callable[[], None]] = field(default_factory=list)

    def start(self) -> None:
        """Start the sync thread."""
        self.sync.start()

    def stop(self) -> int:
        """Stop syncing, deliver what the outbox holds if the upstream is up, close all.

        Returns:
            How many events were still undelivered when it closed (they stay in the file
            and go out on the next start).
        """
        self.sync.stop()
        if self.sync.is_alive():
            self.sync.join(timeout=10.0)
        self.outbox.flush(self.holder.upstream)
        left = self.outbox.pending_count()
        self.actuator.close()
        for close in self.closers:
            close()
        self.outbox.close()
        return left


def run_source(
    loop: GateLoop,
    source: FrameSource,
    on_outcome: Callable[[Outcome], None],
    stop: threading.Event | None = None,
) -> int:
    """Feed ``source`` to ``loop`` until it ends or ``stop`` is set; returns frames processed.

    A camera failure is recorded once per outage and the source is read again (it
    reopens itself with back-off); a finite source ends the run.
    """
    frames = 0
    while stop is None or not stop.is_set():
        try:
            frame = source.read()
        except CameraFailedError as err:
            outcome = loop.camera_failed(str(err))
            if outcome is not None:
                on_outcome(outcome)
            continue
        if frame is None:
            return frames
        frames += 1
        for outcome in loop.process(frame):
            on_outcome(outcome)
    return frames
