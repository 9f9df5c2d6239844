"""The hub's composition root: builds its store, key, broker accounts and workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from facegate.city.keys import load_or_create_private
from facegate.hub.broker_accounts import MosquittoAccounts
from facegate.hub.ingest import IngestWorker
from facegate.hub.settings import HubSettings
from facegate.hub.store import HubStore
from facegate.store.database import create_db_engine


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


@dataclass
class Hub:
    """A built hub: its settings, database, key and (optional) broker accounts."""

    settings: HubSettings
    store: HubStore
    key: Ed25519PrivateKey
    accounts: MosquittoAccounts | None


def build_hub(settings: HubSettings, migrate: bool = True) -> Hub:
    """Build the hub for ``settings``; with ``migrate`` create or update its schema.

    Raises:
        BadInputError: not a PostgreSQL URL.
        DatabaseUnavailableError: the database cannot be reached.
    """
    store = HubStore(create_db_engine(settings.db_url))
    if migrate:
        store.migrate()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = load_or_create_private(settings.key_path)
    accounts = None
    if settings.broker_passwd_file is not None:
        accounts = MosquittoAccounts(settings.broker_passwd_file, settings.broker_pid_file)
    return Hub(settings, store, key, accounts)


def build_workers(hub: Hub, count: int, prefix: str = "hub-ingest") -> list[IngestWorker]:
    """``count`` ingest workers with the fixed client ids ``<prefix>-1``..."""
    settings = hub.settings
    return [
        IngestWorker(
            hub.store,
            settings.broker_host,
            settings.broker_port,
            f"{prefix}-{i}",
            utc_now,
            hub.key,
            settings.broker_credentials,
            keep_days=settings.retention_days,
        )
        for i in range(1, count + 1)
    ]
