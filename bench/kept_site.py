"""A site kept by ``bench/snapshot_scale.py`` opened for a bench: store, site key, a door.

``snapshot_scale.py --people N --url sqlite:///<file>`` leaves the SQLite file and its
site key beside it (``<file>.key``); the benches that time a large site
(``cold_rebuild.py``, ``snapshot_rss.py``, ``snapshot_delta.py``, ``enrol_scale.py``)
open it here: its store, the sealer of its site key, a service context on the bench's
fixed clock, the site's id and its first door (the one the fill gave a rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facegate.services.context import ServiceContext
from facegate.store.crypto import AesGcmSealer
from facegate.store.database import create_db_engine
from facegate.store.unit_of_work import SqlStore
from snapshot_scale import Clock


@dataclass(frozen=True)
class KeptSite:
    """An opened kept site (close its ``store`` when done)."""

    store: SqlStore
    sealer: AesGcmSealer
    context: ServiceContext
    site_id: str
    door: str


def open_site(url: str, key_file: Path | None = None) -> KeptSite:
    """The kept SQLite site at ``url``; its key read from ``key_file`` (``<file>.key``)."""
    key = key_file or Path(url.removeprefix("sqlite:///") + ".key")
    store = SqlStore(create_db_engine(url))
    context = ServiceContext(store=store, clock=Clock(), actor="bench")
    with store.unit_of_work() as uow:
        site = uow.site.get()
        door = uow.places.doors()[0].id
    if site is None:
        raise SystemExit(f"{url} holds no site: fill one with bench/snapshot_scale.py")
    return KeptSite(store, AesGcmSealer(key.read_bytes()), context, site.id, door)
