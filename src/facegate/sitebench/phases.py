"""The bench's phases on a running server: the load (with the ramp after it) and the stills."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from sqlalchemy import text

from facegate.bootstrap import build_sealer
from facegate.services.snapshots import SnapshotRequest, snapshot_version
from facegate.sitebench import load, population, report
from facegate.sitebench.clients import Console, FrameAnswer, Kiosk, Presented, SnapshotProbe
from facegate.sitebench.processes import EdgeGate, Server, running_server, start_edge_gate
from facegate.sitebench.setup import Built, Say, SiteBenchOptions
from facegate.sitebench.writer import CHANGE_CARDS, Toggled, Writer

IDLE_CHECKS = 50
"""Unchanged snapshot checks timed before the load starts (HTTP and database)."""

REACH_TIMEOUT_S = 30.0
"""How long the writer waits for a change to reach every door (a miss counts as this)."""


def _clips(built: Built, video: bool, frames: int, per_person: int = 4) -> list[load.Clip]:
    clips = []
    for person in built.cast.video if video else built.cast.photos:
        for keys in person.probes[:per_person]:
            images = built.corpus.clip(person, keys, frames)
            clips.append(load.Clip(person.name, tuple(load.jpeg(i) for i in images)))
    return clips


def _at(built: Built, door_id: str, clips: list[load.Clip], cards: bool) -> list[load.Clip]:
    """The rotation at a door: every clip, and the clips of the door's own residents again.

    A quarter to a third of the presentations are then residents at their own door, the rest
    residents of other buildings and strangers. With ``cards`` each shows a card with the
    face (:func:`shown_cards`).
    """
    building = built.layout.building_of(door_id)
    rotation = [*clips, *(c for c in clips if built.cast.residents.get(c.who) == building)]
    if not cards:
        return rotation
    return shown_cards(rotation, built.cast.residents, building)


def shown_cards(
    clips: list[load.Clip], residents: dict[str, int], building: int
) -> list[load.Clip]:
    """``clips`` with the card each person shows at a door of ``building``.

    A resident (or an erased one) shows their own card; a stranger shows the card of a
    real resident of that building (in turn: a card found or lent), so the face must
    refuse them.
    """
    holders = sorted(n for n, b in residents.items() if b == building)
    shown, lent = [], 0
    for clip in clips:
        if clip.who in residents or not holders:
            card = population.card_of(clip.who)
        else:
            card, lent = population.card_of(holders[lent % len(holders)]), lent + 1
        shown.append(replace(clip, card=card))
    return shown


def audit_head(built: Built) -> int:
    """The audit log's last sequence number now (0 when empty)."""
    with built.store.engine.connect() as connection:
        found = connection.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        return int(found or 0)


def audit_since(built: Built, after: int, until: int) -> dict[str, int]:
    """Audit rows with ``after < seq <= until``, counted by action."""
    query = text(
        "SELECT action, count(*) FROM audit_log WHERE seq > :after AND seq <= :until "
        "GROUP BY action ORDER BY count(*) DESC"
    )
    with built.store.engine.connect() as connection:
        rows = connection.execute(query, {"after": after, "until": until}).all()
    return {str(action): int(count) for action, count in rows}


def _doors(options: SiteBenchOptions, layout: population.Layout) -> tuple[list[str], list[str]]:
    """Kiosk doors (first door of building 1, 2 ...) and edge gate doors (second doors)."""
    kiosks = [layout.doors[k % population.BUILDINGS][0] for k in range(options.kiosks)]
    first = options.kiosks
    gates = [layout.doors[(first + g) % population.BUILDINGS][1] for g in range(options.gates)]
    return kiosks, gates


def _start_edges(
    options: SiteBenchOptions,
    built: Built,
    env: dict[str, str],
    root: Path,
    server: Server,
    clips: list[load.Clip],
    doors: list[str],
) -> list[load.EdgeRun]:
    total = int((options.duration_s + 30) * options.gate_fps)
    edges = []
    for n, door in enumerate(doors):
        folder = root / f"edge-{n}" / "frames"
        ranges = load.write_gate_frames(
            folder,
            door,
            _at(built, door, clips, not options.face_only),
            options.gap_frames,
            total,
            options.seed + 100 + n,
        )
        gate = EdgeGate(door, *population.issue_edge_key(built.context, door, f"bench edge {n}"))
        process = start_edge_gate(
            env, server.url, gate, folder, options.gate_fps, root / "edge.log", CHANGE_CARDS
        )
        edges.append(load.EdgeRun(door, process, ranges, options.gate_fps))
    load.run_threads([e.read for e in edges])
    deadline = time.monotonic() + 180
    while any(not e.ready_at for e in edges) and time.monotonic() < deadline:
        if any(e.process.poll() is not None for e in edges):
            break
        time.sleep(0.5)
    return edges


