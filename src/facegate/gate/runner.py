"""Running a gate: keep the snapshot fresh, deliver the outbox, feed frames to the loop."""

from __future__ import annotations

import threading
from collections.abc import Callable

from facegate.domain.errors import CameraFailedError, UpstreamUnavailableError
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.gate.loop import GateLoop, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.ports import FrameSource, GateUpstream


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
    """Refresh the snapshot and deliver the outbox; returns events delivered."""
    holder.refresh()
    return outbox.flush(holder.upstream)


class SyncThread(threading.Thread):
    """Calls :func:`sync_once` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, holder: SnapshotHolder, outbox: SqliteOutbox, interval_s: float) -> None:
        super().__init__(name="facegate-gate-sync", daemon=True)
        self.holder, self.outbox, self.interval_s = holder, outbox, interval_s
        self._stop = threading.Event()

    def run(self) -> None:
        """Sync until stopped."""
        while not self._stop.wait(self.interval_s):
            sync_once(self.holder, self.outbox)

    def stop(self) -> None:
        """Ask the thread to end after its current round."""
        self._stop.set()


def run_source(loop: GateLoop, source: FrameSource, on_outcome: Callable[[Outcome], None]) -> int:
    """Feed ``source`` to ``loop`` until it ends; returns frames processed.

    A camera failure is recorded once per outage and the source is read again (it
    reopens itself with back-off); a finite source ends the run.
    """
    frames = 0
    while True:
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
