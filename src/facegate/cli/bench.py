"""``facegate bench``: speed and agreement measured on the user's own machine."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr
from facegate.domain.errors import BadInputError, DataSetError
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD

if TYPE_CHECKING:
    from facegate.ports import Frame
    from facegate.vision.images import RgbImage

# The engines, OpenCV and the gate load inside the commands that use them.

bench_app = typer.Typer(
    help="Measure speed and agreement on real data (timings are this machine's).",
    no_args_is_help=True,
)

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="FACEGATE_SHARED_DATA",
        help="The real test data folder (holding faces/), e.g. ../shared/data.",
    ),
]


def measure_embedders(
    chips: Sequence[RgbImage], cache_dir: Path, threads: int | None, runs: int
) -> dict[str, Any]:
    """Time both backends on ``chips`` and compare their descriptors (the bench's report)."""
    from facegate.vision.embed_bench import agreement, per_face_ms
    from facegate.vision.embedding import DlibEmbedder
    from facegate.vision.onnx_embedding import OnnxEmbedder

    dlib = DlibEmbedder()
    onnx = OnnxEmbedder(cache_dir, threads=threads)
    dlib_b1, dlib_vectors = per_face_ms(dlib, chips, 1, runs)
    onnx_b1, onnx_vectors = per_face_ms(onnx, chips, 1, runs)
    onnx_b8, onnx_b8_vectors = per_face_ms(onnx, chips, 8, runs)
    single = agreement(dlib_vectors, onnx_vectors, DEFAULT_MATCH_THRESHOLD)
    batched = agreement(dlib_vectors, onnx_b8_vectors, DEFAULT_MATCH_THRESHOLD)
    return {
        "faces": len(chips),
        "runs": runs,
        "dlib_ms_b1": round(dlib_b1, 3),
        "onnx_ms_b1": round(onnx_b1, 3),
        "onnx_ms_b8": round(onnx_b8, 3),
        "speedup": round(dlib_b1 / onnx_b1, 2),
        "max_abs_diff": max(single.max_abs_diff, batched.max_abs_diff),
        "max_distance_diff": max(single.max_distance_diff, batched.max_distance_diff),
        "decisions_identical": single.decisions_identical and batched.decisions_identical,
        "pairs": single.pairs,
        "threshold": DEFAULT_MATCH_THRESHOLD,
        "onnx_threads": threads,
        "onnx_providers": onnx.providers,
        "cpu_count": os.cpu_count(),
    }


@bench_app.command("embed")
@handles_errors
def bench_embed(
    ctx: typer.Context,
    data: DataOption = Path("..") / "shared" / "data",
    faces: Annotated[int, typer.Option(min=2, help="Real chips to run (aligned if needed).")] = 200,
    runs: Annotated[int, typer.Option(min=1, help="Passes over the chips per timing.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Time dlib and ONNX descriptors on the same real chips and compare their outputs.

    Prints per-face medians at batch 1 (and 8 for ONNX) in milliseconds, the speed-up
    (dlib / ONNX at batch 1), the largest element difference of the descriptors, and
    whether every pair of chips gets the same verdict at the default threshold.
    """
    from facegate.vision.embed_bench import load_chips

    settings = settings_from(ctx)
    faces_root = data / "faces"
    if not faces_root.is_dir():
        raise DataSetError(f"no faces folder at {faces_root} (give --data)")
    chips = load_chips(faces_root, faces)
    stderr.print(f"{len(chips)} chips; timing dlib, then ONNX ...", highlight=False)
    report = measure_embedders(chips, settings.cache_dir, settings.embedding.threads, runs)
    if as_json:
        emit_json(report)
        return
    typer.echo(
        f"{report['faces']} faces: dlib {report['dlib_ms_b1']:.1f} ms/face (batch 1), ONNX "
        f"{report['onnx_ms_b1']:.1f} ms/face (batch 1), {report['onnx_ms_b8']:.1f} ms/face "
        f"(batch 8); speed-up {report['speedup']}x"
    )
    typer.echo(
        f"max |dlib - onnx| {report['max_abs_diff']:.2e}; {report['pairs']} pairs, decisions "
        f"{'identical' if report['decisions_identical'] else 'DIFFER'} at {DEFAULT_MATCH_THRESHOLD}"
    )


@bench_app.command("gate")
@handles_errors
def bench_gate(
    ctx: typer.Context,
    data: DataOption = Path("..") / "shared" / "data",
    enroll_s: Annotated[float, typer.Option(help="Enroll from the video's first seconds.")] = 10.0,
    arrival_s: Annotated[float, typer.Option(help="Seconds of video per simulated arrival.")] = 2.0,
    resolution: Annotated[
        str, typer.Option(help="Also run with frames letterboxed to WIDTHxHEIGHT (key hd).")
    ] = "1280x720",
    gallery_templates: Annotated[
        int, typer.Option(min=0, help="Templates of a gallery held for the memory figure.")
    ] = 6000,
    seconds: Annotated[
        float, typer.Option(min=0.0, help="Gate on at most this much video (0: all of it).")
    ] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Time the gate on real video (the person enrolled from its first seconds) and 1:N search.

    Prints the latency from the frame that completes a decision to the actuator command
    (p50, p95, ms), the time from a face's first frame to the command (p50, ms), per
    arrival the video time to its first decision (``arrivals``), the
    decision and frame rates, CPU ms per frame (all threads), the per-stage table,
    the same without the liveness check and at ``--resolution``, peak RSS (MiB, with
    ``--gallery-templates`` templates) and the search time (ms) in 1,000 to 1,000,000
    templates.
    """
    from facegate.bootstrap_gate import build_gate_engine, build_gate_liveness
    from facegate.gate import bench as gb

    settings = settings_from(ctx)
    size = _resolution(resolution)
    video = data / "video" / "webcam_one_person.mp4"
    if not video.is_file():
        raise DataSetError(f"no video at {video} (give --data)")
    engine = build_gate_engine(settings)  # the gate's engine and thread limits
    end_s = enroll_s + seconds if seconds > 0 else float("inf")

    def rest() -> Iterator[Frame]:  # decoded as the gate goes: the bench holds no video
        return gb.stream_frames(video, enroll_s, end_s)

    descriptors = gb.enroll_from_video(engine, gb.stream_frames(video, 0.0, enroll_s))
    if not descriptors:
        raise DataSetError(f"no usable face in the first {enroll_s} s of {video}")
    policy, _ = settings.match_policy(engine.model_id)
    liveness, schedule = build_gate_liveness(settings)
    snapshot = gb.bench_snapshot(descriptors, policy)
    held = gb.memory_gallery(gallery_templates)  # alive until the RSS figure is taken
    stderr.print(f"enrolled from {len(descriptors)} frames; gate on the rest ...")
    measured = gb.summarize(gb.run_gate(engine, snapshot, rest(), liveness, schedule, arrival_s))
    report: dict[str, Any] = dict(measured)
    if liveness is not None:
        stderr.print("... again without the liveness check ...")
        plain = gb.summarize(gb.run_gate(engine, snapshot, rest(), None, schedule, arrival_s))
        report["without_liveness"] = plain
        report["time_to_decision_ratio"] = round(
            measured["time_to_decision_p50_ms"] / max(plain["time_to_decision_p50_ms"], 1e-9), 2
        )
    if size is not None:
        stderr.print(f"... and at {resolution} ...")
        hd = gb.run_gate(engine, snapshot, rest(), liveness, schedule, arrival_s, size)
        report["hd"] = {"resolution": resolution, **gb.summarize(hd)}
    report["peak_rss_mb"] = gb.peak_rss_mb()
    report |= {
        "gallery_templates": len(held),
        "enrolled_from": f"every 5th frame of the first {enroll_s:g} s ({len(descriptors)} used)",
        "liveness": settings.gate.liveness,
        "detector": settings.gate.stream_detector().value,
        "threshold": policy.threshold,
        "cpu_count": os.cpu_count(),
        "threads": settings.gate.threads,
    }
    report["search_ms"] = gb.search_ms()
    report["search_peak_rss_mb"] = gb.peak_rss_mb()
    if as_json:
        emit_json(report)
        return
    typer.echo(
        f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, time to decision p50 "
        f"{report['time_to_decision_p50_ms']} ms, {report['frames_per_s']} frames/s, "
        f"{report['cpu_ms_per_frame']} CPU ms/frame, search {report['search_ms']} ms"
    )
    arrivals = report["arrivals"]
    typer.echo(
        f"arrivals {arrivals['decided']}/{arrivals['count']} decided; video time to decision "
        f"p50 {arrivals['frames_p50_ms']} ms (decided), {arrivals['all_p50_ms']} ms (all, "
        f"undecided as {arrivals['undecided_counted_as_ms']:g})"
    )
    for stage, row in report["stages"].items():
        typer.echo(
            f"  {stage:<10} p50 {row['p50_ms']:>8} ms  p95 {row['p95_ms']:>8} ms  "
            f"share {row['share']:.1%}"
        )


def _resolution(text: str) -> tuple[int, int] | None:
    """``WIDTHxHEIGHT`` as a pair (``""`` or ``none``: no such case)."""
    if text.strip().lower() in ("", "none"):
        return None
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or not (
        16 <= int(width) <= 7680 and 16 <= int(height) <= 4320
    ):
        raise typer.BadParameter(f"resolution must be WIDTHxHEIGHT, got {text!r}")
    return int(width), int(height)


@bench_app.command("site")
@handles_errors
def bench_site(
    ctx: typer.Context,
    data: DataOption = Path("..") / "shared" / "data",
    backend: Annotated[
        str, typer.Option(help="The site database: sqlite or postgresql (127.0.0.1:5432).")
    ] = "sqlite",
    residents: Annotated[int, typer.Option(min=1, help="Residents (3 templates each).")] = 2000,
    duration_s: Annotated[float, typer.Option(min=5, help="Seconds of load.")] = 120.0,
    kiosks: Annotated[int, typer.Option(min=0, max=4, help="Kiosks posting frames.")] = 2,
    kiosk_fps: Annotated[float, typer.Option(min=0.5, help="Frames/s per kiosk.")] = 5.0,
    gates: Annotated[int, typer.Option(min=0, max=4, help="Edge gate processes.")] = 2,
    stills_s: Annotated[
        float, typer.Option(min=0, help="Seconds of still photos with liveness off (0: none).")
    ] = 30.0,
    ramp_step_s: Annotated[float, typer.Option(min=1, help="Seconds per ramp level.")] = 8.0,
    video_step: Annotated[
        int, typer.Option(min=1, help="Every n-th frame of 25 frames/s videos (5: a 5 fps camera).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fill and the rotations.")] = 0,
    work_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the site, logs and presented.jsonl here (default: a temp dir)."),
    ] = None,
    face_only: Annotated[
        bool,
        typer.Option(
            "--face-only",
            help="Face-or-card doors and faces alone, searched 1:N with max_fpir 1 "
            "(not the shipped setting: a face alone opens nothing at this size).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """A synthetic complex under load: kiosks, edge gates, a console user and a writer.

    2,000 residents by default (real people of the shared data and a fill drawn to be as
    far from real faces as real strangers are), 4 buildings with 5 doors and a lift each,
    served by `facegate serve` on a fresh SQLite or PostgreSQL database. Doors take face
    and card together (the shipped setting for a complex this size); `--face-only` runs
    face-or-card doors with faces alone at max_fpir 1 instead. Prints frame
    decision latency (ms), the share of frames answered 503, snapshot check and rebuild
    times (ms), the time for a change to reach every door (s), audit rows per hour, the
    server's peak RSS (MiB), wrong decisions, the saturation rate (frames/s), console page
    p95 (ms) and the strangers' FPIR. Takes minutes; not for CI.
    """
    from facegate.sitebench.site import SiteBenchOptions, run_site_bench

    if backend not in ("sqlite", "postgresql"):
        raise BadInputError("--backend must be sqlite or postgresql")
    settings = settings_from(ctx)
    options = SiteBenchOptions(
        data=data,
        cache_dir=settings.cache_dir,
        backend="postgresql" if backend == "postgresql" else "sqlite",
        residents=residents,
        duration_s=duration_s,
        kiosks=kiosks,
        kiosk_fps=kiosk_fps,
        gates=gates,
        stills_s=stills_s,
        ramp_step_s=ramp_step_s,
        video_step=video_step,
        liveness=settings.gate.liveness,
        seed=seed,
        work_dir=work_dir,
        face_only=face_only,
    )
    report = run_site_bench(options, lambda line: stderr.print(line, highlight=False))
    if as_json:
        emit_json(report)
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")


@bench_app.command("mode")
@handles_errors
def bench_mode(
    residents: Annotated[
        int, typer.Option(min=0, help="Residents (a card and a rule each).")
    ] = 500,
    changes: Annotated[int, typer.Option(min=1, help="Mode changes measured.")] = 20,
    sync_interval_s: Annotated[float, typer.Option(min=0.1, help="The gate's poll (s).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the moments of the changes.")] = 0,
    push: Annotated[
        bool, typer.Option(help="Run the mode push beside the poll (--no-push: poll alone).")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """How long a site mode change takes to reach a running gate (SQLite, seconds).

    Prints apply_p50_s, apply_p95_s, apply_max_s (from `set_mode` to the gate deciding in
    the new mode; for free passage, to the door's unlock command) and lost changes.
    """
    from facegate.sitebench.mode import ModeBenchOptions, run_mode_bench

    options = ModeBenchOptions(residents, changes, sync_interval_s, seed, push=push)
    report = run_mode_bench(options, lambda line: stderr.print(line, highlight=False))
    if as_json:
        emit_json(report)
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")


@bench_app.command("lane")
@handles_errors
def bench_lane(
    ctx: typer.Context,
    data: DataOption = Path("..") / "shared" / "data",
    rates: Annotated[
        str, typer.Option(help="Arrival rates to try, people/min, comma-separated, rising.")
    ] = "10,15,20,25,30,40,50,60",
    walking: Annotated[
        bool, typer.Option(help="Also run the walking video against its labels.")
    ] = True,
    every_frame: Annotated[
        bool,
        typer.Option(
            help="Take every frame however long it takes (what the lane does on a machine "
            "that keeps up) instead of real time."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The lane profile's capacity on synthetic streams made from the shared live videos.

    Raises the arrival rate until fewer than 99 % of people are decided before the gate
    line or a decision is paired with the wrong person; prints the highest rate that
    passed (people_per_min per lane), the decision latency from the first usable face
    (decision_p50_ms, decision_p95_ms) and the wrong pairings at it, with the liveness
    check as configured and, when one is, again without it. Runs in real time (minutes;
    --every-frame: every frame, however long it takes); not for CI.
    """
    from facegate.bootstrap_gate import build_gate_engine, build_gate_liveness
    from facegate.lanebench import sweep as lane
    from facegate.lanebench.run import lane_snapshot
    from facegate.lanebench.sources import load_sources

    try:
        tried = [float(r) for r in rates.split(",") if r.strip()]
    except ValueError as err:
        raise BadInputError(f"--rates {rates!r}: numbers separated by commas") from err
    if not tried or any(r <= 0 for r in tried):
        raise BadInputError("--rates needs at least one positive rate")
    settings = settings_from(ctx)
    lane_gate = replace(settings.gate, profile="lane")
    engine = build_gate_engine(settings.model_copy(update={"gate": lane_gate}))
    script = lane.shipped_script()
    stderr.print("reading and enrolling the live videos ...")
    sources = load_sources(script, data, engine)
    policy, _ = settings.match_policy(engine.model_id)
    snapshot = lane_snapshot(sources.enrolled, policy)
    liveness, schedule = build_gate_liveness(settings)
    log = lambda line: stderr.print(line, highlight=False)  # noqa: E731
    rig = lane.LaneRig(
        script, sources, engine, snapshot, liveness, schedule, realtime=not every_frame
    )
    report: dict[str, Any] = {**lane.sweep(rig, tried, log), "liveness": settings.gate.liveness}
    if liveness is not None:
        stderr.print("... and again without the liveness check, for comparison")
        plain = lane.sweep(replace(rig, liveness=None), tried, log)
        report["without_liveness"] = plain
    if walking:
        from facegate.lanebench.video import run_video

        stderr.print("... and the walking video against its hand-made labels")
        report["walking_video"] = run_video(lane.shipped_video_labels(), data, engine, policy)
    report.update(
        {
            "pace": "every frame" if every_frame else "real time",
            "line_fraction": script.line_fraction,
            "walkers_per_rate": len(script.walkers),
            "stream": f"{script.size[0]}x{script.size[1]} at {script.fps:g} fps",
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "cpu_count": os.cpu_count(),
        }
    )
    if as_json:
        emit_json(report)
        return
    typer.echo(
        f"{report['people_per_min']} people/min per lane, decision p50 "
        f"{report['decision_p50_ms']} ms, p95 {report['decision_p95_ms']} ms, "
        f"{report['wrong_pairings']} wrong pairings (liveness {report['liveness']})"
    )


@bench_app.command("dispense")
@handles_errors
def bench_dispense(
    ctx: typer.Context,
    data: DataOption = Path("..") / "shared" / "data",
    seed: Annotated[
        int, typer.Option(help="Seed of the people split (0: the shipped threshold's).")
    ] = 0,
    workers: Annotated[int, typer.Option(help="Processes describing the photos.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """The dispenser's repeat-detection and false-refusal rates at its shipped threshold.

    Measured on the held-out half of the shared identity sets (faces/att, yale, lfw10,
    johns, tvcast), split by people as the threshold's calibration was (seed 0): the
    threshold was chosen on the other half. See facegate.services.dispense_rates.
    """
    from facegate.bootstrap import build_photo_describer
    from facegate.gate.dispense_quota import DISPENSE_THRESHOLD
    from facegate.services.acquisition import acquire, find_identities
    from facegate.services.dispense_rates import dispense_rates, split_people

    faces = data / "faces"
    if not faces.is_dir():
        raise DataSetError(f"{faces}: not a folder (give --data, the shared data folder)")
    if workers < 1:
        raise BadInputError("--workers needs at least 1")
    people = find_identities(faces)
    _, held_out = split_people(people, seed)
    describer = build_photo_describer(settings_from(ctx), require_quality=False)
    paths = [path for person in held_out for path in sorted(people[person])]
    stderr.print(f"describing {len(paths)} photos of {len(held_out)} held-out people ...")
    described = acquire(paths, describer, workers=workers).descriptors
    descriptors = {
        person: [described[p] for p in sorted(people[person]) if p in described]
        for person in held_out
    }
    report = dispense_rates(descriptors, DISPENSE_THRESHOLD) | {
        "split_seed": seed,
        "threshold_chosen_on": "the calibration half of the same split (other people)",
        "undescribed_photos": len(paths) - len(described),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    if as_json:
        emit_json(report)
        return
    for key in ("repeat_detection", "false_refusal_one_served", "false_refusal_full_window"):
        row = report[key]
        typer.echo(f"{key}: {row['count']} of {row['of']} (upper 95 % {row['upper_95']})")
