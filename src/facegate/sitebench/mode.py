"""``facegate bench mode``: how long a site mode change takes to reach a running gate.

A fresh SQLite site with ``residents`` people (a card and an access rule each, no face
templates) and one door; a gate as ``facegate gate`` runs it (its own database
connection, a :class:`~facegate.gate.store_upstream.StoreUpstream`, the sync thread
polling every ``sync_interval_s``, the :class:`~facegate.gate.site_mode.OpenDoorKeeper`,
and with ``push`` the :class:`~facegate.gate.site_mode.ModeFollower` as ``facegate gate``
builds it: on the database the gate reads the mode every 0.1 s, as a gate in another
process would, since the bench's own writes do not poke it) on a door that records its
commands. The mode is switched ``changes`` times through
:func:`facegate.services.site_mode.set_mode`, cycling free passage, normal, lockdown,
normal, each at a random moment of the poll period; for each change the time from the
call to the gate deciding in the new mode is measured (for free passage: to the door's
unlock command). Prints seconds; timings are this machine's.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import numpy as np

from facegate.bootstrap import SystemClock, build_sealer, build_store, ensure_site_key
from facegate.config import Settings
from facegate.domain.access import TimeWindow
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import SiteMode
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.runner import SnapshotHolder, SyncThread, mode_follower
from facegate.gate.site_mode import OpenDoorKeeper
from facegate.gate.store_upstream import StoreUpstream
from facegate.ports import ActuatorCommand
from facegate.services import credentials, people, places, site_admin
from facegate.services.context import ServiceContext
from facegate.services.site_mode import set_mode

CYCLE = (SiteMode.FREE_PASSAGE, SiteMode.NORMAL, SiteMode.LOCKDOWN, SiteMode.NORMAL)
"""The modes switched to, in turn."""
TIMEOUT_S = 30.0
"""A change not seen by the gate within this is reported as lost (seconds)."""


@dataclass(frozen=True, slots=True)
class ModeBenchOptions:
    """What to measure.

    Attributes:
        residents: people on the site (each with a card and a rule at the door).
        changes: mode changes measured.
        sync_interval_s: the gate's poll period (seconds, the shipped 1.0).
        seed: seed of the moments of the changes.
        work_dir: keep the site here (default: a temporary folder, removed).
        push: run the mode push beside the poll (``False``: the poll alone, as before).
    """

    residents: int = 500
    changes: int = 20
    sync_interval_s: float = 1.0
    seed: int = 0
    work_dir: Path | None = None
    push: bool = True


class _TimedDoor:
    """A door acknowledging every command, noting when each came (perf_counter s)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.arrived = threading.Event()

    def send(self, command: ActuatorCommand) -> None:
        self.times.append(time.perf_counter())
        self.arrived.set()

    def close(self) -> None:
        """Nothing to release."""


def _fill(context: ServiceContext, residents: int) -> str:
    door = places.add_door(
        context, "Lobby", DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
    )
    week = TimeWindow(frozenset(range(7)), clock_time(0), clock_time(23, 59))
    for index in range(residents):
        person = people.add_person(context, f"Resident {index}").id
        credentials.add_card(context, person, f"CARD-{index:06d}")
    places.add_access_rule(context, [week], door_ids=[door.id], role=Role.RESIDENT)
    return door.id


def _wait(check: Callable[[], bool]) -> float | None:
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        if check():
            return time.perf_counter()
        time.sleep(0.002)
    return None


def run_mode_bench(options: ModeBenchOptions, say: Callable[[str], None]) -> dict[str, Any]:
    """Measure mode changes reaching a gate; returns the report (seconds)."""
    with tempfile.TemporaryDirectory(prefix="facegate-mode-bench-") as scratch:
        folder = options.work_dir or Path(scratch)
        settings = Settings(data_dir=folder / "site", cache_dir=folder / "cache")
        store = build_store(settings, migrate=True)
        ensure_site_key(settings)
        context = ServiceContext(store=store, clock=SystemClock(), actor="bench:mode")
        site_admin.init_site(context, "Bench Court", "UTC")
        say(f"filling {options.residents} residents")
        door_id = _fill(context, options.residents)
        try:
            return _measure(options, settings, context, door_id, say)
        finally:
            store.close()


def _measure(
    options: ModeBenchOptions,
    settings: Settings,
    context: ServiceContext,
    door_id: str,
    say: Callable[[str], None],
) -> dict[str, Any]:
    clock = SystemClock()
    upstream = StoreUpstream(
        lambda: build_store(settings), build_sealer(settings), clock, "bench", MatchPolicy(0.6, 0)
    )
    holder = SnapshotHolder(upstream, "bench-gate", door_id)
    holder.refresh()
    door = _TimedDoor()
    outbox = SqliteOutbox(settings.data_dir / "outbox.db")
    keeper = OpenDoorKeeper(holder, door, clock, outbox.put, "bench-gate")
    holder.on_new.append(keeper.apply)
    sync = SyncThread(holder, outbox, options.sync_interval_s, ticks=(keeper.apply,))
    holder.on_push.append(sync.poke)
    follower = mode_follower(holder, "bench-gate") if options.push else None
    sync.start()
    if follower is not None:
        follower.start()
    rng = random.Random(options.seed)
    seconds: list[float] = []
    try:
        for index in range(options.changes):
            time.sleep(rng.uniform(0.0, options.sync_interval_s))
            mode = CYCLE[index % len(CYCLE)]
            took = _one_change(context, holder, door, mode, f"bench change {index}")
            if took is not None:
                seconds.append(took)
                say(f"change {index + 1}: {mode.value} at the gate after {took:.3f} s")
    finally:
        if follower is not None:
            follower.stop()
        sync.stop()
        sync.join(timeout=10.0)
        outbox.close()
        gate_store = getattr(upstream, "_store", None)
        if gate_store is not None:
            gate_store.close()
    return _report(options, seconds, options.changes - len(seconds))


def _one_change(
    context: ServiceContext, holder: SnapshotHolder, door: _TimedDoor, mode: SiteMode, why: str
) -> float | None:
    """Seconds from ``set_mode`` to the gate deciding in ``mode``; ``None`` when lost."""
    commands = len(door.times)
    start = time.perf_counter()
    set_mode(context, mode, why)
    if mode.opens_freely:
        seen = _wait(lambda: len(door.times) > commands)
    else:
        seen = _wait(lambda: holder().access.mode is mode)
    return None if seen is None else seen - start


def _report(options: ModeBenchOptions, seconds: list[float], lost: int) -> dict[str, Any]:
    ordered = sorted(seconds)
    return {
        "residents": options.residents,
        "changes": options.changes,
        "sync_interval_s": options.sync_interval_s,
        "push": options.push,
        "lost": lost,
        "apply_p50_s": _rounded(ordered, 50),
        "apply_p95_s": _rounded(ordered, 95),
        "apply_max_s": round(ordered[-1], 3) if ordered else None,
        "backend": "sqlite",
    }


def _rounded(ordered: list[float], q: float) -> float | None:
    return round(float(np.percentile(ordered, q)), 3) if ordered else None
