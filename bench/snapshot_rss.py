"""What a large site's snapshot costs a server process in memory: a build, then gate pulls.

On a site kept by ``bench/snapshot_scale.py`` (or ``bench/cold_rebuild.py``: its
``.after.db``), in one process: the resident set (``VmRSS``) and its peak (``VmHWM``),
in MiB, at the start, after a door's cold snapshot build, after encoding that snapshot
for one edge gate (``snapshot_to_wire``, then the JSON body a response sends) and after
a second gate's. Prints one JSON object; the load average with it.

    PYTHONPATH=src .venv/bin/python bench/snapshot_rss.py --url sqlite:////tmp/site25k.db
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from facegate.gate.snapshot_wire import snapshot_to_wire
from facegate.services.snapshots import build_snapshot
from kept_site import open_site
from snapshot_scale import MODEL, POLICY


def _memory() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process (MiB)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1]) // 1024
    return found


def run(url: str) -> dict[str, object]:
    """Build, then encode for two gates; the memory after each step."""
    site = open_site(url)
    steps: dict[str, object] = {"start": _memory()}
    snapshot = build_snapshot(site.context, site.sealer, site.door, MODEL, POLICY)
    steps["built"] = _memory()
    steps["templates"] = len(snapshot.access.gallery)
    for gate in ("g1", "g2"):
        body = json.dumps(snapshot_to_wire(snapshot, gate, os.urandom(32))).encode()
        steps[f"pulled_{gate}"] = _memory()
        steps["body_mb"] = round(len(body) / 2**20, 1)
        del body
    steps["load"] = os.getloadavg()[0]
    site.store.close()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    print(json.dumps(run(parser.parse_args().url)), flush=True)


if __name__ == "__main__":
    main()