def main_phase(
    options: SiteBenchOptions, built: Built, env: dict[str, str], root: Path, say: Say
) -> dict[str, object]:
    """The server with kiosks, edge gates, console, snapshot puller and writer; then the ramp."""
    clips = _clips(built, True, options.clip_frames)
    kiosk_doors, edge_doors = _doors(options, built.layout)
    with running_server(env, root / "serve.log") as server:
        edges = _start_edges(options, built, env, root, server, clips, edge_doors)
        say(f"server {server.url}, {len(edges)} edge gates; load for {options.duration_s:g} s")
        loaded, at_kiosks = _load(options, built, server, clips, kiosk_doors, edges)
        for edge in edges:
            edge.process.terminate()
        ended = time.time() - 1.0
        for edge in edges:
            edge.process.wait(timeout=60)
        ramp, crashed = load.Ramp(), server.process.poll()
        if crashed is None:
            say(f"load done: {loaded['frames_posted']} kiosk frames; ramp ...")
            ramp = load.ramp(
                server.url,
                {d: built.keys[d] for d in built.layout.all_doors},
                clips[0],
                options.ramp_step_s,
                (1, 2, 4, 8, 16),
                say,
            )
        else:
            say(f"facegate serve DIED during the load (exit {crashed}): see {root / 'serve.log'}")
        rss_after_ramp = server.peak_rss_mb()
        crashed = server.process.poll()
    at_edges = [p for e in edges for p in e.presented(ended)]
    presented = [*at_kiosks, *at_edges]
    edge_latency = [a.latency_ms for p in at_edges for a in p.answers]
    judged = report.judge(built.roster, presented, _building_of(built), options.settle_s)
    _save(root / "presented.jsonl", built, presented)
    return {
        **loaded,
        **judged,
        "edge_decision_p50_ms": report.percentile(edge_latency, 50),
        "edge_decision_p95_ms": report.percentile(edge_latency, 95),
        "edge_presentations": len(at_edges),
        "kiosk_presentations": len(at_kiosks),
        "edge_frames_skipped": [e.end.get("skipped") for e in edges],
        "server_exit": crashed,
        "peak_rss_mb_after_ramp": rss_after_ramp,
        "saturation_frames_per_s": ramp.saturation_frames_per_s,
        "ramp": ramp.steps,
    }


def _save(path: Path, built: Built, presented: list[Presented]) -> None:
    """Each presentation as a JSON line (who, where, when, category, outcome, answers)."""
    building_of = _building_of(built)
    with path.open("a", encoding="utf-8") as out:
        for shown in presented:
            row = {
                "who": shown.who,
                "door": shown.door_id,
                "source": shown.source,
                "t": round(shown.started_at, 2),
                "category": report.category(built.roster, shown, building_of[shown.door_id]),
                "outcome": shown.outcome(),
                "answers": [(a.status, a.reason, a.granted, a.pending) for a in shown.answers],
            }
            out.write(json.dumps(row) + "\n")


def _building_of(built: Built) -> dict[str, int]:
    return {d: b for b, doors in enumerate(built.layout.doors) for d in doors}


@dataclass
class _Clients:
    """Everything that talks to the server during the load."""

    kiosks: list[Kiosk]
    console: Console
    probe: SnapshotProbe
    writer: Writer
    rss_mb: list[float] = field(default_factory=list)


def _clients(
    built: Built,
    server: Server,
    kiosk_fps: float,
    kiosk_doors: list[str],
    edges: list[load.EdgeRun],
) -> _Clients:
    kiosks = [Kiosk(server.url, d, built.keys[d], kiosk_fps) for d in kiosk_doors]
    console = Console(server.url, server.admin, server.password)
    busy = [*kiosk_doors, *(e.door_id for e in edges)]
    door = next(d for d in built.layout.all_doors if d not in busy)
    gate_id, key = population.issue_edge_key(built.context, door, "bench snapshot puller")
    match, _ = built.settings.match_policy(built.model_id)
    wanted = SnapshotRequest(door, built.model_id, match)  # the site's mode in force
    db_check = partial(snapshot_version, built.context, wanted)
    probe = SnapshotProbe(server.url, gate_id, key, built.model_id, db_check)
    return _Clients(kiosks, console, probe, _writer(built, server, edges))


def _load(
    options: SiteBenchOptions,
    built: Built,
    server: Server,
    clips: list[load.Clip],
    kiosk_doors: list[str],
    edges: list[load.EdgeRun],
) -> tuple[dict[str, object], list[Presented]]:
    """Everything at once for ``duration_s``; the figures and the kiosks' presentations."""
    stop = threading.Event()
    on = _clients(built, server, options.kiosk_fps, kiosk_doors, edges)
    on.probe.pull(conditional=False)
    _warm_up(on.kiosks, on.console)
    idle = on.probe.checks_now(IDLE_CHECKS)
    audit_before, started = audit_head(built), time.time()
    threads = load.run_threads(
        [
            *(
                load.kiosk_runner(
                    k,
                    _at(built, k.door_id, clips, not options.face_only),
                    options.gap_frames,
                    n,
                    stop,
                )
                for n, k in enumerate(on.kiosks)
            ),
            lambda: load.console_loop(on.console, stop),
            lambda: load.snapshot_loop(on.probe, stop),
            lambda: on.writer.run(stop, options.writer_interval_s),
            lambda: load.sample_loop(server.peak_rss_mb, on.rss_mb, stop),
        ]
    )
    stop.wait(options.duration_s)
    stop.set()
    elapsed, audit_after = time.time() - started, audit_head(built)
    for thread in threads:
        thread.join(timeout=120)
    answers = [a for k in on.kiosks for a in k.answers if a.sent_at < started + elapsed]
    for kiosk in on.kiosks:
        kiosk.close()
    on.console.close()
    on.probe.close()
    figures = _figures(on, answers, elapsed, audit_since(built, audit_before, audit_after))
    figures["snapshot_check_idle"] = idle
    return figures, [p for k in on.kiosks for p in k.presented]


