"""A door's cold snapshot build, this checkout against another, side by side (same sites).

A cold build is the first snapshot of a process (after a start, or once its template
cache lost the gallery): the site's rows read, every template of the gallery decrypted,
the gallery made. Each size's site is filled once by ``bench/snapshot_scale.py`` with
the ``--before`` checkout (``--templates`` per resident; kept as
``<dir>/cold<N>x<T>.before.db`` with its key beside it) and copied for this one
(``.after.db``, migrated to this checkout's head), then built ``--repeat`` times by each
checkout in turn, each build in a fresh process (``PYTHONPATH`` of that checkout's
``src``), alternating, so both see the same load.
Per build:

- ``build_ms`` / ``build_cpu_ms``: the process's first ``build_snapshot`` (wall, CPU);
- ``again_ms`` / ``again_cpu_ms``: a second one with an empty template cache and row
  memo (the same work without the first-call costs: imports, statement compilation);
- ``search_ms`` / ``search_cpu_ms``: the first search in the built gallery (its search
  index is made then; wall, CPU);
- ``peak_rss_mb`` and ``rss_added_mb``: the process's peak resident memory (VmHWM) after
  both builds, and how much above its peak before the first.

Prints one JSON line per size with both checkouts' medians (and the largest of the CPU
times, ``build_cpu_ms_max`` and ``again_cpu_ms_max``) and ``ratio`` (before / after, of
the CPU medians), and the load average at its start and end (CPU times depend less on
other load than wall times; both are stretched by a busy machine).

    PYTHONPATH=src .venv/bin/python bench/cold_rebuild.py --before ../main/src \\
        --people 2000 25000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(url: str) -> dict[str, float]:
    """One cold build in this process (the checkout on ``PYTHONPATH``); its figures."""
    import numpy as np

    from facegate.services.site_rows import ROWS, RowMemo
    from facegate.services.snapshots import TEMPLATES, TemplateCache, build_snapshot
    from kept_site import open_site
    from snapshot_scale import MODEL, POLICY

    site = open_site(url)
    before_kb = _peak_kb()
    figures: dict[str, float] = {}
    for name, fresh in (("build", False), ("again", True)):
        cache, memo = (TemplateCache(), RowMemo()) if fresh else (TEMPLATES, ROWS)
        wall, cpu = time.perf_counter(), time.process_time()
        snapshot = build_snapshot(
            site.context, site.sealer, site.door, MODEL, POLICY, cache=cache, memo=memo
        )
        figures[f"{name}_ms"] = (time.perf_counter() - wall) * 1000
        figures[f"{name}_cpu_ms"] = (time.process_time() - cpu) * 1000
    probe = np.ones(128, np.float32) / np.sqrt(128)
    wall, cpu = time.perf_counter(), time.process_time()
    snapshot.access.gallery.search(probe, POLICY)
    figures["search_ms"] = (time.perf_counter() - wall) * 1000
    figures["search_cpu_ms"] = (time.process_time() - cpu) * 1000
    figures["templates"] = len(snapshot.access.gallery)
    figures["peak_rss_mb"] = _peak_kb() / 1024
    figures["rss_added_mb"] = (_peak_kb() - before_kb) / 1024
    site.store.close()
    return figures


def _sites(directory: Path, people: int, per: int, before: str, after: str) -> tuple[str, str]:
    """The kept site of ``people`` residents for each checkout: the same rows.

    Filled once by ``snapshot_scale.py`` with the ``before`` checkout (its schema), and
    copied for ``after``, which migrates the copy to its own head (a new index, say).
    """
    path = directory / f"cold{people}x{per}"
    urls = (f"sqlite:///{path}.before.db", f"sqlite:///{path}.after.db")
    if not Path(f"{path}.after.db.key").exists():
        _run(before, "--fill", urls[0], str(people), str(per))
        for suffix in ("", ".key"):
            shutil.copyfile(f"{path}.before.db{suffix}", f"{path}.after.db{suffix}")
        _run(after, "--upgrade", urls[1])
    return urls


def _run(src: str, *args: str) -> str:
    """This script run with ``args`` on the checkout ``src``; its output's last line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((src, str(Path(__file__).parent)))}
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{src}: {done.stderr[-2000:]}")
    return done.stdout.splitlines()[-1] if done.stdout else ""


def _one(src: str, url: str) -> dict[str, float]:
    figures: dict[str, float] = json.loads(_run(src, "--child", url))
    return figures


def compare(before: str, after: str, urls: tuple[str, str], repeat: int) -> dict[str, object]:
    """Both checkouts' medians on their copies of a site, alternating, ``repeat`` each."""
    load = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(repeat):
        runs["before"].append(_one(before, urls[0]))
        runs["after"].append(_one(after, urls[1]))
    result: dict[str, object] = {"site": urls[1], "templates": runs["after"][0]["templates"]}
    for side, found in runs.items():
        figures = {
            key: round(statistics.median(r[key] for r in found), 1)
            for key in found[0]
            if key != "templates"
        }
        for key in ("build_cpu_ms", "again_cpu_ms"):  # "in every run": the worst too
            figures[f"{key}_max"] = round(max(r[key] for r in found), 1)
        result[side] = figures
    medians = {side: statistics.median(r["build_cpu_ms"] for r in runs[side]) for side in runs}
    result["ratio_build_cpu"] = round(medians["before"] / medians["after"], 2)
    again = {side: statistics.median(r["again_cpu_ms"] for r in runs[side]) for side in runs}
    result["ratio_again_cpu"] = round(again["before"] / again["after"], 2)
    result["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="the other checkout's src directory")
    parser.add_argument("--people", type=int, nargs="+", default=[2000, 25000])
    parser.add_argument("--templates", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--fill", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--upgrade", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)), flush=True)
        return
    if args.fill:
        import snapshot_scale

        url, people, per = args.fill
        print(json.dumps(snapshot_scale.run(url, int(people), int(per))), flush=True)
        return
    if args.upgrade:
        from facegate.store.database import create_db_engine, upgrade

        upgrade(create_db_engine(args.upgrade))
        return
    if not args.before:
        parser.error("--before is required")
    after = str(Path(__file__).resolve().parent.parent / "src")
    for people in args.people:
        urls = _sites(args.dir, people, args.templates, args.before, after)
        print(json.dumps(compare(args.before, after, urls, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
