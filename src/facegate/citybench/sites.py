"""The simulated sites: SQLite event tables written at a rate, shipped by the real uplink.

One process runs many sites: a writer inserts decisions into each site's ``events``
table (the site schema's own table and ``seq`` trigger) and the real
:class:`facegate.uplink.runner.Uplink` of every site ships them.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from sqlalchemy import Engine, insert, text

from facegate.city.keys import load_private
from facegate.domain.reasons import Reason
from facegate.store.database import create_db_engine
from facegate.store.schema import SITE_STATE_SEED, SQLITE_EVENT_SEQ_TRIGGER, EventRow, SiteStateRow
from facegate.uplink.runner import INFLIGHT_POLL_S, POLL_S, Uplink
from facegate.uplink.state import UplinkConfig, UplinkFiles

TICK_S = 0.25
"""How often a site's writer commits the events that fell due (seconds)."""

_REASONS = (Reason.UNKNOWN_FACE, Reason.OUTSIDE_SCHEDULE, Reason.SPOOF_SUSPECTED)


@dataclass(frozen=True, slots=True)
class SimSite:
    """One simulated site: its id on the hub and its folder (database, uplink files)."""

    site_id: str
    folder: Path

    @property
    def db_path(self) -> Path:
        """The site's SQLite file."""
        return self.folder / "site.db"


def make_site_db(path: Path) -> Engine:
    """A SQLite file with the site schema's ``events`` and ``site_state`` (and the trigger)."""
    engine = create_db_engine(f"sqlite:///{path}")
    tables = [EventRow.__table__, SiteStateRow.__table__]
    EventRow.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(text(SITE_STATE_SEED))
        connection.execute(text(SQLITE_EVENT_SEQ_TRIGGER))
    return engine


def write_events(engine: Engine, count: int, door_id: str = "door-1") -> None:
    """Insert ``count`` decisions now (one transaction), ``occurred_at`` = now."""
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        granted = random.random() < 0.8
        reason = Reason.GRANTED if granted else random.choice(_REASONS)
        rows.append(
            {"id": str(uuid.uuid4()), "door_id": door_id, "occurred_at": now,
             "granted": granted, "reason": str(reason), "person_id": None, "scores": "{}"}
        )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(EventRow), rows)


def site_process(
    sites: list[SimSite],
    config_base: dict[str, object],
    control: Connection,
    written: Synchronized,  # type: ignore[type-arg]
) -> None:
    """Run ``sites`` until told to stop.

    Sends ``"ready"`` once its uplinks are connecting. Commands on ``control``: ``("rate",
    events_per_s)`` for this process's sites together, ``("burst", per_site)`` inserts that
    many at once at every site, then answers ``"done"``; ``("stop",)`` ends the process.
    """
    engines = {s.site_id: create_db_engine(f"sqlite:///{s.db_path}") for s in sites}
    uplinks = []
    for site in sites:
        files = UplinkFiles(site.folder / "uplink")
        config = UplinkConfig(site_id=site.site_id, **config_base)  # type: ignore[arg-type]
        uplink = Uplink(files, config, load_private(files.key_path), engines[site.site_id])
        uplink.connect()
        uplinks.append(uplink)
    control.send("ready")
    rate, due, next_tick = 0.0, 0.0, time.monotonic()
    next_poll = [0.0] * len(uplinks)
    while True:
        if control.poll():
            command = control.recv()
            if command[0] == "stop":
                break
            rate = _obey(command, rate, engines, written, control)
        if time.monotonic() >= next_tick:
            due += rate * TICK_S
            whole = int(due)
            due -= whole
            _spread(engines, whole, written)
            next_tick += TICK_S
        if _step_all(uplinks, next_poll) == 0:
            time.sleep(INFLIGHT_POLL_S)
    for uplink in uplinks:
        uplink.close()


def _step_all(uplinks: list[Uplink], next_poll: list[float]) -> int:
    """Step every uplink as :meth:`Uplink.run` paces one; events published.

    A settled batch is followed at once by the next; an idle site reads its events table
    every :data:`POLL_S`, not on every turn of the loop (200 sites polled in a busy loop
    took the CPU the bench is there to measure).
    """
    published = 0
    now = time.monotonic()
    for index, uplink in enumerate(uplinks):
        was_in_flight = uplink.in_flight
        if not uplink.settle():
            continue
        if was_in_flight or now >= next_poll[index]:
            sent = uplink.publish_next()
            published += sent
            if sent == 0:
                next_poll[index] = now + POLL_S
    return published


def _obey(
    command: tuple[str, float],
    rate: float,
    engines: dict[str, Engine],
    written: Synchronized,  # type: ignore[type-arg]
    control: Connection,
) -> float:
    """Carry out ``rate`` or ``burst``; the rate from now on."""
    if command[0] == "rate":
        return float(command[1])
    for engine in engines.values():
        write_events(engine, int(command[1]))
    with written.get_lock():
        written.value += int(command[1]) * len(engines)
    control.send("done")
    return rate


def _spread(engines: dict[str, Engine], count: int, written: Synchronized) -> None:  # type: ignore[type-arg]
    """Insert ``count`` events spread over random sites."""
    if count <= 0:
        return
    chosen: dict[str, int] = {}
    for site_id in random.choices(list(engines), k=count):
        chosen[site_id] = chosen.get(site_id, 0) + 1
    for site_id, n in chosen.items():
        write_events(engines[site_id], n)
    with written.get_lock():
        written.value += count
