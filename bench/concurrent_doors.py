"""Card swipes and audited event reads at once over the API: statuses, grants, latency.

Issue 16 F3/F5's measurement: a site with one door and one card (the API test site), a
kiosk posting the card to ``/api/v1/doors/{id}/credentials`` or an auditor reading
``/api/v1/events?limit=100``, N requests AT_ONCE at a time (TestClient, one client a
thread, logged in beforehand). Prints the answers' statuses, how many were grants and how
many unlock commands the door got (they must agree), and latency p50/p99/max.

    PYTHONPATH=src python bench/concurrent_doors.py sqlite,swipes,100,10 \\
        sqlite,reads,1000,20 pg,swipes,200,10 pg,reads,300,20

``pg`` makes a fresh database on ``postgresql+psycopg://postgres@127.0.0.1:5432/test``'s
server (``BENCH_POSTGRES_URL`` names another) and drops it afterwards.
"""

from __future__ import annotations

import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "integration")]

from test_concurrent_doors import _door_with_card, _wire  # noqa: E402

from api_site import Site, site_on  # noqa: E402
from facegate.gate.actuators import SimulatedDoor  # noqa: E402
from facegate.sitebench.processes import scratch_postgres  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def clients(make: Callable[[], TestClient], count: int) -> Callable[[], TestClient]:
    """``count`` clients made now, handed one to each thread that asks."""
    ready: queue.Queue[TestClient] = queue.Queue()
    for _ in range(count):
        ready.put(make())
    local = threading.local()

    def get() -> TestClient:
        if not hasattr(local, "client"):
            local.client = ready.get_nowait()
        return local.client  # type: ignore[no-any-return]

    return get


def run(site: Site, kind: str, total: int, at_once: int, outbox: Path) -> str:
    door = SimulatedDoor()
    _wire(site, outbox, door)
    door_id, secret = _door_with_card(site)
    kiosk = clients(site.client, at_once)
    card = {"kind": "card", "value": "CARD-1234"}

    def swipe() -> tuple[int, bool]:
        answer = kiosk().post(
            f"/api/v1/doors/{door_id}/credentials", json=card, headers={"X-Device-Key": secret}
        )
        return answer.status_code, answer.status_code == 200 and bool(answer.json()["granted"])

    job = swipe
    if kind == "reads":
        for _ in range(20):  # events to read
            swipe()
        auditor = clients(lambda: site.client("auditor"), at_once)

        def job() -> tuple[int, bool]:
            return auditor().get("/api/v1/events", params={"limit": 100}).status_code, False

    latencies: list[float] = []

    def timed(_: int) -> tuple[int, bool]:
        start = time.monotonic()
        answer = job()
        latencies.append(time.monotonic() - start)
        return answer

    start = time.monotonic()
    with ThreadPoolExecutor(at_once) as pool:
        answers = list(pool.map(timed, range(total)))
    took = time.monotonic() - start
    latencies.sort()
    statuses = dict(Counter(status for status, _ in answers))
    grants = sum(granted for _, granted in answers)
    return (
        f"{kind} n={total} at_once={at_once}: {statuses} grants={grants} "
        f"unlocks={len(door.commands)} in {took:.1f} s; latency p50 "
        f"{latencies[len(latencies) // 2]:.2f} s p99 {latencies[int(len(latencies) * 0.99)]:.2f} s "
        f"max {latencies[-1]:.2f} s"
    )


def on_postgres(kind: str, total: int, at_once: int) -> str:
    with scratch_postgres(ADMIN_URL) as url, site_on(url) as site:
        return run(site, kind, total, at_once, Path(tempfile.mkdtemp()) / "outbox.db")


def main(specs: list[str]) -> None:
    for spec in specs:
        backend, kind, total, at_once = spec.split(",")
        if backend == "pg":
            line = on_postgres(kind, int(total), int(at_once))
        else:
            folder = Path(tempfile.mkdtemp())
            with site_on(f"sqlite:///{folder / 'facegate.db'}") as site:
                line = run(site, kind, int(total), int(at_once), folder / "outbox.db")
        print(f"{backend:6s} {line}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["sqlite,swipes,100,10", "sqlite,reads,1000,20"])