def _figures(
    on: _Clients, answers: list[FrameAnswer], elapsed: float, audit: dict[str, int]
) -> dict[str, object]:
    """The load's figures (see docs/site-bench.md for each key)."""
    reach = [REACH_TIMEOUT_S if r is None else r for r in on.writer.reach_s]
    return {
        **report.frame_figures(answers),
        "snapshot_check_ms": report.percentile(on.probe.check_ms, 50),
        "snapshot_check_p95_ms": report.percentile(on.probe.check_ms, 95),
        "snapshot_check_db_ms": report.percentile(on.probe.db_ms, 50),
        "snapshot_check_unchanged_304": on.probe.unchanged,
        "snapshot_check_deltas": on.probe.deltas,
        "snapshot_changed_ms": report.percentile(on.probe.changed_ms, 50),
        "snapshot_changed_p95_ms": report.percentile(on.probe.changed_ms, 95),
        "snapshot_rebuild_ms": report.percentile(on.probe.rebuild_ms, 50),
        "change_to_all_doors_s": round(max(reach), 2) if reach else None,
        "change_samples_s": [round(r, 2) for r in reach],
        "change_timed_out": sum(r is None for r in on.writer.reach_s),
        "change_to_edge_gates_s": [
            None if r is None else round(r, 2) for r in on.writer.edge_reach_s
        ],
        "audit_rows_per_hour": round(sum(audit.values()) / elapsed * 3600.0),
        "audit_rows_by_action": audit,
        "frames_per_hour": round(len(answers) / elapsed * 3600.0),
        "console_p95_ms": report.percentile(on.console.latencies_ms, 95),
        "console_requests": len(on.console.latencies_ms),
        "console_p95_by_page_ms": {
            page: report.percentile(taken, 95) for page, taken in on.console.by_page_ms.items()
        },
        "console_failures": on.console.failures,
        "writer": {
            **on.writer.counts,
            "enrol_p50_ms": report.percentile(on.writer.enrol_ms, 50),
            "errors": on.writer.errors[:5],
        },
        "load_s": round(elapsed, 1),
        "peak_rss_mb": max(on.rss_mb, default=None),
    }


def _warm_up(kiosks: list[Kiosk], console: Console | None) -> None:
    """One empty frame per kiosk door and one console page first, not counted.

    The server loads its models and builds each door's pipeline on first use.
    """
    for kiosk in kiosks:
        kiosk.post(load.jpeg(load.GAP))
        kiosk.answers.clear()
    if console is not None:
        console.client.get("/console/doors")


def _writer(built: Built, server: Server, edges: list[load.EdgeRun]) -> Writer:
    toggled = [
        Toggled(name, built.cast.enrol_keys(p), built.cast.residents[name], built.real[name])
        for p in built.cast.video
        if (name := p.name) in built.real
    ]
    return Writer(
        built.context,
        build_sealer(built.settings),
        built.describer,
        built.layout,
        built.fill,
        built.fill_residents,
        toggled,
        built.roster,
        server.url,
        built.keys,
        built.staff_id,
        partial(load.edges_reach, edges) if edges else None,
    )


def stills_phase(
    options: SiteBenchOptions, built: Built, env: dict[str, str], root: Path, say: Say
) -> dict[str, object]:
    """Photo people as moving stills at the kiosks, on a server with liveness off."""
    clips = _clips(built, False, options.clip_frames, per_person=2)
    kiosk_doors, _ = _doors(options, built.layout)
    with running_server({**env, "FACEGATE_GATE__LIVENESS": "none"}, root / "serve.log") as server:
        say(f"stills (liveness off) for {options.stills_s:g} s ...")
        stop = threading.Event()
        kiosks = [Kiosk(server.url, d, built.keys[d], options.kiosk_fps) for d in kiosk_doors]
        _warm_up(kiosks, None)
        threads = load.run_threads(
            [
                load.kiosk_runner(
                    k,
                    _at(built, k.door_id, clips, not options.face_only),
                    options.gap_frames,
                    n,
                    stop,
                )
                for n, k in enumerate(kiosks)
            ]
        )
        stop.wait(options.stills_s)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        crashed = server.process.poll()
    presented: list[Presented] = [p for k in kiosks for p in k.presented]
    answers = [a for k in kiosks for a in k.answers]
    figures = report.frame_figures(answers)
    judged = report.judge(built.roster, presented, _building_of(built), options.settle_s)
    _save(root / "presented.jsonl", built, presented)
    return {"liveness": "none", "server_exit": crashed, **figures, **judged}
