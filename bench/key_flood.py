"""One edge key's unpaced pollers against a real ``facegate serve``; ``/health`` meanwhile.

Makes a fresh SQLite site in a temporary folder (``facegate site init``), starts
``facegate serve`` on it (nice 5), adds one door and one edge key over the API, takes
the key's first snapshot, then measures ``GET /api/v1/health`` every 0.2 s for 5 s idle
and for ``--seconds`` while ``--pollers`` threads poll that key's snapshot as fast as
they are answered: with ``If-None-Match`` (304 checks), or with ``--whole`` without it
(each answer a built, audited snapshot). Prints the health latencies and how the polls
were answered (status: count). The clients run on the same machine as the server.

    PYTHONPATH=src python bench/key_flood.py [--pollers 50] [--seconds 15] [--whole]
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

MODEL = "dlib-r50-v1"
ANSWERS_LOCK = threading.Lock()


def _percentile(values: list[float], pct: int) -> float:
    return round(statistics.quantiles(values, n=100)[pct - 1], 1)


def _health(url: str, into: list[float], stop: threading.Event) -> None:
    with httpx.Client(base_url=url) as client:
        while not stop.is_set():
            begin = time.perf_counter()
            client.get("/api/v1/health")
            into.append((time.perf_counter() - begin) * 1000.0)
            time.sleep(0.2)


def _poller(
    url: str, headers: dict[str, str], answers: collections.Counter[int], stop: threading.Event
) -> None:
    with httpx.Client(base_url=url, headers=headers) as client:
        while not stop.is_set():
            try:
                answer = client.get("/api/v1/gates/g1/snapshot", params={"model": MODEL})
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            with ANSWERS_LOCK:
                answers[status] += 1


def _setup(url: str, password: str) -> str:
    """One door and an edge key for gate ``g1``; the key's secret."""
    for _ in range(150):
        try:
            if httpx.get(url + "/api/v1/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    admin = httpx.Client(base_url=url)
    login = admin.post("/api/v1/auth/login", json={"username": "admin", "password": password})
    login.raise_for_status()
    admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    door = admin.post("/api/v1/doors", json={"name": "North", "accepted": ["card"]}).json()["id"]
    body = {"target_id": door, "kind": "edge", "gate_id": "g1"}
    return str(admin.post("/api/v1/devices/keys", json=body).json()["secret"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--whole", action="store_true", help="no If-None-Match: whole builds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="facegate-key-flood-"))
    port, password = 18000 + secrets.randbelow(1000), secrets.token_urlsafe(18)
    facegate = str(Path(sys.executable).parent / "facegate")
    env = {
        **os.environ,
        "FACEGATE_DATA_DIR": str(work),
        "FACEGATE_CACHE_DIR": str(work / "cache"),
        "FACEGATE_SERVER__ENVIRONMENT": "development",
        "FACEGATE_SERVER__SECURE_COOKIES": "false",
        "FACEGATE_ADMIN_USER": "admin",
        "FACEGATE_ADMIN_PASSWORD": password,
    }
    subprocess.run([facegate, "site", "init", "--name", "Flood"], env=env, check=True)
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(
        ["nice", "-n", "5", facegate, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        headers = {"X-Device-Key": _setup(url, password)}
        first = httpx.get(
            url + "/api/v1/gates/g1/snapshot", params={"model": MODEL}, headers=headers
        )
        if not args.whole:
            headers["If-None-Match"] = first.headers["etag"]
        idle: list[float] = []
        stop = threading.Event()
        watch = threading.Thread(target=_health, args=(url, idle, stop))
        watch.start()
        time.sleep(5.0)
        stop.set()
        watch.join()
        loaded: list[float] = []
        answers: collections.Counter[int] = collections.Counter()
        stop = threading.Event()
        threads = [threading.Thread(target=_health, args=(url, loaded, stop))]
        threads += [
            threading.Thread(target=_poller, args=(url, headers, answers, stop))
            for _ in range(args.pollers)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        print(
            f"idle health p50 {_percentile(idle, 50)} ms; under {args.pollers} pollers "
            f"({'whole' if args.whole else '304'}) health p50 {_percentile(loaded, 50)}, "
            f"p95 {_percentile(loaded, 95)}, max {max(loaded):.1f} ms; "
            f"polls answered {dict(answers)} in {args.seconds:g} s; load {os.getloadavg()}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
