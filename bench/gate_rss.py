"""Peak memory (RSS) of a gate process with a large gallery, run as ``facegate gate`` runs.

A child process builds the gate with ``build_gate`` (the default settings: motion liveness
with FaceMesh, simulated door, outbox, snapshot file, sync thread), then feeds it the video
frame by frame as ``facegate gate --video`` does. It reports the peak RSS (``ru_maxrss``)
and the RSS after each stage, in MiB, as JSON, with the sizes of the wire snapshot and of
the gate's snapshot file. The gallery holds ``--people`` people x ``--templates``
synthetic descriptors (random unit vectors: memory does not depend on their values).
``--upstream`` says where the gate's snapshot comes from:

- ``memory``: an in-memory upstream hands the gate the snapshot object (no wire);
- ``http``: the gate's real :class:`HttpUpstream` over an in-process HTTP transport that
  serves the snapshot in the wire format (sealed under the gate's device key), made
  beforehand by another process, as the site server would send it;
- ``store``: the gate reads a SQLite site database (``<data-dir>/facegate.db``, filled
  beforehand by another process) as ``facegate gate`` does with the ``store`` upstream.

    .venv/bin/python bench/gate_rss.py ../shared/data [--people 2000 --templates 3]
        [--upstream memory|http|store] [--frames N]
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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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


GATE_ID = "gate-1"
DEVICE_KEY = "bench-device-key-0123456789abcdef"
SERVER = "http://site.bench"


def _settings(data_dir: Path, upstream: str) -> Any:
    from pydantic import SecretStr

    from facegate.config import Settings

    settings = Settings(data_dir=data_dir)
    if upstream == "http":
        key = SecretStr(DEVICE_KEY)
        gate = replace(settings.gate, upstream="http", server_url=SERVER, device_key=key)
        settings = settings.model_copy(update={"gate": gate})
    return settings


def prepare(data_dir: Path, upstream: str, people: int, templates: int) -> dict[str, Any]:
    """Make what the gate child reads: the wire snapshot (http) or the site database (store)."""
    from facegate.bootstrap import build_engine, ensure_site_key

    settings = _settings(data_dir, upstream)
    ensure_site_key(settings)
    model_id = build_engine(settings).model_id
    if upstream == "http":
        from facegate.gate.snapshot_wire import gate_wire_key, snapshot_to_wire

        snapshot = large_snapshot(model_id, people, templates)
        wire = snapshot_to_wire(snapshot, GATE_ID, gate_wire_key(DEVICE_KEY, GATE_ID))
        body = json.dumps(wire).encode()
        (data_dir / "wire.json").write_bytes(body)
        return {"door": "door", "version": snapshot.version, "wire_bytes": len(body)}
    if upstream == "store":
        return {"door": _fill_store(settings, model_id, people, templates)}
    return {"door": "door"}


def _fill_store(settings: Any, model_id: str, people: int, templates: int) -> str:
    """A SQLite site of ``people`` residents x ``templates`` sealed templates; the door id."""
    from datetime import datetime as moment

    import snapshot_scale
    from facegate.bootstrap import build_sealer, build_store
    from facegate.domain.access import TimeWindow
    from facegate.domain.people import Role
    from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
    from facegate.services import places, site_admin
    from facegate.services.context import ServiceContext

    # Its fill seals templates of this model, consent given a day ago (in force now).
    snapshot_scale.MODEL = model_id
    snapshot_scale.NOW = datetime.now(UTC) - timedelta(days=1)
    store = build_store(settings, migrate=True)
    context = ServiceContext(store=store, clock=snapshot_scale.Clock(), actor="bench")
    site, _ = site_admin.init_site(context, "Bench", "UTC")
    door = places.add_door(
        context, "Main", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    ).id
    window = TimeWindow(frozenset(range(7)), moment.min.time(), moment.max.time())
    places.add_access_rule(context, [window], role=Role.RESIDENT, door_ids=[door])
    snapshot_scale._fill(store, build_sealer(settings), site.id, people, templates)
    store.close()
    return str(door)


def _http_upstream(data_dir: Path, model_id: str, version: str) -> Any:
    """The gate's real HTTP upstream over a transport serving ``wire.json`` (ETag: version)."""
    import httpx

    from facegate.gate.http_upstream import HttpUpstream

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            received = len(json.loads(request.content)["events"])
            return httpx.Response(200, json={"received": received, "new": received})
        if request.headers.get("If-None-Match") == f'"{version}"':
            return httpx.Response(304)
        body = (data_dir / "wire.json").read_bytes()
        headers = {"ETag": f'"{version}"', "Content-Type": "application/json"}
        return httpx.Response(200, content=body, headers=headers)

    client = httpx.Client(base_url=SERVER, transport=httpx.MockTransport(answer))
    return HttpUpstream(SERVER, GATE_ID, DEVICE_KEY, model_id, 5.0, client=client)


