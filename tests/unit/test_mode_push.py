"""The gate's side of the mode push: a pushed mode is decided in at once, a snapshot
poll that began before the push does not undo it, and the follower hands changes on and
survives a failing upstream (the poll stays the fallback)."""

from __future__ import annotations

import threading
from dataclasses import replace

from facegate.domain.errors import UpstreamUnavailableError
from facegate.domain.gate import GateSnapshot
from facegate.domain.matching import MatchPolicy
from facegate.domain.policy import SiteMode
from facegate.gate.bench import bench_snapshot
from facegate.gate.runner import SnapshotHolder, SyncThread, mode_follower
from facegate.gate.site_mode import ModeFollower
from fakes import unit_descriptor

BASE = bench_snapshot([unit_descriptor(1)], MatchPolicy(0.57, 0.0))


def in_mode(mode: SiteMode) -> GateSnapshot:
    return replace(BASE, version=mode.value, access=replace(BASE.access, mode=mode))


class Upstream:
    """Answers polls with ``snapshot``; ``during_poll`` runs inside a poll."""

    def __init__(self) -> None:
        self.snapshot = in_mode(SiteMode.NORMAL)
        self.during_poll: list[object] = []

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        return self.snapshot

    def poll_snapshot(
        self, gate_id: str, target_id: str, known: str | None, report: object = None
    ) -> GateSnapshot | None:
        for work in self.during_poll:
            work()  # type: ignore[operator]
        self.during_poll.clear()
        return None if known == self.snapshot.version else self.snapshot

    def deliver(self, events: object) -> int:
        return 0


def test_a_pushed_mode_is_decided_in_at_once_and_poked() -> None:
    upstream = Upstream()
    holder = SnapshotHolder(upstream, "g", "bench-door")  # type: ignore[arg-type]
    holder.refresh()
    told: list[str] = []
    holder.on_new.append(lambda: told.append("new"))
    holder.on_push.append(lambda: told.append("push"))
    holder.push_mode(SiteMode.FREE_PASSAGE)
    assert holder().access.mode is SiteMode.FREE_PASSAGE
    assert holder.server_mode() is SiteMode.FREE_PASSAGE
    assert told == ["new", "push"]


def test_a_poll_that_began_before_the_push_does_not_undo_it() -> None:
    upstream = Upstream()
    holder = SnapshotHolder(upstream, "g", "bench-door")  # type: ignore[arg-type]
    holder.refresh()
    # The poll reads the old mode, and the push of lockdown lands while it runs.
    upstream.during_poll.append(lambda: holder.push_mode(SiteMode.LOCKDOWN))
    holder.refresh()
    assert holder().access.mode is SiteMode.LOCKDOWN
    # The next poll began after the push: its snapshot is as new, and it carries the mode.
    upstream.snapshot = in_mode(SiteMode.LOCKDOWN)
    holder.refresh()
    assert holder().access.mode is SiteMode.LOCKDOWN
    upstream.snapshot = in_mode(SiteMode.NORMAL)  # lifted; the poll alone tells
    holder.refresh()
    assert holder().access.mode is SiteMode.NORMAL


class Waiter:
    """An upstream whose long poll fails ``failures`` times, then answers ``modes``."""

    def __init__(self, failures: int, modes: list[SiteMode]) -> None:
        self.failures, self.modes = failures, modes
        self.calls = 0
        self.done = threading.Event()

    def wait_mode(self, gate_id: str, known: SiteMode | None, wait_s: float) -> SiteMode:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise UpstreamUnavailableError("down")
        if not self.modes:
            self.done.set()
            threading.Event().wait(0.05)
            return known or SiteMode.NORMAL
        return self.modes.pop(0)


def test_the_follower_hands_on_changes_after_a_failure(monkeypatch: object) -> None:
    import facegate.gate.site_mode as site_mode

    monkeypatch.setattr(site_mode, "PUSH_RETRY_S", (0.01, 0.02))  # type: ignore[attr-defined]
    waiter = Waiter(2, [SiteMode.LOCKDOWN, SiteMode.LOCKDOWN, SiteMode.NORMAL])
    state = {"mode": SiteMode.NORMAL}
    pushed: list[SiteMode] = []

    def push(mode: SiteMode) -> None:
        pushed.append(mode)
        state["mode"] = mode

    follower = ModeFollower(waiter, "g", lambda: state["mode"], push)
    follower.start()
    assert waiter.done.wait(5.0)
    follower.stop()
    follower.join(timeout=5.0)
    assert pushed == [SiteMode.LOCKDOWN, SiteMode.NORMAL]  # the repeat is not a change


def test_no_follower_for_an_upstream_that_cannot_wait() -> None:
    holder = SnapshotHolder(Upstream(), "g", "bench-door")  # type: ignore[arg-type]
    assert mode_follower(holder, "g") is None


def test_a_poke_syncs_at_once() -> None:
    rounds = threading.Event()

    class Outbox:
        def flush(self, upstream: object) -> int:
            rounds.set()
            return 0

    holder = SnapshotHolder(Upstream(), "g", "bench-door")  # type: ignore[arg-type]
    sync = SyncThread(holder, Outbox(), 60.0)  # type: ignore[arg-type]
    sync.start()
    try:
        sync.poke()
        assert rounds.wait(5.0)  # not after the 60 s interval
    finally:
        sync.stop()
        sync.join(timeout=5.0)
