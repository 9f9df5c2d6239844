"""``facegate bench site``: one complex under load, on SQLite or PostgreSQL.

Order of a run: a fresh site (``facegate site init``, a scratch database for
PostgreSQL), the real people described and the fill fitted, the complex populated
through the services, ``facegate serve`` started, the edge gates started, then for
``duration_s`` the kiosks, edge gates, console user, snapshot puller and writer at once;
then the ramp (unpaced kiosks) for the saturation rate; then, with ``stills_s``, a
second server with liveness off for the photo people (reported apart); last the FPIR of
the real strangers against the gallery as stored.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import text

from facegate.bootstrap import SystemClock, build_engine, build_sealer, build_store
from facegate.config import Settings
from facegate.domain.errors import DuplicateFaceError
from facegate.domain.matching import pairwise_distances
from facegate.ports import TemplateSealer
from facegate.services.context import ServiceContext
from facegate.services.enrollment import DuplicateCheck
from facegate.services.identification import load_gallery
from facegate.sitebench import fill as fill_model
from facegate.sitebench import load, population, report
from facegate.sitebench.clients import Console, Kiosk, Presented, SnapshotProbe
from facegate.sitebench.corpus import Corpus, RealPerson
from facegate.sitebench.people import Cast, cast
from facegate.sitebench.processes import (
    Server,
    running_server,
    scratch_postgres,
    site_env,
    site_init,
    start_edge_gate,
)
from facegate.sitebench.writer import Toggled, Writer
from facegate.store.unit_of_work import SqlStore

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SiteBenchOptions:
    """What to run (defaults: the issue's default load)."""

    data: Path
    cache_dir: Path
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    residents: int = 2000
    templates: int = 3
    duration_s: float = 120.0
    kiosks: int = 2
    kiosk_fps: float = 5.0
    gates: int = 2
    gate_fps: float = 5.0
    writer_interval_s: float = 5.0
    video_step: int = 5
    clip_frames: int = 12
    gap_frames: int = 12
    stills_s: float = 30.0
    ramp_step_s: float = 8.0
    settle_s: float = 2.0
    liveness: str = "motion"
    seed: int = 0
    work_dir: Path | None = None


@dataclass
class Built:
    """The populated site."""

    settings: Settings
    store: SqlStore
    context: ServiceContext
    corpus: Corpus
    cast: Cast
    layout: population.Layout
    describer: population.CachedDescriber
    fill: fill_model.FillModel
    fill_residents: list[population.Resident]
    real: dict[str, population.Resident]
    staff_id: str
    keys: dict[str, str]
    roster: report.Roster
    model_id: str


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    if backend == "postgresql":
        with scratch_postgres() as url:
            yield url
    else:
        with nullcontext():
            yield None


def run_site_bench(options: SiteBenchOptions, say: Say) -> dict[str, object]:
    """Run the whole bench; the report (the contract's keys and more)."""
    folder = (
        nullcontext(str(options.work_dir))
        if options.work_dir is not None
        else tempfile.TemporaryDirectory(prefix="facegate-bench-site-")
    )
    with folder as tmp, _database(options.backend) as db_url:
        root = Path(tmp)
        (root / "site").mkdir(parents=True)
        env = site_env(root / "site", options.cache_dir, db_url, options.liveness)
        site_init(env)
        settings = Settings(data_dir=root / "site", cache_dir=options.cache_dir, db_url=db_url)
        built = _build(options, settings, say)
        try:
            result = _main_phase(options, built, env, root, say)
            if options.stills_s > 0:
                result["stills"] = _stills_phase(options, built, env, root, say)
            result.update(_fpir(built))
        finally:
            built.store.close()
    head = {"backend": options.backend, "residents": options.residents, **report.machine()}
    return {**head, **result, "liveness": options.liveness, "duration_s": options.duration_s}


def _build(options: SiteBenchOptions, settings: Settings, say: Say) -> Built:
    engine = build_engine(settings)
    say(f"describing the real people (cached in {options.cache_dir / 'sitebench'}) ...")
    corpus = Corpus(options.data, options.cache_dir)
    people = cast(
        corpus,
        engine,
        options.video_step,
        options.clip_frames,
        population.BUILDINGS,
    )
    model = fill_model.fit(people.groups(), options.seed)
    say(f"fill fitted: scale {model.scale:.2f}, KS {model.ks:.3f}; populating ...")
    store = build_store(settings)
    context = ServiceContext(store=store, clock=SystemClock(), actor="bench:site")
    sealer = build_sealer(settings)
    describer = population.CachedDescriber(engine.model_id, dict(people.vectors))
    layout = population.build_layout(context)
    roster = report.Roster()
    check = DuplicateCheck(settings.matching.duplicate_threshold)
    real = _enrol_real(context, sealer, describer, layout, people, roster, check)
    count = max(0, options.residents - len(real))
    enrolled = [people.vectors[k] for n in real for k in people.enrol_keys(_person(people, n))]
    drawn = fill_model.distinct_people(
        model, count, options.templates, np.stack(enrolled), check.threshold, options.seed
    )
    fill_residents = population.add_fill(
        context,
        sealer,
        engine.model_id,
        layout,
        drawn,
        lambda done: say(f"  {done} of {count} synthetic residents") if done % 250 == 0 else None,
    )
    staff = population.add_staff(context, layout)
    door_keys = population.issue_keys(context, layout)
    say(f"site ready: {len(real)} real and {count} synthetic residents")
    return Built(
        settings,
        store,
        context,
        corpus,
        people,
        layout,
        describer,
        model,
        fill_residents,
        real,
        staff,
        door_keys,
        roster,
        engine.model_id,
    )


def _person(people: Cast, name: str) -> RealPerson:
    return next(p for p in (*people.video, *people.photos) if p.name == name)


def _enrol_real(
    context: ServiceContext,
    sealer: TemplateSealer,
    describer: population.CachedDescriber,
    layout: population.Layout,
    people: Cast,
    roster: report.Roster,
    check: DuplicateCheck,
) -> dict[str, population.Resident]:
    """Enrol the real residents (with the duplicate check); refused ones become strangers."""
    real = {}
    for name, building in list(people.residents.items()):
        keys = people.enrol_keys(_person(people, name))
        try:
            real[name] = population.add_resident(
                context, sealer, describer, layout, name, keys, building, check
            )
        except DuplicateFaceError:
            people.residents.pop(name)
            people.refused.append(name)
            continue
        roster.set(name, building, time.time())
    return real


def _clips(built: Built, video: bool, frames: int, per_person: int = 4) -> list[load.Clip]:
    clips = []
    for person in built.cast.video if video else built.cast.photos:
        for keys in person.probes[:per_person]:
            images = built.corpus.clip(person, keys, frames)
            clips.append(load.Clip(person.name, tuple(load.jpeg(i) for i in images)))
    return clips


def audit_rows(built: Built) -> int:
    """Rows in the audit log now."""
    with built.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


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
            folder, door, clips, options.gap_frames, total, options.seed + 100 + n
        )
        process = start_edge_gate(
            env, server.url, door, built.keys[door], folder, options.gate_fps, root / "edge.log"
        )
        edges.append(load.EdgeRun(door, process, ranges, options.gate_fps))
    load.run_threads([e.read for e in edges])
    deadline = time.monotonic() + 180
    while any(not e.ready_at for e in edges) and time.monotonic() < deadline:
        if any(e.process.poll() is not None for e in edges):
            break
        time.sleep(0.5)
    return edges


