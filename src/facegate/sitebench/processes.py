"""The bench's processes: ``facegate serve``, edge gates, and a scratch PostgreSQL database.

Everything runs as the user would run it: the ``facegate`` command next to this Python,
configured by environment variables, on a free local port.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from facegate.domain.errors import ServiceUnavailableError

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OWN_VARIABLES = frozenset(
    {
        "FACEGATE_DATA_DIR",
        "FACEGATE_DB_URL",
        "FACEGATE_SITE_KEY",
        "FACEGATE_ADMIN_USER",
        "FACEGATE_ADMIN_PASSWORD",
        "FACEGATE_SERVER__PORT",
        "FACEGATE_SERVER__HOST",
        "FACEGATE_SERVER__TLS_CERT",
        "FACEGATE_SERVER__TLS_KEY",
    }
)
"""Settings the bench sets itself for its site's processes."""


def facegate_command() -> str:
    """The ``facegate`` command installed next to this Python."""
    found = shutil.which("facegate", path=str(Path(sys.executable).parent))
    if found is None:
        raise ServiceUnavailableError("the facegate command is not installed next to Python")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_postgres(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A fresh PostgreSQL database for the bench (its URL), dropped on exit."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"facegate_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def site_env(data_dir: Path, cache_dir: Path, db_url: str | None, liveness: str) -> dict[str, str]:
    """The environment of the site's processes.

    The user's own ``FACEGATE_*`` settings pass (a threshold, a margin, an embedding
    backend to measure), except where the site lives and who administers it. The device
    keys' request rate is off unless the user sets one: the ramp's unpaced kiosks post
    far faster than a kiosk page can (about 60 frames/s each here, a page at most 25),
    to find the server's saturation, not one key's limit.
    """
    env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    env.setdefault("FACEGATE_SERVER__DEVICE_RATE_PER_S", "0")
    env.update(
        FACEGATE_DATA_DIR=str(data_dir),
        FACEGATE_CACHE_DIR=str(cache_dir),
        FACEGATE_SERVER__ENVIRONMENT="development",
        FACEGATE_SERVER__SECURE_COOKIES="false",
        FACEGATE_GATE__LIVENESS=liveness,
        FACEGATE_ADMIN_USER="bench-admin",
        FACEGATE_ADMIN_PASSWORD=secrets.token_urlsafe(18),
    )
    if db_url is not None:
        env["FACEGATE_DB_URL"] = db_url
    return env


def site_init(env: dict[str, str]) -> None:
    """``facegate site init`` (creates the database and the site key)."""
    subprocess.run(
        [facegate_command(), "site", "init", "--name", "Bench Court"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass
class Server:
    """A running ``facegate serve``."""

    url: str
    process: subprocess.Popen[bytes]
    admin: str
    password: str

    def peak_rss_mb(self) -> float | None:
        """The server process's peak resident set size (MiB), from /proc (``None``: gone)."""
        return _peak_rss_mb(self.process.pid) if self.process.poll() is None else None


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return None


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    """Wait until ``url`` answers its health check.

    Raises:
        ServiceUnavailableError: the process ended, or no answer within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailableError(f"facegate serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise ServiceUnavailableError("facegate serve did not become healthy in time")


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """``facegate serve`` on a free port, terminated on exit."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [facegate_command(), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield Server(url, process, env["FACEGATE_ADMIN_USER"], env["FACEGATE_ADMIN_PASSWORD"])
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True, slots=True)
class EdgeGate:
    """A registered edge gate: its door, gate id and device key."""

    door_id: str
    gate_id: str
    key: str


EDGE_HTTP_TIMEOUT_S = 60.0
"""Seconds an edge gate of the bench gives one call to the server (unless the user set it)."""


def start_edge_gate(
    env: dict[str, str],
    url: str,
    gate: EdgeGate,
    frames: Path,
    fps: float,
    log: Path,
    watch_cards: str = "",
) -> subprocess.Popen[bytes]:
    """An edge gate process (the gate runtime, HTTP upstream) on a paced folder of frames.

    Its stdout carries one JSON line per decision (``facegate gate --json``'s format),
    and with ``watch_cards`` (a card number prefix) one line when such cards reach the
    gate's snapshot (see :mod:`facegate.sitebench.edge`).
    """
    folder = frames.parent / f"gate-{gate.gate_id}"
    folder.mkdir(parents=True, exist_ok=True)
    gate_env = {
        **env,
        "FACEGATE_DATA_DIR": str(folder),
        "FACEGATE_GATE__UPSTREAM": "http",
        "FACEGATE_GATE__SERVER_URL": url,
        "FACEGATE_GATE__DEVICE_KEY": gate.key,
        "FACEGATE_GATE__GATE_ID": gate.gate_id,
    }
    # The first snapshot of a large gallery on a busy machine may take longer than a
    # gate's default 5 s per call; a gate that cannot fetch it does not start.
    gate_env.setdefault("FACEGATE_GATE__HTTP_TIMEOUT_S", str(EDGE_HTTP_TIMEOUT_S))
    gate_env.pop("FACEGATE_DB_URL", None)
    command = [
        sys.executable,
        "-m",
        "facegate.sitebench.edge",
        "--door",
        gate.door_id,
        "--frames",
        str(frames),
        "--fps",
        str(fps),
        "--watch-cards",
        watch_cards,
    ]
    return subprocess.Popen(command, env=gate_env, stdout=subprocess.PIPE, stderr=log.open("ab"))
