"""The hub's settings (its own composition root: the site's ``Settings`` are not used)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RETENTION_DAYS = 90
"""How long the hub keeps events unless told otherwise (days)."""


@dataclass(frozen=True, slots=True)
class HubSettings:
    """What a hub process needs.

    Attributes:
        db_url: the PostgreSQL URL (``--db-url`` / ``FACEGATE_DB_URL``); the hub refuses SQLite.
        data_dir: where the hub key ``hub.ed25519.pem`` lives (mode 0600).
        broker_host: the MQTT broker the hub's own clients (ingest workers, notices) use.
        broker_port: its port.
        site_broker_host: the broker's host as sites are told at join (``None``:
            ``broker_host``); sites should reach a listener of their own (docs/city.md).
        site_broker_port: that listener's port (``None``: ``broker_port``).
        broker_passwd_file: Mosquitto password file the hub adds site accounts to
            (``None``: the broker has no per-site accounts).
        broker_pid_file: the broker's pid file; it is sent SIGHUP to re-read the accounts.
        retention_days: how long the hub keeps events (days; typical 90).
        workers: ingest workers ``hub serve`` runs (typical 2).
        broker_credentials: the hub's own broker ``(username, password)``, when needed.
    """

    db_url: str
    data_dir: Path
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    broker_passwd_file: Path | None = None
    broker_pid_file: Path | None = None
    retention_days: int = RETENTION_DAYS
    workers: int = 2
    broker_credentials: tuple[str, str] | None = None
    site_broker_host: str | None = None
    site_broker_port: int | None = None

    @property
    def sites_broker(self) -> tuple[str, int]:
        """``(host, port)`` of the broker listener sites connect to."""
        host = self.site_broker_host or self.broker_host
        return host, self.site_broker_port or self.broker_port

    @property
    def key_path(self) -> Path:
        """The hub's private key file."""
        return self.data_dir / "hub.ed25519.pem"