def _main_phase(
    options: SiteBenchOptions, built: Built, env: dict[str, str], root: Path, say: Say
) -> dict[str, object]:
    clips = _clips(built, True, options.clip_frames)
    kiosk_doors, edge_doors = _doors(options, built.layout)
    with running_server(env, root / "serve.log") as server:
        edges = _start_edges(options, built, env, root, server, clips, edge_doors)
        say(f"server {server.url}, {len(edges)} edge gates; load for {options.duration_s:g} s")
        loaded = _load(options, built, server, clips, kiosk_doors, edge_doors)
        for edge in edges:
            edge.process.terminate()
        rss, ended = server.peak_rss_mb(), time.time() - 1.0
        for edge in edges:
            edge.process.wait(timeout=60)
        say(f"load done: {loaded['frames_posted']} kiosk frames; ramp ...")
        ramp = load.ramp(
            server.url,
            {d: built.keys[d] for d in built.layout.all_doors},
            clips[0],
            options.ramp_step_s,
            (1, 2, 4, 8),
            say,
        )
        rss_after_ramp = server.peak_rss_mb()
    at_edges = [p for e in edges for p in e.presented(ended)]
    presented = [*loaded.pop("presented"), *at_edges]  # type: ignore[misc]
    edge_latency = [a.latency_ms for p in at_edges for a in p.answers]
    judged = report.judge(built.roster, presented, _building_of(built), options.settle_s)
    _save(root / "presented.jsonl", built, presented)
    return {
        **loaded,
        **judged,
        "edge_decision_p50_ms": report.percentile(edge_latency, 50),
        "edge_decision_p95_ms": report.percentile(edge_latency, 95),
        "edge_presentations": len(at_edges),
        "peak_rss_mb": rss,
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


def _load(
    options: SiteBenchOptions,
    built: Built,
    server: Server,
    clips: list[load.Clip],
    kiosk_doors: list[str],
    edge_doors: list[str],
) -> dict[str, object]:
    stop = threading.Event()
    kiosks = [Kiosk(server.url, d, built.keys[d], options.kiosk_fps) for d in kiosk_doors]
    console = Console(server.url, server.admin, server.password)
    probe_door = next(d for d in built.layout.all_doors if d not in (*kiosk_doors, *edge_doors))
    probe = SnapshotProbe(server.url, probe_door, built.keys[probe_door], built.model_id)
    probe.pull(conditional=False)
    writer = _writer(built, server)
    _warm_up(kiosks, console)
    audit_before, started = audit_rows(built), time.time()
    threads = load.run_threads(
        [
            *(
                load.kiosk_runner(k, clips, options.gap_frames, n, stop)
                for n, k in enumerate(kiosks)
            ),
            lambda: load.console_loop(console, stop),
            lambda: load.snapshot_loop(probe, stop),
            lambda: writer.run(stop, options.writer_interval_s),
        ]
    )
    stop.wait(options.duration_s)
    stop.set()
    elapsed, audit_added = time.time() - started, audit_rows(built) - audit_before
    for thread in threads:
        thread.join(timeout=120)
    answers = [a for k in kiosks for a in k.answers if a.sent_at < started + elapsed]
    for kiosk in kiosks:
        kiosk.close()
    console.close()
    reach = [r for r in writer.reach_s if r is not None]
    return {
        **report.frame_figures(answers),
        "snapshot_check_ms": report.percentile(probe.check_ms, 50),
        "snapshot_check_unchanged_304": probe.unchanged,
        "snapshot_rebuild_ms": report.percentile(probe.rebuild_ms, 50),
        "change_to_all_doors_s": round(max(reach), 2) if reach else None,
        "change_samples_s": [None if r is None else round(r, 2) for r in writer.reach_s],
        "audit_rows_per_hour": round(audit_added / elapsed * 3600.0),
        "audit_rows": audit_added,
        "frames_per_hour": round(len(answers) / elapsed * 3600.0),
        "console_p95_ms": report.percentile(console.latencies_ms, 95),
        "console_requests": len(console.latencies_ms),
        "console_failures": console.failures,
        "writer": {
            **writer.counts,
            "enrol_p50_ms": report.percentile(writer.enrol_ms, 50),
            "errors": writer.errors[:5],
        },
        "load_s": round(elapsed, 1),
        "presented": [p for k in kiosks for p in k.presented],
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


def _writer(built: Built, server: Server) -> Writer:
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
    )


def _stills_phase(
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
            [load.kiosk_runner(k, clips, options.gap_frames, n, stop) for n, k in enumerate(kiosks)]
        )
        stop.wait(options.stills_s)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    presented: list[Presented] = [p for k in kiosks for p in k.presented]
    answers = [a for k in kiosks for a in k.answers]
    figures = report.frame_figures(answers)
    judged = report.judge(built.roster, presented, _building_of(built), options.settle_s)
    _save(root / "presented.jsonl", built, presented)
    return {"liveness": "none", **figures, **judged}


def _fpir(built: Built) -> dict[str, object]:
    """Real strangers' images searched in the gallery as stored (and the fill's fit)."""
    policy, _ = built.settings.match_policy(built.model_id)
    gallery = load_gallery(built.context, build_sealer(built.settings), built.model_id)
    probes = built.cast.stranger_vectors()
    matched = sum(gallery.identify(p, policy.threshold, policy.min_margin).matched for p in probes)
    groups = built.cast.groups()
    measured = fill_model.impostor_distances(groups)
    real = np.concatenate(list(groups.values()))
    drawn = built.fill.people(300, 1, 7)[:, 0, :]
    synthetic = pairwise_distances(drawn, real).ravel()
    return {
        "stranger_fpir": round(matched / len(probes), 4) if len(probes) else None,
        "stranger_probes": len(probes),
        "real_residents": len(built.real),
        "real_refused_as_duplicates": built.cast.refused,
        "gallery_templates": len(gallery),
        "threshold": policy.threshold,
        "min_margin": policy.min_margin,
        "fill_fit": {
            "scale": round(built.fill.scale, 3),
            "ks": round(built.fill.ks, 4),
            "real_impostor_fmr": round(fill_model.fraction_below(measured, policy.threshold), 5),
            "synthetic_to_real_fmr": round(
                fill_model.fraction_below(synthetic, policy.threshold), 5
            ),
        },
    }
