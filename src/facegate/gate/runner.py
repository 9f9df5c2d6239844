"""Running a gate: keep the snapshot fresh, deliver the outbox, feed frames to the loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar, cast

from facegate.domain.errors import (
    CameraFailedError,
    FacegateError,
    UpstreamUnavailableError,
)
from facegate.domain.gate import SNAPSHOT_FORMAT, GateReport, GateSnapshot
from facegate.domain.policy import SiteMode
from facegate.gate.frame_tap import FrameTap
from facegate.gate.loop import GateLoop
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.site_mode import (
    PUSH_WAIT_S,
    LocalInputs,
    ModeFollower,
    ModeWaiter,
    with_local_mode,
)
from facegate.gate.snapshot_file import SnapshotFile, SnapshotFileError, age_s
from facegate.ports import DoorActuator, Frame, FrameSource, GateUpstream

log = logging.getLogger(__name__)

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

MAX_BACKOFF_S = 60.0
"""Longest wait after failed sync rounds before the next try (seconds)."""
DEFAULT_MAX_AGE_S = 86_400.0
"""Default age beyond which an offline snapshot is reported as stale (seconds, 24 h)."""
STALE_REPEAT_S = 600.0
"""How often the stale-snapshot error is repeated while it lasts (seconds)."""


@dataclass(slots=True)
class HealthProbes:
    """Where a gate's health report reads its backlog, camera, liveness and door contact.

    Attributes:
        backlog: events waiting in the outbox (-1 unknown).
        camera: ``ok``, ``failed`` or ``unknown``.
        liveness: the liveness mode the gate decides with (``""`` unknown).
        door: the door contact, ``open``, ``closed`` or ``unknown``.
    """

    backlog: Callable[[], int] = lambda: -1
    camera: Callable[[], str] = lambda: "unknown"
    liveness: Callable[[], str] = lambda: ""
    door: Callable[[], str] = lambda: "unknown"


class SnapshotHolder:
    """The gate's current snapshot; refreshed from the upstream, kept when it is down.

    A refresh is a poll: the upstream answers "still current" (one version read, or an
    HTTP 304) or a new snapshot, which is then written to the snapshot file at once.
    Each poll carries the gate's health (:class:`facegate.domain.gate.GateReport`:
    version held, last successful sync, outbox backlog, camera state; see ``probes``).

    With ``saved``, each fresh snapshot is also written to that file, and a gate whose
    upstream is unreachable when it starts decides from the file instead. A snapshot
    older than ``max_age_s`` is still decided from (the gate has nothing better), but
    every ``STALE_REPEAT_S`` it logs an error saying how old it is.

    Args:
        upstream: where snapshots come from.
        gate_id: this gate.
        target_id: its door or lift.
        saved: the gate's snapshot file; ``None`` keeps the snapshot in memory only.
        max_age_s: age beyond which an offline snapshot is reported as stale (seconds).
        local: inputs at the gate itself (a fire panel contact); the snapshot handed out
            decides in the strongest of its own site mode and theirs.

    A site mode pushed by the upstream (:meth:`push_mode`, from the
    :class:`~facegate.gate.site_mode.ModeFollower`) is decided in at once, before the
    snapshot that carries it arrives: it stands in for the snapshot's mode until a
    refresh that began after the push succeeds (that refresh's snapshot is at least as
    new as the push).

    Attributes:
        on_new: called after a new snapshot was taken or a mode pushed.
        on_push: called after a mode was pushed (e.g. the sync thread's :meth:`poke`).
    """

    def __init__(
        self,
        upstream: GateUpstream,
        gate_id: str,
        target_id: str,
        saved: SnapshotFile | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        local: LocalInputs | None = None,
    ) -> None:
        self.upstream, self.gate_id, self.target_id = upstream, gate_id, target_id
        self.local = local
        self.on_new: list[Callable[[], None]] = []
        self.on_push: list[Callable[[], None]] = []
        self.saved, self.max_age_s = saved, max_age_s
        self._pushed: SiteMode | None = None
        self._pushes = 0
        self._push_lock = threading.Lock()
        self._current: GateSnapshot | None = None
        self._stale_logged_at: datetime | None = None
        self.online = False
        self.last_sync: datetime | None = None
        self.probes = HealthProbes()

    def refresh(self) -> bool:
        """Fetch the current snapshot; ``False`` (old one kept) when the upstream is down.

        Raises:
            UpstreamUnavailableError: down, and no snapshot held nor a usable saved one
                (nothing to decide from).
            ValueError: the upstream sent a snapshot of another format.
        """
        with self._push_lock:
            pushes = self._pushes
        try:
            fresh = self._poll()
        except UpstreamUnavailableError as err:
            was_online, self.online = self.online, False
            if self._current is None:
                self._current = self._load_saved(err)
            elif was_online:
                log.warning("upstream unreachable, deciding from the snapshot held: %s", err)
            self._report_stale(self._current)
            return False
        now = self.saved.clock.now() if self.saved is not None else datetime.now(UTC)
        self.online, self.last_sync = True, now
        with self._push_lock:
            if self._pushes == pushes:  # no push since this poll began: it is as new
                self._pushed = None
        if fresh is None:
            if self._current is not None:  # confirmed current: as of now (file age)
                self._current = replace(self._current, built_at=now)
                self._save(self._current)
            return True
        if fresh.format != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {fresh.format}, this gate reads {SNAPSHOT_FORMAT}")
        self._current = fresh
        self._save(fresh)
        for new in self.on_new:
            new()
        return True

    def server_mode(self) -> SiteMode | None:
        """The upstream's site mode as this gate knows it (pushed, else its snapshot's)."""
        with self._push_lock:
            return self._server_mode()

    def _server_mode(self) -> SiteMode | None:
        if self._pushed is not None:
            return self._pushed
        return None if self._current is None else self._current.access.mode

    def push_mode(self, mode: SiteMode) -> None:
        """The upstream says the site mode is now ``mode``: decide in it at once."""
        with self._push_lock:
            self._pushes += 1
            changed, self._pushed = self._server_mode() is not mode, mode
        if not changed:
            return
        log.warning("site mode pushed: %s", mode.value)
        for call in (*self.on_new, *self.on_push):
            call()

    def report(self) -> GateReport:
        """This gate's health as it sends it with each poll."""
        version = "" if self._current is None else self._current.version
        probes = self.probes
        return GateReport(
            version,
            self.last_sync,
            probes.backlog(),
            probes.camera(),
            probes.liveness(),
            probes.door(),
        )

    def _poll(self) -> GateSnapshot | None:
        poll = getattr(self.upstream, "poll_snapshot", None)
        if poll is None:  # an upstream without the cheap check: fetch every time
            return self.upstream.fetch_snapshot(self.gate_id, self.target_id)
        known = None if self._current is None else self._current.version
        fresh: GateSnapshot | None = poll(self.gate_id, self.target_id, known, self.report())
        return fresh

    def _load_saved(self, down: UpstreamUnavailableError) -> GateSnapshot:
        if self.saved is None:
            raise down
        try:
            snapshot = self.saved.load(self.target_id)
        except SnapshotFileError as refused:
            raise UpstreamUnavailableError(f"{down}; cannot start offline: {refused}") from down
        if snapshot.format != SNAPSHOT_FORMAT:
            raise UpstreamUnavailableError(
                f"{down}; the saved snapshot is of format {snapshot.format}, "
                f"this gate reads {SNAPSHOT_FORMAT}"
            )
        log.warning(
            "upstream unreachable (%s): starting from the saved snapshot %s, version %s, "
            "built %s (%.0f s ago)",
            down,
            self.saved.path,
            snapshot.version[:12],
            snapshot.built_at.isoformat(),
            age_s(snapshot, self.saved.clock),
        )
        return snapshot

    def _report_stale(self, snapshot: GateSnapshot) -> None:
        if self.saved is None:
            return
        now, age = self.saved.clock.now(), age_s(snapshot, self.saved.clock)
        last = self._stale_logged_at
        if age <= self.max_age_s or (
            last is not None and (now - last).total_seconds() < STALE_REPEAT_S
        ):
            return
        self._stale_logged_at = now
        log.error(
            "STALE SNAPSHOT: deciding from version %s built %.1f h ago (limit %.1f h): people "
            "removed, moved out or who withdrew consent since then may still be granted; "
            "restore the connection to the upstream",
            snapshot.version[:12],
            age / 3600,
            self.max_age_s / 3600,
        )

    def _save(self, snapshot: GateSnapshot) -> None:
        if self.saved is None:
            return
        self._stale_logged_at = None
        try:
            self.saved.save(snapshot)
        except OSError as err:
            log.error(
                "snapshot not saved to %s (an offline start would miss it): %s",
                self.saved.path,
                err,
            )

    def __call__(self) -> GateSnapshot:
        """The snapshot held (call :meth:`refresh` first)."""
        current = self._current
        if current is None:
            raise UpstreamUnavailableError("no snapshot yet")
        pushed = self._pushed
        if pushed is not None and pushed is not current.access.mode:
            current = replace(current, access=replace(current.access, mode=pushed))
        if self.local is None:
            return current
        return with_local_mode(current, self.local.mode())


