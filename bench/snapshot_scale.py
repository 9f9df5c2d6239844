"""Snapshot check and rebuild times at 1,000 / 5,000 / 25,000 people (synthetic site).

Fills a fresh database (SQLite file or a PostgreSQL URL) with N residents of face
consent, ``--templates`` sealed synthetic templates each (random unit vectors: only the
cost is measured here), a card and a PIN hash each, one role rule for a door; then times

- ``rebuild_cold_ms``: the first snapshot (every template decrypted), and its CPU time
  ``rebuild_cold_cpu_s`` (the process's, less sensitive to other load than wall time);
- ``check_ms``: the cheap poll of an unchanged site (median of 50), when the code has one;
- ``rebuild_after_change_ms``: the snapshot after one enrolment (delta: one template
  decrypted), when the code has one; else the full rebuild again.

The same script runs on older code that has no version check (``PYTHONPATH`` of another
checkout): it then times ``build_snapshot`` alone, the cost every poll paid before.

    PYTHONPATH=src .venv/bin/python bench/snapshot_scale.py --people 1000 5000 25000 \
        --url sqlite:////tmp/snapbench.db
    PYTHONPATH=src .venv/bin/python bench/snapshot_scale.py --people 1000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/snapbench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from facegate.domain.access import TimeWindow
from facegate.domain.credentials import SealedTemplate
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose, ConsentRecord, Person, Role
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.services import places, site_admin
from facegate.services.context import ServiceContext
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.database import create_db_engine, upgrade
from facegate.store.schema import (
    CardRow,
    ConsentRow,
    DataKeyRow,
    PersonRow,
    PinRow,
    TemplateRow,
)
from facegate.store.unit_of_work import SqlStore

MODEL = "bench-model"
POLICY = MatchPolicy(0.57, 0.0)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PIN_HASH = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


class Clock:
    """A fixed clock (the site's data does not depend on it)."""

    def now(self) -> datetime:
        """The bench's moment."""
        return NOW


def _fresh(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _fill(store: SqlStore, sealer: AesGcmSealer, site_id: str, people: int, per: int) -> None:
    rng = np.random.default_rng(0)
    with Session(store.engine) as session:
        for start in range(0, people, 2000):
            ids = [str(uuid.uuid4()) for _ in range(min(2000, people - start))]
            session.add_all(
                PersonRow(id=pid, site_id=site_id, name=f"R{start + i}",
                          role=Role.RESIDENT.value, unit_id=None, minor=False,
                          created_at=NOW, moved_out_at=None)
                for i, pid in enumerate(ids)
            )  # fmt: skip
            session.flush()
            for i, pid in enumerate(ids):
                _fill_person(session, sealer, rng, pid, start + i, per)
            session.commit()


def _fill_person(
    session: Session,
    sealer: AesGcmSealer,
    rng: np.random.Generator,
    pid: str,
    number: int,
    per: int,
) -> None:
    session.add(
        ConsentRow(id=str(uuid.uuid4()), person_id=pid,
                   purpose=ConsentPurpose.FACE_ACCESS.value, text_version="v1",
                   granted_at=NOW, method=ConsentMethod.WRITTEN.value,
                   withdrawn_at=None, guardian=None)
    )  # fmt: skip
    key = sealer.new_data_key(pid)
    session.add(DataKeyRow(person_id=pid, site_key_id=key.site_key_id, wrapped=key.wrapped))
    for _ in range(per):
        vector = rng.normal(size=128).astype(np.float32)
        vector /= np.linalg.norm(vector)
        tid = str(uuid.uuid4())
        sealed = sealer.seal(key, tid, MODEL, vector)
        session.add(
            TemplateRow(id=tid, person_id=pid, model_id=MODEL, created_at=NOW, sealed=sealed)
        )
    session.add(
        CardRow(id=str(uuid.uuid4()), person_id=pid, number=f"C{number:07d}", created_at=NOW)
    )
    session.add(PinRow(id=str(uuid.uuid4()), person_id=pid, pin_hash=PIN_HASH, created_at=NOW))


def _enrol_one(store: SqlStore, sealer: AesGcmSealer, site_id: str) -> None:
    """One more resident with face consent and one template (a change the gates pick up).

    Until 2026-11-28 the resident had no consent: the template stayed out of every
    gallery, so this timed a change of the people alone.
    """
    with store.unit_of_work() as uow:
        pid = str(uuid.uuid4())
        uow.people.add(Person(pid, site_id, "New", Role.RESIDENT, NOW))
        consent = ConsentRecord(
            str(uuid.uuid4()), pid, ConsentPurpose.FACE_ACCESS, "v1", NOW, ConsentMethod.WRITTEN
        )
        uow.consents.add(consent)
        key = sealer.new_data_key(pid)
        uow.keys.put(key)
        tid = str(uuid.uuid4())
        vector = np.ones(128, dtype=np.float32) / np.sqrt(128)
        sealed = sealer.seal(key, tid, MODEL, vector)
        uow.templates.add(SealedTemplate(tid, pid, MODEL, NOW, sealed))
        uow.commit()


def _ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def fresh_site(url: str) -> tuple[SqlStore, ServiceContext, str, bytes]:
    """An empty site at ``url`` (a SQLite file made anew): store, context, site id, site key."""
    _fresh(url)
    engine = create_db_engine(url)
    upgrade(engine)
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=Clock(), actor="bench")
    site, _ = site_admin.init_site(context, "Bench", "UTC")
    return store, context, site.id, generate_key()


def run(url: str, people: int, per: int, reuse: bool = False) -> dict[str, object]:
    """One size: fill, then time the check and the rebuilds.

    ``reuse``: time the site left by an earlier ``--keep`` run of the same size (its
    site key beside it, ``<file>.key``) instead of filling a fresh one (SQLite only).
    """
    kept = Path(url.removeprefix("sqlite:///") + ".key")
    if reuse and kept.exists():
        return _reused(url, kept, people, per)
    store, context, site_id, site_key = fresh_site(url)
    engine, sealer = store.engine, AesGcmSealer(site_key)
    kinds = list(CredentialKind)
    door = places.add_door(context, "Main", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id
    window = TimeWindow(frozenset(range(7)), datetime.min.time(), datetime.max.time())
    places.add_access_rule(context, [window], role=Role.RESIDENT, door_ids=[door])
    started = time.perf_counter()
    _fill(store, sealer, site_id, people, per)
    fill_s = time.perf_counter() - started
    result: dict[str, object] = {
        "backend": engine.dialect.name,
        "people": people,
        "templates": people * per,
        "fill_s": round(fill_s, 1),
    }
    if url.startswith("sqlite:///"):
        kept.write_bytes(site_key)
    result.update(_time(context, store, sealer, site_id, door))
    store.close()
    return result


def _reused(url: str, kept: Path, people: int, per: int) -> dict[str, object]:
    engine = create_db_engine(url)
    with contextlib.suppress(CommandError):  # an older checkout reads a newer schema as is
        upgrade(engine)  # a site kept by an older checkout
    store = SqlStore(engine)
    context = ServiceContext(store=store, clock=Clock(), actor="bench")
    with store.unit_of_work() as uow:
        site = uow.site.get()
        door = uow.places.doors()[0].id
    assert site is not None
    sealer = AesGcmSealer(kept.read_bytes())
    result: dict[str, object] = {"backend": engine.dialect.name, "reused": True}
    result.update(_time(context, store, sealer, site.id, door))
    store.close()
    return result


def _time(
    context: ServiceContext, store: SqlStore, sealer: AesGcmSealer, site_id: str, door: str
) -> dict[str, object]:
    from facegate.services import gate_sync

    try:
        from facegate.gate.store_upstream import StoreUpstream

        upstream = StoreUpstream(lambda: store, sealer, Clock(), MODEL, POLICY)
        poll = upstream.poll_snapshot
    except (ImportError, AttributeError):  # older code: every poll rebuilt
        build = gate_sync.build_snapshot
        cold = _ms(lambda: build(context, sealer, door, MODEL, POLICY))
        again = _ms(lambda: build(context, sealer, door, MODEL, POLICY))
        _enrol_one(store, sealer, site_id)
        changed = _ms(lambda: build(context, sealer, door, MODEL, POLICY))
        return {
            "rebuild_cold_ms": round(cold, 1),
            "check_ms": round(again, 1),
            "rebuild_after_change_ms": round(changed, 1),
            "note": "no version check: every poll is a full rebuild",
        }
    held: list[object] = []
    cpu = time.process_time()
    cold = _ms(lambda: held.append(poll("g", door, None)))
    cold_cpu = time.process_time() - cpu
    version = getattr(held[0], "version", None)
    checks = [_ms(lambda: poll("g", door, version)) for _ in range(50)]
    _enrol_one(store, sealer, site_id)
    changed = _ms(lambda: poll("g", door, version))
    return {
        "rebuild_cold_ms": round(cold, 1),
        "rebuild_cold_cpu_s": round(cold_cpu, 2),  # comparable on a loaded machine
        "check_ms": round(statistics.median(checks), 2),
        "check_p95_ms": round(sorted(checks)[int(len(checks) * 0.95) - 1], 2),
        "rebuild_after_change_ms": round(changed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/snapbench.db")
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 5000, 25000])
    parser.add_argument("--templates", type=int, default=2)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the site the last run left at --url (SQLite) instead of filling one",
    )
    args = parser.parse_args()
    for people in args.people:
        print(json.dumps(run(args.url, people, args.templates, args.reuse)), flush=True)


if __name__ == "__main__":
    main()
