"""Every target's snapshot of a kept site, as digests: run it with two checkouts and compare.

A change to how snapshots are assembled must leave them equal. On a copy of a kept site
(``bench/version_cpu.py`` or ``bench/snapshot_scale.py`` leaves one, the site key beside
it as ``<file>.key``), this builds every door's and lift's snapshot in both gallery
scopes and prints, per scope and target, one JSON object: the snapshot version, the
SHA-256 of its access sections' digests (every part, in order, as the wire carries them),
of its gallery's template ids, and the gallery, card and rule counts. Each run writes
audit records: give each checkout its own copy of the same file.

    cp /tmp/version_cpu25000.db /tmp/a.db; cp /tmp/version_cpu25000.db.key /tmp/a.db.key
    cp /tmp/a.db /tmp/b.db; cp /tmp/a.db.key /tmp/b.db.key
    PYTHONPATH=../main/src:bench .venv/bin/python bench/snapshot_digests.py /tmp/a.db > a.json
    PYTHONPATH=src:bench .venv/bin/python bench/snapshot_digests.py /tmp/b.db > b.json
    cmp a.json b.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from facegate.gate.snapshot_sections import Sections
from facegate.services.context import ServiceContext
from facegate.services.site_rows import RowMemo
from facegate.services.snapshots import SnapshotRequest, TemplateCache, build_snapshots
from facegate.store.crypto import AesGcmSealer
from facegate.store.database import create_db_engine
from facegate.store.unit_of_work import SqlStore
from snapshot_scale import MODEL, POLICY, Clock


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()


def digests(path: Path) -> dict[str, dict[str, object]]:
    """Per ``scope:target id``, what its snapshot holds, as digests and counts."""
    store = SqlStore(create_db_engine(f"sqlite:///{path}"))
    sealer = AesGcmSealer(Path(f"{path}.key").read_bytes())
    context = ServiceContext(store=store, clock=Clock(), actor="bench")
    with store.unit_of_work() as uow:
        targets = [d.id for d in uow.places.doors()] + [lift.id for lift in uow.places.lifts()]
    found: dict[str, dict[str, object]] = {}
    for scope in ("site", "allowed"):
        requests = [SnapshotRequest(t, MODEL, POLICY, scope=scope) for t in targets]
        for snapshot in build_snapshots(
            context, sealer, requests, None, TemplateCache(), RowMemo()
        ):
            access = snapshot.access
            found[f"{scope}:{snapshot.target.id}"] = {
                "version": snapshot.version,
                "sections": _digest(Sections.of(access).digests),
                "gallery": _digest(access.gallery.template_ids()),
                "templates": len(access.gallery),
                "cards": len(access.cards),
                "rules": len(access.rules),
            }
    store.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="a copy of a kept SQLite site")
    print(json.dumps(digests(parser.parse_args().site), sort_keys=True, indent=1))


if __name__ == "__main__":
    main()