def mode_follower(holder: SnapshotHolder, gate_id: str) -> ModeFollower | None:
    """The site mode's push for ``holder`` when its upstream can wait for a mode change.

    Each pushed mode is decided in at once (:meth:`SnapshotHolder.push_mode`); hook the
    sync thread's :meth:`SyncThread.poke` to ``holder.on_push`` to fetch its snapshot.
    """
    if getattr(holder.upstream, "wait_mode", None) is None:
        return None
    upstream = cast(ModeWaiter, holder.upstream)
    wait_s = float(getattr(upstream, "push_wait_s", PUSH_WAIT_S))
    return ModeFollower(upstream, gate_id, holder.server_mode, holder.push_mode, wait_s)


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
    """Calls :func:`sync_once` every ``interval_s`` seconds until :meth:`stop`; supervised.

    An exception in a round (or a tick) is logged with its traceback and the thread goes
    on: the next round comes after a back-off that doubles with each failed round in a
    row (from ``interval_s`` up to :data:`MAX_BACKOFF_S`), and back to ``interval_s`` after
    a round that worked. Syncing never dies silently.

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
        ticks: Sequence[Callable[[], object]] = (),
    ) -> None:
        super().__init__(name="facegate-gate-sync", daemon=True)
        self.holder, self.outbox, self.interval_s = holder, outbox, interval_s
        self.ticks = tuple(ticks)
        self._halt = threading.Event()
        self._poked = threading.Event()
        self.rounds = 0
        self.failures = 0
        self._in_a_row = 0

    def run(self) -> None:
        """Sync until stopped; run the ticks in between; a poke syncs at once."""
        step_s = min(self.interval_s, 1.0)
        waited_s, due_s = 0.0, self.interval_s
        while not self._halt.is_set():
            poked = self._poked.wait(step_s)
            if self._halt.is_set():
                return
            if poked:
                self._poked.clear()
                waited_s, due_s = 0.0, self._round()
                continue
            for tick in self.ticks:
                self._guarded("tick", tick)
            waited_s += step_s
            if waited_s >= due_s:
                waited_s = 0.0
                due_s = self._round()

    def poke(self) -> None:
        """Sync now (a pushed mode: fetch the snapshot that carries it)."""
        self._poked.set()

    def _round(self) -> float:
        """One sync round; returns the seconds until the next one."""
        self.rounds += 1
        if self._guarded("sync round", lambda: sync_once(self.holder, self.outbox)):
            self._in_a_row = 0
            return self.interval_s
        self._in_a_row += 1
        return min(self.interval_s * 2.0**self._in_a_row, max(MAX_BACKOFF_S, self.interval_s))

    def _guarded(self, what: str, work: Callable[[], object]) -> bool:
        try:
            work()
        except Exception:  # the supervisor logs everything and goes on
            self.failures += 1
            log.exception("gate %s failed; syncing goes on", what)
            return False
        return True

    def stop(self) -> None:
        """Ask the thread to end after its current round."""
        self._halt.set()
        self._poked.set()


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
        frames: the latest camera frame, sent when an administrator asks one (feed the
            gate from ``frames.wrap(source)``).
        follower: the site mode's push (``None``: the upstream cannot push; the poll alone).
        after_outcome: call with each outcome of the loop (holds a refused face's
            event snapshot when the site keeps them, sent after its event, see
            :mod:`facegate.gate.edge_snapshots`).
    """

    loop: GateLoop
    holder: SnapshotHolder
    outbox: SqliteOutbox
    actuator: DoorActuator
    sync: SyncThread
    closers: list[Callable[[], None]] = field(default_factory=list)
    frames: FrameTap = field(default_factory=FrameTap)
    follower: ModeFollower | None = None
    after_outcome: Callable[[object], object] = lambda outcome: None

    def start(self) -> None:
        """Start the sync thread and the mode push."""
        self.sync.start()
        if self.follower is not None:
            self.follower.start()

    def stop(self) -> int:
        """Stop syncing, deliver what the outbox holds if the upstream is up, close all.

        Returns:
            How many events were still undelivered when it closed (they stay in the file
            and go out on the next start).
        """
        if self.follower is not None:
            self.follower.stop()
            self.follower.join(timeout=2.0)  # a gate on the database: within 1 s
        self.sync.stop()
        if self.sync.is_alive():
            self.sync.join(timeout=10.0)
        self.outbox.flush(self.holder.upstream)
        send_due = getattr(self.after_outcome, "send_due", None)
        if send_due is not None:
            send_due()  # the crops of the refusals just delivered
        left = self.outbox.pending_count()
        self.actuator.close()
        for close in self.closers:
            close()
        self.outbox.close()
        return left


class FrameLoop(Protocol[R_co]):
    """What :func:`run_source` feeds: a gate's loop, or the dispenser."""

    def process(self, frame: Frame) -> Sequence[R_co]:
        """Decisions completed on ``frame`` (never raises)."""
        ...

    def camera_failed(self, note: str) -> R_co | None:
        """Record a camera failure (``None``: nothing to report)."""
        ...


def run_source(
    loop: FrameLoop[R],
    source: FrameSource,
    on_outcome: Callable[[R], None],
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
