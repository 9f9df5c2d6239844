"""Helpers for the city tests and nothing else: a private Mosquitto with per-site accounts
and topic ACLs, a hub database, a site with events, and a hub served on a free port."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, insert

from brokers import broker_up, free_port
from facegate.config import Settings
from facegate.store.schema import EventRow

CITY_ACL = """\
user hub
topic readwrite facegate/city/#
topic readwrite $share/hub/facegate/city/#
pattern write facegate/city/%u/events
pattern write facegate/city/%u/health
pattern write facegate/city/%u/summary
pattern read facegate/city/%u/notices
pattern read facegate/city/%u/acks
"""


class CityBroker:
    """A private Mosquitto configured as docs/city.md says: the city ACL, and two listeners.

    ``port``: the sites' listener, its password file ``passwd`` (the hub edits it), the
    client id forced to the username (a site cannot take another's session).
    ``hub_port``: the hub's own listener, whose password file holds only ``hub``.
    """

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).is_file():
            pytest.skip("mosquitto is not installed")
        self.binary, self.port, self.hub_port = binary, free_port(), free_port()
        self.folder = folder
        self.passwd, hub_passwd = folder / "passwd", folder / "hub.passwd"
        self.pid_file = folder / "mosquitto.pid"
        self.hub_password = uuid.uuid4().hex
        self.passwd.touch(mode=0o600)
        hub_passwd.touch(mode=0o600)
        subprocess.run(
            ["mosquitto_passwd", "-b", str(hub_passwd), "hub", self.hub_password], check=True
        )
        (folder / "acl").write_text(CITY_ACL)
        (folder / "mosquitto.conf").write_text(
            f"user {getpass.getuser()}\n"  # as root it would switch to 'mosquitto' and lose tmp
            f"pid_file {self.pid_file}\nmax_inflight_messages 1000\nmax_queued_messages 100000\n"
            "per_listener_settings true\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {self.passwd}\nacl_file {folder / 'acl'}\n"
            "use_username_as_clientid true\n"
            f"listener {self.hub_port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {hub_passwd}\nacl_file {folder / 'acl'}\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10.0
        while not (broker_up("127.0.0.1", self.port) and broker_up("127.0.0.1", self.hub_port)):
            assert time.monotonic() < deadline, "own mosquitto did not start"
            time.sleep(0.05)
        while not self.pid_file.exists():
            assert time.monotonic() < deadline, "own mosquitto wrote no pid file"
            time.sleep(0.05)

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


EVENTS_BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
"""When :func:`add_events` dates its first event: recent, as the hub keeps only events
within its retention (a fixed date would stop being stored 90 days on)."""


def add_events(engine: Engine, count: int, door_id: str = "door-1", start: int = 0) -> list[str]:
    """Insert ``count`` decisions into a site's events table; their ids in ``seq`` order.

    The ``i``-th is dated ``EVENTS_BASE`` + ``start + i`` seconds (all on one UTC day).
    """
    base = EVENTS_BASE
    rows = [
        {
            "id": str(uuid.uuid4()),
            "door_id": door_id,
            "occurred_at": base + timedelta(seconds=start + i),
            "granted": i % 3 != 0,
            "reason": "granted" if i % 3 != 0 else "unknown_face",
            "person_id": str(uuid.uuid4()) if i % 3 != 0 else None,
            "scores": "{}",
        }
        for i in range(count)
    ]
    with engine.begin() as connection:
        for row in rows:  # one by one: the SQLite trigger numbers each insert
            connection.execute(insert(EventRow.__table__).values(row))
    return [r["id"] for r in rows]


def site_settings(folder: Path) -> Settings:
    """A site's settings with its own data folder (database made by the caller)."""
    return Settings(data_dir=folder)


def serve_in_thread(app: object) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` with uvicorn on a free port; ``(base URL, stop)``."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "hub app did not start"
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


def wait_until(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "") -> None:
    """Poll ``check`` every 50 ms until it holds (fails the test after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
