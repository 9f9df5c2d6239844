"""Peak memory (RSS) of a gate process with a large gallery, run as ``facegate gate`` runs.

A child process builds the gate with ``build_gate`` (the default settings: motion liveness
with FaceMesh, simulated door, outbox, snapshot file, sync thread) from an in-memory
upstream whose snapshot holds ``--people`` people x ``--templates`` synthetic descriptors
(unit vectors scaled to the norm of dlib descriptors; memory does not depend on their
values), then feeds it the video frame by frame as ``facegate gate --video`` does. It
reports the peak RSS (``ru_maxrss``) and the RSS after each stage, in MiB, as JSON.

    .venv/bin/python bench/gate_rss.py ../shared/data [--people 2000 --templates 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as wall_time
from pathlib import Path
from typing import Any

VIDEO = Path("video") / "webcam_one_person.mp4"


def rss_mb() -> str:
    """The current and the peak resident set size so far (MiB), from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            fields[line[:5]] = round(int(line.split()[1]) / 1024.0)
    return f"{fields.get('VmRSS')} (peak {fields.get('VmHWM')})"


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


class MemoryUpstream:
    """A gate upstream that serves one fixed snapshot and accepts every event."""

    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot

    def fetch_snapshot(self, gate_id: str, target_id: str) -> Any:
        return self.snapshot

    def deliver(self, events: Any) -> int:
        return len(events)


def large_snapshot(model_id: str, people: int, templates: int) -> Any:
    import numpy as np

    from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
    from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
    from facegate.domain.matching import Gallery, MatchPolicy
    from facegate.domain.people import Role
    from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
    from facegate.domain.site import CredentialKind

    rng = np.random.default_rng(0)
    gallery, access = Gallery(), {}
    for index in range(people):
        rows = rng.standard_normal((templates, 128)).astype(np.float32)
        rows *= 0.95 / np.linalg.norm(rows, axis=1, keepdims=True)
        gallery.add(f"p{index:05d}", rows)
        access[f"p{index:05d}"] = PersonAccess(Role.RESIDENT)
    always = WeeklySchedule(
        "UTC", (TimeWindow(frozenset(range(7)), wall_time(0), wall_time(23, 59, 59)),)
    )
    rule = AccessRule("r", always, role=Role.RESIDENT, door_ids=frozenset({"door"}))
    data = AccessData(SiteMode.NORMAL, access, gallery, MatchPolicy(0.57, 0.0), rules=(rule,))
    target = Target("door", frozenset({CredentialKind.FACE}))
    now = datetime.now(UTC)
    return GateSnapshot(SNAPSHOT_FORMAT, "v1", now, "site", model_id, target, data)


def child(data: Path, people: int, templates: int, max_frames: int) -> dict[str, Any]:
    stages: dict[str, str] = {"start": rss_mb()}
    from facegate.bootstrap import ensure_site_key
    from facegate.bootstrap_gate import build_gate, build_gate_engine
    from facegate.config import Settings
    from facegate.gate.runner import run_source
    from facegate.gate.sources import OpenCvSource

    stages["imports"] = rss_mb()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="gate-rss-")))
    ensure_site_key(settings)
    engine = build_gate_engine(settings)
    stages["engine"] = rss_mb()
    snapshot = large_snapshot(engine.model_id, people, templates)
    stages["snapshot"] = rss_mb()
    running = build_gate(settings, "door", engine=engine, upstream=MemoryUpstream(snapshot))
    stages["gate_built"] = rss_mb()
    source = OpenCvSource(str(data / VIDEO))
    outcomes: list[str] = []
    running.start()
    started = time.perf_counter()
    try:
        frames = run_source(
            running.loop, _Limited(source, max_frames), lambda o: outcomes.append(o.decision.reason)
        )
    finally:
        source.close()
        running.stop()
    stages["after_run"] = rss_mb()
    return {
        "people": people,
        "templates": people * templates,
        "frames": frames,
        "decisions": len(outcomes),
        "seconds": round(time.perf_counter() - started, 1),
        "liveness": settings.gate.liveness,
        "backend": engine.embedder.backend,
        "rss_mb": stages,
        "peak_rss_mb": peak_mb(),
        "heavy_modules": sorted(
            m
            for m in ("sklearn", "scipy", "matplotlib", "onnxruntime", "sqlalchemy", "fastapi")
            if m in sys.modules
        ),
    }


class _Limited:
    """A frame source cut after ``limit`` frames (0: no limit)."""

    def __init__(self, source: Any, limit: int) -> None:
        self.source, self.limit, self.count = source, limit, 0

    def read(self) -> Any:
        if self.limit and self.count >= self.limit:
            return None
        self.count += 1
        return self.source.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--templates", type=int, default=3)
    parser.add_argument("--frames", type=int, default=0, help="at most this many (0: all)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.data, args.people, args.templates, args.frames)))
        return
    command = [sys.executable, __file__, "--child", str(args.data)]
    command += ["--people", str(args.people), "--templates", str(args.templates)]
    command += ["--frames", str(args.frames)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["children_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
