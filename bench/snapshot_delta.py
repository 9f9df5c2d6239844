"""What one change costs an edge gate: the whole snapshot against the delta (issue 11).

On a copy of the site a ``bench/snapshot_scale.py`` run leaves (the SQLite file and its
site key beside it, ``<file>.key``; fill one with ``python bench/snapshot_scale.py
--people 25000 --templates 3 --url sqlite:////tmp/site25k.db``), this times, with the
real functions the route and the gate run:

- ``server``: encoding the access sections and their digests (remembered for the next
  delta), sealing the snapshot for one gate and writing its JSON (what ``GET
  /gates/{id}/snapshot`` adds to the build, which both answers share), for the whole
  snapshot (wire format 2) and for the delta (wire format 3) after one enrolment and
  after one erasure; the delta leaves out the parts of the access sections unchanged
  (``sent``: how many parts of each section it sends; people, cards and PIN hashes are
  cut in 64 buckets by key) and states the digest of the gallery it makes: ``server_cpu_ms``
  with the digest of the server's gallery known (as after an earlier delta: a server
  that sent the base version by delta carries its digest to the next gallery, in the
  build), ``server_cpu_ms_first`` with it not known (the first delta after a start);
- ``gate``: reading that JSON, opening it and applying it (the delta to the snapshot it
  holds, checking the digests of the sections it keeps and of the gallery it makes),
  then the first search (the search index is rebuilt for a new gallery). For a delta,
  ``gate_cpu_ms`` is with the digests of the gate's kept parts and of its gallery
  already known (as after an earlier delta), ``gate_cpu_ms_first`` with them computed
  (the first delta after a whole snapshot: a copy of the gallery held each run);
- ``file_rewrite`` / ``file_load``: the gate writing its sealed snapshot file at once
  (the same in both cases: the file always holds the whole snapshot), and reading it
  back at a start;
- ``bytes``: the JSON answer's size.

CPU milliseconds (``time.process_time``) are the median of ``--repeat`` runs; the machine's
load average is printed with them. The build the route does before either answer
(``build_snapshot`` with the server's template cache warm) is timed too but is the same
for both. Not measured here: the HTTP transfer itself (the bytes say what it carries).

    PYTHONPATH=src .venv/bin/python bench/snapshot_delta.py --url sqlite:////tmp/site25k.db
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from facegate.domain.gallery_delta import gallery_digest
from facegate.domain.gate import GateSnapshot
from facegate.domain.matching import Gallery
from facegate.gate.access_wire import PARTS
from facegate.gate.snapshot_delta import delta_to_wire, open_delta
from facegate.gate.snapshot_file import SnapshotFile
from facegate.gate.snapshot_sections import SectionDigests, Sections
from facegate.gate.snapshot_wire import (
    gate_wire_key,
    snapshot_from_wire,
    snapshot_to_wire,
)
from facegate.services.rights import erase_person
from facegate.services.snapshots import build_snapshot
from kept_site import open_site
from snapshot_scale import MODEL, POLICY, Clock, _enrol_one

GATE = "bench-gate"
KEY = gate_wire_key("bench-device-secret", GATE)


def _cpu_ms(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median CPU ms of ``action`` over ``repeat`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()
        result = action()
        times.append((time.process_time() - started) * 1000)
    return round(statistics.median(times), 1), result


def _first_search_ms(snapshot: GateSnapshot) -> float:
    probe = np.ones(128, dtype=np.float32) / np.sqrt(128)
    started = time.process_time()
    snapshot.access.gallery.search(probe, POLICY)
    return round((time.process_time() - started) * 1000, 1)


def _whole(snapshot: GateSnapshot, repeat: int) -> dict[str, Any]:
    def encode() -> str:
        sections = Sections.of(snapshot.access)  # the route remembers their digests
        return json.dumps(snapshot_to_wire(snapshot, GATE, KEY, sections.texts))

    server_ms, text = _cpu_ms(encode, repeat)
    gate_ms, got = _cpu_ms(lambda: snapshot_from_wire(json.loads(text), GATE, KEY), repeat)
    return {
        "bytes": len(text),
        "server_cpu_ms": server_ms,
        "gate_cpu_ms": gate_ms,
        "gate_first_search_ms": _first_search_ms(got),
    }


def _delta(
    snapshot: GateSnapshot, base: GateSnapshot, base_server: GateSnapshot, repeat: int
) -> tuple[dict[str, Any], GateSnapshot]:
    """The delta from ``base`` (the gate's) to ``snapshot``; ``base_server``: as delivered."""
    base_ids = base_server.access.gallery.template_ids()
    assert base_ids is not None
    remembered = Sections.of(base_server.access).digests  # the server's memory of the base
    now = Sections.of(snapshot.access).digests

    def encode(made: GateSnapshot) -> str:
        return json.dumps(delta_to_wire(made, base.version, base_ids, GATE, KEY, remembered))

    server_ms, text = _cpu_ms(lambda: encode(snapshot), repeat)
    unknown = [_fresh_gallery(snapshot) for _ in range(repeat)]  # as after a server start
    server_first_ms, _ = _cpu_ms(lambda: encode(unknown.pop()), repeat)
    known = SectionDigests(base.access)  # as after an earlier delta: every digest known
    for part in PARTS:
        known.of(part)
    gallery_digest(base.access.gallery)
    gate_ms, (got, _) = _cpu_ms(
        lambda: open_delta(json.loads(text), base, GATE, KEY, known), repeat
    )
    bases = [_fresh_gallery(base) for _ in range(repeat)]  # as after a whole snapshot
    first_ms, _ = _cpu_ms(lambda: open_delta(json.loads(text), bases.pop(), GATE, KEY), repeat)
    ids = snapshot.access.gallery.template_ids()
    assert ids is not None
    assert set(got.access.gallery.template_ids() or ()) == set(ids)
    result = {
        "bytes": len(text),
        "sent": _sent(remembered, now),
        "server_cpu_ms": server_ms,
        "server_cpu_ms_first": server_first_ms,
        "gate_cpu_ms": gate_ms,
        "gate_cpu_ms_first": first_ms,
        "gate_first_search_ms": _first_search_ms(got),
    }
    return result, got


def _fresh_gallery(snapshot: GateSnapshot) -> GateSnapshot:
    """``snapshot`` with a copy of its gallery (the same rows; nothing known of it yet)."""
    gallery = snapshot.access.gallery
    names, labels, matrix = gallery.as_index()
    copy = Gallery.from_index(names, labels, matrix, gallery.template_ids())
    return replace(snapshot, access=replace(snapshot.access, gallery=copy))


def _sent(remembered: dict[str, str], now: dict[str, str]) -> dict[str, int]:
    """How many parts of each section a delta sends (a bucketed section has 64)."""
    sent: dict[str, int] = {}
    for part in PARTS:
        if remembered[part] != now[part]:
            name = part.partition("/")[0]
            sent[name] = sent.get(name, 0) + 1
    return sent


def _file_ms(snapshot: GateSnapshot) -> tuple[float, float]:
    """CPU ms of the gate writing its snapshot file, and of reading it back."""
    with tempfile.TemporaryDirectory() as folder:
        saved = SnapshotFile(Path(folder) / f"snapshot.{GATE}.bin", GATE, KEY, Clock())
        started = time.process_time()
        saved.save(snapshot)
        written = time.process_time()
        saved.load(snapshot.target.id)
        read = time.process_time()
    return round((written - started) * 1000, 1), round((read - written) * 1000, 1)


def run(url: str, repeat: int) -> dict[str, Any]:
    """Time the whole snapshot and the deltas on the kept site at ``url``."""
    kept = Path(url.removeprefix("sqlite:///"))
    folder = tempfile.TemporaryDirectory()
    copy = Path(folder.name) / "site.db"
    shutil.copyfile(kept, copy)  # the kept site stays as it was
    site = open_site(f"sqlite:///{copy}", kept.with_name(kept.name + ".key"))

    def build() -> GateSnapshot:
        return build_snapshot(site.context, site.sealer, site.door, MODEL, POLICY, gate_id=GATE)

    load = [round(x, 2) for x in os.getloadavg()]
    cold_ms, base_server = _cpu_ms(build, 1)
    base = snapshot_from_wire(snapshot_to_wire(base_server, GATE, KEY), GATE, KEY)
    gallery_digest(base_server.access.gallery)  # known to a server that sent it by delta
    result: dict[str, Any] = {"templates": len(base.access.gallery), "cold_build_cpu_ms": cold_ms}
    _enrol_one(site.store, site.sealer, site.site_id)
    result["build_after_enrolment_cpu_ms"], enrolled = _cpu_ms(build, 1)
    result["whole_after_enrolment"] = _whole(enrolled, repeat)
    result["delta_after_enrolment"], held = _delta(enrolled, base, base_server, repeat)
    leaving = next(p for p in held.access.gallery.person_ids() if p in held.access.people)
    erase_person(site.context, leaving)
    result["build_after_erasure_cpu_ms"], erased = _cpu_ms(build, 1)
    result["delta_after_erasure"], after = _delta(erased, held, enrolled, repeat)
    assert leaving not in after.access.gallery.person_ids()
    result["file_rewrite_cpu_ms"], result["file_load_cpu_ms"] = _file_ms(after)
    result["load_before"] = load
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    site.store.close()
    folder.cleanup()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/site25k.db")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.repeat), indent=1), flush=True)


if __name__ == "__main__":
    main()