def child(
    data: Path, data_dir: Path, upstream_kind: str, prep: dict[str, Any], args: Any
) -> dict[str, Any]:
    """Build and run the gate; its RSS by stage and at peak."""
    stages: dict[str, str] = {"start": rss_mb()}
    from facegate.bootstrap_gate import build_gate, build_gate_engine
    from facegate.gate.runner import run_source
    from facegate.gate.sources import OpenCvSource

    stages["imports"] = rss_mb()
    settings = _settings(data_dir, upstream_kind)
    engine = build_gate_engine(settings)
    stages["engine"] = rss_mb()
    upstream: Any = None  # store: the gate's own, from its settings
    if upstream_kind == "memory":
        upstream = MemoryUpstream(large_snapshot(engine.model_id, args.people, args.templates))
    elif upstream_kind == "http":
        upstream = _http_upstream(data_dir, engine.model_id, prep["version"])
    stages["upstream"] = rss_mb()
    running = build_gate(settings, prep["door"], engine=engine, upstream=upstream)
    stages["gate_built"] = rss_mb()
    source = OpenCvSource(str(data / VIDEO))
    outcomes: list[str] = []
    running.start()
    started = time.perf_counter()
    try:
        frames = run_source(
            running.loop,
            _Limited(source, args.frames),
            lambda o: outcomes.append(o.decision.reason),
        )
    finally:
        source.close()
        running.stop()
    stages["after_run"] = rss_mb()
    saved = data_dir / "gate" / f"snapshot.{settings.gate.gate_id}.bin"
    return {
        "upstream": upstream_kind,
        "people": args.people,
        "templates": len(running.holder().access.gallery),
        "frames": frames,
        "decisions": len(outcomes),
        "seconds": round(time.perf_counter() - started, 1),
        "liveness": settings.gate.liveness,
        "backend": engine.embedder.backend,
        "rss_mb": stages,
        "peak_rss_mb": peak_mb(),
        "wire_bytes": prep.get("wire_bytes"),
        "snapshot_file_bytes": saved.stat().st_size if saved.exists() else None,
        "heavy_modules": sorted(
            m
            for m in (
                "sklearn",
                "scipy",
                "matplotlib",
                "onnxruntime",
                "sqlalchemy",
                "alembic",
                "fastapi",
            )
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
    parser.add_argument("--upstream", choices=("memory", "http", "store"), default="memory")
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stage", choices=("prepare", "gate"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "prepare":
        prep = prepare(args.data_dir, args.upstream, args.people, args.templates)
        print(json.dumps(prep))
        return
    if args.stage == "gate":
        prep = json.loads((args.data_dir / "prep.json").read_text())
        print(json.dumps(child(args.data, args.data_dir, args.upstream, prep, args)))
        return
    data_dir = Path(tempfile.mkdtemp(prefix="gate-rss-"))
    command = [sys.executable, __file__, str(args.data), "--data-dir", str(data_dir)]
    command += ["--people", str(args.people), "--templates", str(args.templates)]
    command += ["--frames", str(args.frames), "--upstream", args.upstream]
    prep = _run([*command, "--stage", "prepare"])
    (data_dir / "prep.json").write_text(json.dumps(prep))
    report = _run([*command, "--stage", "gate"])
    print(json.dumps(report, indent=2))


def _run(command: list[str]) -> dict[str, Any]:
    """Run one stage in its own process; its last line of output, as JSON."""
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(done.returncode)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    main()
