"""The city bench's run: setup, steady rate, throughput, three faults, the comparison.

Figures (keys of the contract):

- ``ingest_events_per_s``: a backlog of ``burst`` events at every site, inserted at once
  (a regional outage ending), divided by the seconds until the hub stored all of it.
  It is end to end: site reads, signing, broker, verification, PostgreSQL commit.
- ``messages_per_s``: MQTT messages the ingest workers took in that same window.
- ``lag_p50_s`` / ``lag_p95_s``: hub ``received_at`` minus site ``occurred_at`` of the
  events written during the steady phase (``rate`` events/s asked over all sites;
  ``steady_rate_achieved_events_per_s`` says what the site writers managed: on a loaded
  machine they fall behind).
- ``drain_s``: per fault, seconds from the fault's end until the hub holds every event
  the sites had written up to that moment, the steady rate running throughout.
- ``lost`` / ``duplicated``: the sites' tables compared with the hub's rows, key by key.
- ``peak_rss_mb``: the highest sum of the ingest processes' resident memory, sampled.
- ``ingest_restarts``: ingest processes that ended by themselves (a stalled writer's
  watchdog exits 5) and that the bench, as their service manager, started again.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
from sqlalchemy import Engine, create_engine, make_url, select, text

from facegate.city.keys import new_private_key, public_text, save_private
from facegate.citybench.infra import BenchBroker, TcpProxy
from facegate.citybench.ingest_proc import ingest_process
from facegate.citybench.sites import SimSite, make_site_db, site_process
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine
from facegate.store.schema import EventRow
from facegate.uplink.state import UplinkFiles

WORKERS = 2
"""Ingest workers sharing the subscription."""


@dataclass(frozen=True, slots=True)
class CityBenchOptions:
    """The run's size.

    Attributes:
        server_url: a PostgreSQL URL on the server where the scratch database is made.
        sites: simulated sites.
        processes: site processes.
        rate: steady events/s over all sites (typical 230: 10,000 sites' daily average).
        steady_s: seconds of the steady phase.
        burst: backlog events per site for the throughput phase.
        db_outage_s: seconds the database is unreachable.
    """

    server_url: str
    sites: int = 200
    processes: int = 4
    rate: float = 230.0
    steady_s: float = 30.0
    burst: int = 500
    db_outage_s: float = 30.0


class _Run:
    def __init__(self, options: CityBenchOptions, folder: Path, log: Callable[[str], None]) -> None:
        self.options, self.folder, self.log = options, folder, log
        self.ctx = mp.get_context("spawn")
        self.broker = BenchBroker(folder / "broker")
        server = make_url(options.server_url)
        self.db_name = f"facegate_citybench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(
            server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        self.proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
        direct = server.set(drivername="postgresql+psycopg", database=self.db_name)
        self.direct_url = direct.render_as_string(hide_password=False)
        self.proxied_url = direct.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False
        )
        self.hub: HubStore | None = None
        self.hub_key = new_private_key()
        save_private(folder / "hub.pem", self.hub_key)
        self.ingest: dict[int, Any] = {}
        self.site_procs: list[tuple[Any, Any, Any]] = []
        self.peak_rss = 0.0
        self.restarts = 0

    # --- setup and teardown -------------------------------------------------------------
    def setup(self) -> list[SimSite]:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        self.broker.start()
        self.proxy.start()
        self.hub = HubStore(create_db_engine(self.direct_url))
        self.hub.migrate()
        return [self._make_site(i) for i in range(self.options.sites)]

    def _make_site(self, index: int) -> SimSite:
        assert self.hub is not None
        fields = {"name": f"sim {index}", "district": f"d{index % 10}"}
        site_id, token = self.hub.add_site(fields, _now())
        site = SimSite(site_id, self.folder / "sites" / site_id)
        site.folder.mkdir(parents=True)
        make_site_db(site.db_path).dispose()
        files = UplinkFiles(site.folder / "uplink")
        key = new_private_key()
        save_private(files.key_path, key)
        files.save_cursor(0)
        self.hub.join(token, public_text(key), _now())
        return site

    def start(self, sites: list[SimSite]) -> None:
        base: dict[str, object] = {"hub_url": "http://bench", "broker_host": "127.0.0.1"}
        base.update(broker_port=self.broker.port, hub_public_key=public_text(self.hub_key))
        for worker in range(1, WORKERS + 1):
            self._start_ingest(worker)
        share = -(-len(sites) // self.options.processes)
        for start in range(0, len(sites), share):
            parent, child = self.ctx.Pipe()
            written = self.ctx.Value("q", 0)
            process = self.ctx.Process(
                target=site_process, args=(sites[start : start + share], base, child, written)
            )
            process.start()
            self.site_procs.append((process, parent, written))

    def _start_ingest(self, worker: int) -> None:
        report = self.folder / f"ingest-{worker}.json"
        process = self.ctx.Process(
            target=ingest_process,
            args=(
                self.proxied_url,
                self.broker.port,
                f"bench-ingest-{worker}",
                report,
                self.folder / "hub.pem",
            ),
            daemon=True,
        )
        process.start()
        self.ingest[worker] = process

    def teardown(self) -> None:
        for process, pipe, _ in self.site_procs:
            if process.is_alive():
                pipe.send(("stop",))
                process.join(timeout=10)
            if process.is_alive():
                process.kill()
        for process in self.ingest.values():
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        self.broker.stop()
        self.proxy.cut()
        if self.hub is not None:
            self.hub.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        self.admin.dispose()

    # --- measurements -------------------------------------------------------------------
    def rate(self, events_per_s: float) -> None:
        per_process = events_per_s / max(len(self.site_procs), 1)
        for _, pipe, _ in self.site_procs:
            pipe.send(("rate", per_process))

    def written(self) -> int:
        return sum(int(w.value) for _, _, w in self.site_procs)

    def stored(self) -> int:
        assert self.hub is not None
        with self.hub.engine.connect() as connection:
            return int(
                connection.execute(text("SELECT count(*) FROM facegate_hub.events")).scalar_one()
            )

    def sample_rss(self) -> None:
        self.revive()
        total = 0.0
        for process in self.ingest.values():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        self.peak_rss = max(self.peak_rss, total)

    def revive(self) -> None:
        """Start again an ingest process that ended by itself (as a service manager would)."""
        for worker, process in list(self.ingest.items()):
            if not process.is_alive():
                process.join(timeout=1)
                self.log(f"ingest worker {worker} exited ({process.exitcode}); starting it again")
                self.restarts += 1
                self._start_ingest(worker)

    def wait_stored(self, target: int, timeout_s: float) -> float:
        """Seconds until the hub holds ``target`` events (``inf`` past ``timeout_s``)."""
        started = time.monotonic()
        while self.stored() < target:
            self.sample_rss()
            if time.monotonic() - started > timeout_s:
                return float("inf")
            time.sleep(0.1)
        return time.monotonic() - started

    def ingest_messages(self) -> int:
        total = 0
        for worker in self.ingest:
            path = self.folder / f"ingest-{worker}.json"
            if path.is_file():
                total += int(json.loads(path.read_text())["messages"])
        return total

    def lag(self, since: float, until: float) -> tuple[float | None, float | None, int]:
        """Lag p50, p95 (seconds) and the count of the events that occurred in the window."""
        assert self.hub is not None
        query = text(
            "SELECT extract(epoch FROM received_at - occurred_at) FROM facegate_hub.events "
            "WHERE occurred_at >= to_timestamp(:a) AND occurred_at < to_timestamp(:b)"
        )
        with self.hub.engine.connect() as connection:
            lags = [float(x) for x in connection.execute(query, {"a": since, "b": until}).scalars()]
        if not lags:
            return None, None, 0
        p50, p95 = numpy.percentile(lags, [50, 95])
        return float(p50), float(p95), len(lags)

    def settle(self) -> None:
        """Stop writing and wait until the hub holds everything written."""
        self.rate(0)
        time.sleep(1.0)  # a tick already due may still write
        self.wait_stored(self.written(), 300)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def run_city_bench(options: CityBenchOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Run the whole bench; the report (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="facegate-citybench-") as scratch:
        run = _Run(options, Path(scratch), log)
        try:
            sites = run.setup()
            log(f"{len(sites)} sites joined; starting processes")
            run.start(sites)
            return _phases(run, sites)
        finally:
            run.teardown()


def _phases(run: _Run, sites: list[SimSite]) -> dict[str, Any]:
    options = run.options
    for _, pipe, _ in run.site_procs:  # each process has imported and started its uplinks
        pipe.recv()
    time.sleep(2.0)
    log = run.log
    log(f"steady: {options.rate} events/s for {options.steady_s} s")
    since = time.time()
    run.rate(options.rate)
    deadline = time.monotonic() + options.steady_s
    while time.monotonic() < deadline:
        run.sample_rss()
        time.sleep(0.5)
    until = time.time()
    run.settle()
    lag_p50, lag_p95, lag_events = run.lag(since, until)
    log(f"steady: lag p50 {lag_p50} s, p95 {lag_p95} s over {lag_events} events")

    log(f"throughput: a backlog of {options.burst} events at each site")
    before, messages_before = run.stored(), run.ingest_messages()
    for _, pipe, _ in run.site_procs:
        pipe.send(("burst", options.burst))
    for _, pipe, _ in run.site_procs:
        pipe.recv()
    took = run.wait_stored(run.written(), 600)
    burst_total = run.stored() - before
    time.sleep(1.0)  # let the workers write their counters
    messages = run.ingest_messages() - messages_before
    log(f"throughput: {burst_total} events in {took:.1f} s, {messages} messages")

    drain = {name: _fault(run, name, inject) for name, inject in _FAULTS}
    run.settle()
    lost, duplicated, sent, stored = _compare(run, sites)
    return {
        "sites": len(sites),
        "processes": len(run.site_procs),
        "ingest_workers": WORKERS,
        "sent": sent,
        "stored": stored,
        "lost": lost,
        "duplicated": duplicated,
        "ingest_events_per_s": round(burst_total / took, 1) if took > 0 else None,
        "messages_per_s": round(messages / took, 1) if took > 0 else None,
        "backlog_events": burst_total,
        "lag_p50_s": None if lag_p50 is None else round(lag_p50, 3),
        "lag_p95_s": None if lag_p95 is None else round(lag_p95, 3),
        "lag_events": lag_events,
        "steady_rate_events_per_s": options.rate,
        "steady_rate_achieved_events_per_s": round(lag_events / (until - since), 1),
        "drain_s": drain,
        "peak_rss_mb": round(run.peak_rss, 1),
        "ingest_restarts": run.restarts,
    }


def _fault(run: _Run, name: str, inject: Callable[[_Run], None]) -> float | None:
    run.log(f"fault: {name}")
    run.rate(run.options.rate)
    time.sleep(5.0)
    inject(run)
    target = run.written()
    took = run.wait_stored(target, 300)
    run.log(f"fault {name}: drained in {took:.1f} s")
    return round(took, 2) if took != float("inf") else None


def _broker_restart(run: _Run) -> None:
    run.broker.stop()
    time.sleep(3.0)
    run.broker.start()


def _ingest_kill(run: _Run) -> None:
    process = run.ingest[1]
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=5)
    time.sleep(3.0)
    run._start_ingest(1)


def _db_outage(run: _Run) -> None:
    run.proxy.cut()
    end = time.monotonic() + run.options.db_outage_s
    while time.monotonic() < end:
        run.sample_rss()
        time.sleep(0.5)
    run.proxy.start()


_FAULTS: tuple[tuple[str, Callable[[_Run], None]], ...] = (
    ("broker_restart", _broker_restart),
    ("ingest_worker_sigkill", _ingest_kill),
    ("db_unreachable_30s", _db_outage),
)


def _compare(run: _Run, sites: list[SimSite]) -> tuple[int, int, int, int]:
    """``(lost, duplicated, sent, stored)`` from the sites' tables and the hub's rows."""
    assert run.hub is not None
    with run.hub.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT site_id, event_key, count(*) FROM facegate_hub.events "
                "GROUP BY site_id, event_key"
            )
        ).all()
    hub = {(r[0], r[1]): int(r[2]) for r in rows}
    duplicated = sum(n - 1 for n in hub.values())
    lost = sent = 0
    for site in sites:
        engine: Engine = create_db_engine(f"sqlite:///{site.db_path}")
        with engine.connect() as connection:
            ids = connection.execute(select(EventRow.__table__.c.id)).scalars().all()
        engine.dispose()
        sent += len(ids)
        lost += sum(1 for i in ids if (site.site_id, i) not in hub)
        duplicated += 0
    extra = len(hub) - (sent - lost)
    return lost, duplicated + max(extra, 0), sent, sum(hub.values())
