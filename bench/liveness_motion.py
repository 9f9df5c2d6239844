"""The liveness cues on the attack suite and the shared live videos, per presentation.

    .venv/bin/python bench/liveness_motion.py --calibrate     # thresholds: calibration part
    .venv/bin/python bench/liveness_motion.py --calibrate-vote --per-cell 4  # the frame vote
    .venv/bin/python bench/liveness_motion.py [--per-cell N]  # report: reporting part
    ... --save FILE / --load FILE   # keep the measures of a run / recompute its tables

A *presentation* is what the gate sees of one arrival: up to ``max_s`` seconds of frames
(3 s: the suite's clips are 75 frames at 25 frames/s). The multi-frame cue is
incremental (each frame measured once against the one before, :mod:`facegate.vision.
liveness.motion_steps`), so a check costs little and the bench checks on *every* frame
from 0.3 s on (:data:`FIRST_S`), each check measuring several *spans* at once
(:data:`SPANS`: the newest 0.4, 0.5, 1 or 2 s, or the whole presentation so far, each
widened to ``min_frames`` frames). A *rule* is a first check time ``W`` and a span
``L``: checks from ``W`` on, each on its newest ``L`` seconds (``grow``: the whole
presentation); it is live at the first check it accepts. Rates are per presentation
(ISO/IEC 30107-3), so every check an attacker gets counts. ``--fps F`` feeds the frames
at F frames/s instead of 25 (frames of the 25 frames/s sources picked by time), as a
kiosk posts them.

Calibration (``--calibrate``) runs the multi-frame cue on the attack suite's
*calibration* part's planar attacks (:data:`PLANAR_TYPES`, every motion type, both
distances) and prints, per rule and measure, its largest value over each clip's checks
and the threshold 10 % above the largest over all clips; no live data is used.
``--thresholds FILE`` (the ``--calibrate`` output) makes the report use each rule's own
calibrated thresholds; without it every rule uses the shipped :class:`MotionSettings`.

The report, on the *reporting* part only (no person, clip or seed shared with
calibration): APCER per attack type (synthetic attacks; with the rule-of-3 95 % upper
bound ``3/N`` when 0 of N passed), and on the shared *real* live videos
(``video/webcam_one_person.mp4``, ``video/talking_head.mp4``; one presentation starting
every second, faces detected on every frame as at the gate): BPCER and the median time to
a live verdict (seconds from the face's first frame to the deciding frame, on the
frames' clock). Per rule: each motion measure alone at its threshold, the motion cue
(any measure), the single-frame cue alone (on each check's newest frame) and the
``layered`` combination (both on the same check). ``cost_ms``: the multi-frame cue's CPU
time per check (the new frame's step and every span's combination) and the single-frame
cue's (median and 95th percentile; on this machine, under whatever load it had).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.attack_suite import ATTACK_TYPES, PLANAR_TYPES, AttackSuite, split
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.frame_cue import FIT_MAX_BPCER, SHIPPED, frame_cue
from facegate.vision.liveness.frame_vote import SHIPPED_VOTE
from facegate.vision.liveness.motion import MotionSettings, measure_threshold, span_measures
from facegate.vision.liveness.motion_steps import steps
from facegate.vision.liveness.video import detect_faces, read_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MEASURES = ("parallax", "eye_change", "blink", "speech")
SPANS = {"0.4": 0.4, "0.5": 0.5, "1.0": 1.0, "2.0": 2.0, "grow": math.inf}
"""Seconds each check's spans look back (``grow``: the whole presentation so far)."""
FIRST_S = (0.3, 0.4, 0.5)
"""First check times the rules start at (seconds)."""
MAX_S = 3.0
SOURCE_FPS = 25.0
ARRIVAL_EVERY_S = 1.0
VIDEOS = ("webcam_one_person.mp4", "talking_head.mp4")
MARGIN = 1.1
REPLAY_TYPES = tuple(kind for kind in ATTACK_TYPES if kind.startswith("replay"))
FIRST_CHECK_FRAMES = 11
"""Frames of a presentation at its first check (0 to 0.4 s at 25 frames/s, both included)."""
VOTE_SHARES = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
"""Shares of accepted frames the frame vote's calibration tries (``--calibrate-vote``)."""
_EPSILON_S = 1e-6

Check = dict[str, Any]
"""One check of a presentation: ``t`` (seconds in), ``spans`` (per span, the motion cue's
measures, or ``error``), ``frame`` (the frame cue's score and whether it was live),
``ms`` per cue."""
Rule = Callable[[Check], bool]


def timed(frames: Sequence[FaceFrame], fps: float) -> list[tuple[float, FaceFrame]]:
    """``frames`` of a 25 frames/s source as a camera at ``fps`` would deliver them."""
    if fps >= SOURCE_FPS:
        return [(n / SOURCE_FPS, f) for n, f in enumerate(frames)]
    picked, next_s = [], 0.0
    for n, frame in enumerate(frames):
        if n / SOURCE_FPS >= next_s - 1e-6:
            picked.append((n / SOURCE_FPS, frame))
            next_s += 1.0 / fps
    return picked


def span_start(times: Sequence[float], look_back_s: float, min_frames: int) -> int:
    """Index of a span's first frame: the last at or before ``look_back_s`` ago, widened."""
    start = max(bisect_right(times, times[-1] - look_back_s + _EPSILON_S) - 1, 0)
    return min(start, max(len(times) - min_frames, 0))


def checks(
    frames: list[tuple[float, FaceFrame]],
    mesh: FaceMeshModel | None,
    settings: MotionSettings,
) -> list[Check]:
    """Both cues at every frame from the earliest first check on (module docstring).

    Without ``mesh`` the multi-frame cue is not run (``spans`` empty): the frame cue only.
    Each check also keeps the frame cue's scores of the frames since the previous check
    (``frame.scores``, the newest last): the frame vote's input.
    """
    results: list[Check] = []
    times: list[float] = []
    scored = 0
    for n, (time_s, _) in enumerate(frames):
        times.append(time_s - frames[0][0])
        if times[-1] < min(FIRST_S) - _EPSILON_S or n + 1 < settings.min_frames:
            continue
        seen = [frame for _, frame in frames[: n + 1]]
        earlier = [round(frame_cue(f).score, 5) for f in seen[scored:n]]
        scored = n + 1
        started = time.process_time()
        spans: dict[str, Any] = {}
        made = []
        try:
            made = steps(seen, settings, mesh) if mesh is not None else []
        except ValueError as err:  # the presentation's first frame cannot be measured
            spans = {name: {"error": str(err)} for name in SPANS}
        for name, look_back_s in SPANS.items():
            if not made:
                break
            first = made[span_start(times, look_back_s, settings.min_frames)]
            span = made[-1].span(first, settings.max_steps)
            if len(span) < settings.min_frames:
                spans[name] = {"error": f"followed through {len(span)} frames"}
                continue
            try:
                spans[name] = span_measures(span, with_mesh=True)
            except ValueError as err:
                spans[name] = {"error": str(err)}
        middle = time.process_time()
        single = frame_cue(seen[-1])
        ended = time.process_time()
        results.append(
            {
                "t": round(times[-1], 4),
                "spans": spans,
                "frame": {
                    "score": single.score,
                    "live": single.live,
                    "scores": [*earlier, round(single.score, 5)],
                },
                "ms": {"motion": (middle - started) * 1000, "frame": (ended - middle) * 1000},
            }
        )
        if times[-1] >= MAX_S - _EPSILON_S:
            break
    print(f"{len(results)} checks", file=sys.stderr, flush=True)
    return results


def video_faces(engine: FaceEngine, path: Path, cache: Path) -> list[FaceFrame | None]:
    """The primary face on every frame of ``path`` (HOG, as the gate); boxes cached."""
    images = read_frames(path, 100_000)
    stored = cache / f"faces-{path.stem}-{path.stat().st_size}.json"
    if stored.is_file():
        places = json.loads(stored.read_text())
        return [
            None if p is None else FaceFrame(image, Box(*p[0]), _landmarks(p[1]))
            for image, p in zip(images, places, strict=True)
        ]
    faces = detect_faces(engine, images)
    cache.mkdir(parents=True, exist_ok=True)
    places = [
        None if f is None else [f.box.as_list(), [list(p) for p in f.landmarks.points]]
        for f in faces
    ]
    stored.write_text(json.dumps(places))
    return faces


def _landmarks(points: list[list[float]]) -> FivePointLandmarks:
    return FivePointLandmarks(tuple((float(x), float(y)) for x, y in points))  # type: ignore[arg-type]


def live_presentations(faces: list[FaceFrame | None], max_s: float) -> list[list[FaceFrame]]:
    """Presentations of a live video: one starting every second, a face on every frame."""
    size, every = round(max_s * SOURCE_FPS) + 1, round(ARRIVAL_EVERY_S * SOURCE_FPS)
    chunks = []
    for start in range(0, len(faces) - size + 1, every):
        chunk = faces[start : start + size]
        if all(face is not None for face in chunk):
            # Fresh frames: a presentation measures its frames from its own start.
            chunks.append([FaceFrame(f.image, f.box, f.landmarks) for f in chunk if f])
    return chunks


Thresholds = dict[str, float]


def motion_rule(first_s: float, span: str, thresholds: Thresholds, measure: str | None) -> Rule:
    """The multi-frame cue (``None``: any measure) or one of its measures alone."""
    names = MEASURES if measure is None else (measure,)

    def accepts(c: Check) -> bool:
        found = c["spans"][span]
        return (
            c["t"] >= first_s - _EPSILON_S
            and "error" not in found
            and any(found.get(m, 0.0) >= thresholds[m] for m in names)
        )

    return accepts


def rules(
    first_s: float, span: str, thresholds: Thresholds, vote: float = SHIPPED_VOTE.share
) -> dict[str, Rule]:
    """The report's rows for one rule: each measure alone, each cue alone, both.

    ``frame cue alone`` and ``layered`` ask the frame cue about each check's newest
    frame (the rule before the vote); ``frame vote alone`` and ``layered (vote)`` about
    every frame so far (:func:`vote_rule`, at least ``vote`` of them accepted).
    """
    motion = motion_rule(first_s, span, thresholds, None)
    voted = vote_rule(first_s, vote)
    return {
        **{f"{m} alone": motion_rule(first_s, span, thresholds, m) for m in MEASURES},
        "motion cue": motion,
        "frame cue alone": lambda c: c["t"] >= first_s - _EPSILON_S and bool(c["frame"]["live"]),
        "layered": lambda c: motion(c) and bool(c["frame"]["live"]),
        "frame vote alone": voted,
        "layered (vote)": lambda c: motion(c) and voted(c),
    }


def vote_rule(first_s: float, share: float) -> Rule:
    """The frame vote: at least ``share`` of the frames so far accepted by the frame cue.

    Reads ``frame.share``, which :func:`with_shares` writes into each check.
    """

    def accepts(c: Check) -> bool:
        found = float(c["frame"].get("share", 0.0))
        return bool(c["t"] >= first_s - _EPSILON_S and found >= share - 1e-9)

    return accepts


def with_shares(presentations: Iterable[list[Check]]) -> None:
    """Write into each check the share of the presentation's frames so far that the frame
    cue accepts (``frame.share``, at the shipped weights' threshold)."""
    for presentation in presentations:
        scored = accepted = 0
        for c in presentation:
            scores = c["frame"].get("scores")
            if scores is None:  # a run saved before the vote: no per-frame scores
                break
            scored += len(scores)
            accepted += sum(score >= SHIPPED.threshold for score in scores)
            c["frame"]["share"] = accepted / max(scored, 1)


def first_live(presentation: list[Check], accepts: Rule) -> float | None:
    """Seconds into the presentation of the first accepted check, ``None`` when none was."""
    return next((c["t"] for c in presentation if accepts(c)), None)


def attack_rate(presentations: list[list[Check]], accepts: Rule) -> dict[str, Any]:
    """APCER per presentation, with the rule-of-3 upper bound when none passed."""
    passed = sum(first_live(p, accepts) is not None for p in presentations)
    total = len(presentations)
    row: dict[str, Any] = {"accepted": passed, "presentations": total}
    row["apcer"] = round(passed / total, 4) if total else None
    if total and passed == 0:
        row["apcer_upper_95"] = round(3.0 / total, 4)
    return row


def bona_fide_rate(presentations: list[list[Check]], accepts: Rule) -> dict[str, Any]:
    """BPCER per presentation and the median time to a live verdict (ms)."""
    firsts = [first_live(p, accepts) for p in presentations]
    passed = [f for f in firsts if f is not None]
    return {
        "presentations": len(firsts),
        "bpcer": round(1 - len(passed) / len(firsts), 4) if firsts else None,
        "time_to_live_p50_ms": round(float(np.median(passed)) * 1000) if passed else None,
    }


def cost(presentations: Sequence[list[Check]]) -> dict[str, Any]:
    """Each cue's CPU time per check: median and 95th percentile (ms), and the checks."""
    out: dict[str, Any] = {"checks": sum(len(p) for p in presentations)}
    for cue in ("motion", "frame"):
        ms = [c["ms"][cue] for p in presentations for c in p]
        if ms:
            out[cue] = {
                "p50": round(float(np.median(ms)), 1),
                "p95": round(float(np.percentile(ms, 95)), 1),
            }
    return out


def measure_all(
    engine: FaceEngine,
    suite: AttackSuite,
    data: Path,
    mesh: FaceMeshModel | None,
    per_cell: int,
    kinds: tuple[str, ...],
    parts: tuple[str, ...],
    fps: float,
    videos: tuple[str, ...] = VIDEOS,
) -> dict[str, Any]:
    """Every check of every presentation: the raw measures of every span (no threshold);
    without ``mesh`` the frame cue's scores only."""
    settings = MotionSettings()
    runs: dict[str, Any] = {"fps": fps, "per_cell": per_cell, "attacks": {}, "live": {}}
    for part in parts:
        if part == "live":
            for video in videos:
                faces = video_faces(engine, data / "video" / video, suite.cache)
                found = live_presentations(faces, MAX_S)
                runs["live"][video] = [checks(timed(p, fps), mesh, settings) for p in found]
            continue
        for clip in suite.clips(part, per_cell, kinds):  # type: ignore[arg-type]
            runs["attacks"].setdefault(part, {}).setdefault(clip.spec.kind, []).append(
                checks(timed(clip.frames, fps), mesh, settings)
            )
    return runs


def rule_names() -> Iterator[tuple[str, float, str]]:
    """Every rule: its name, first check time and span (spans no shorter than the first)."""
    for first_s in FIRST_S:
        for span, look_back_s in SPANS.items():
            if look_back_s >= first_s:
                yield f"first {first_s} s, span {span}", first_s, span


def calibrate(runs: dict[str, Any]) -> dict[str, Any]:
    """Per rule, each measure's largest value on the calibration part's planar attacks."""
    clips = [
        p for kind in PLANAR_TYPES for p in runs["attacks"].get("calibration", {}).get(kind, [])
    ]
    out: dict[str, Any] = {"calibration_presentations": len(clips), "rules": {}}
    for name, first_s, span in rule_names():
        top = {
            m: max(
                (
                    c["spans"][span].get(m, 0.0)
                    for p in clips
                    for c in p
                    if c["t"] >= first_s - _EPSILON_S
                ),
                default=0.0,
            )
            for m in MEASURES
        }
        out["rules"][name] = {
            "largest": {m: round(v, 4) for m, v in top.items()},
            "thresholds": {m: _round_up(v * MARGIN) for m, v in top.items()},
        }
    return out


def calibrate_vote(runs: dict[str, Any]) -> dict[str, Any]:
    """The frame vote's share, chosen on the calibration part and the calibration video.

    For each candidate share (:data:`VOTE_SHARES`) under the shipped schedule (a check on
    every frame from 0.4 s): the frame vote alone's APCER per attack type of the
    calibration part, and its BPCER and median time to live on the calibration live
    video's presentations; with the newest-frame rule beside it. Chosen: the largest
    share whose calibration BPCER is at most the frame cue's own fitting limit
    (:data:`facegate.vision.liveness.frame_cue.FIT_MAX_BPCER`, 2 %) *and* that a live
    face whose frames the cue refuses at that same rate, each independently, passes at
    the first check (:data:`FIRST_CHECK_FRAMES` frames) at least 98 % of the time
    (binomial; ``tolerant``): the calibration video's frames are all accepted, so it
    cannot tell the shares apart on the live side, and a vote that one refused frame
    spoils would refuse about 18 % of such faces.
    """
    attacks: dict[str, list[list[Check]]] = runs["attacks"].get("calibration", {})
    live: list[list[Check]] = [p for v in runs["live"].values() for p in v]
    with_shares([*live, *(p for v in attacks.values() for p in v)])
    first_s = 0.4
    newest: Rule = lambda c: c["t"] >= first_s - _EPSILON_S and bool(c["frame"]["live"])  # noqa: E731
    candidates = {"newest frame": newest} | {
        f"share {share}": vote_rule(first_s, share) for share in VOTE_SHARES
    }
    table: dict[str, Any] = {}
    for name, accepts in candidates.items():
        table[name] = {
            "synthetic_apcer": {
                **{kind: attack_rate(v, accepts) for kind, v in attacks.items() if v},
                "all": attack_rate([p for v in attacks.values() for p in v], accepts),
            },
            "real_live_video": bona_fide_rate(live, accepts),
        }
    for share in VOTE_SHARES:
        table[f"share {share}"]["tolerant"] = round(tolerant(share), 4)
    allowed = [
        share
        for share in VOTE_SHARES
        if table[f"share {share}"]["real_live_video"]["bpcer"] <= FIT_MAX_BPCER + 1e-9
        and tolerant(share) >= 1.0 - FIT_MAX_BPCER
    ]
    return {
        "live_videos": list(runs["live"]),
        "live_presentations": len(live),
        "attack_presentations": sum(len(v) for v in attacks.values()),
        "max_bpcer": FIT_MAX_BPCER,
        "chosen_share": max(allowed, default=None),
        "rules": table,
    }


def tolerant(share: float, frames: int = 0, refused: float = FIT_MAX_BPCER) -> float:
    """Chance that a vote of ``share`` accepts ``frames`` frames (default
    :data:`FIRST_CHECK_FRAMES`) when each is refused independently with ``refused``."""
    n = frames or FIRST_CHECK_FRAMES
    most = math.floor(n * (1.0 - share) + 1e-9)  # refused frames the vote can bear
    return sum(math.comb(n, k) * refused**k * (1 - refused) ** (n - k) for k in range(most + 1))


def _round_up(value: float) -> float:
    """``value`` rounded up to three significant digits."""
    if value <= 0.0:
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(value)) - 2)
    return round(math.ceil(value / scale - 1e-9) * scale, 6)


def report(runs: dict[str, Any], calibrated: dict[str, Any] | None) -> dict[str, Any]:
    """Per rule: the reporting part's attacks and the live videos at its thresholds."""
    shipped = MotionSettings()
    attacks: dict[str, list[list[Check]]] = runs["attacks"].get("reporting", {})
    planar = [p for kind in PLANAR_TYPES for p in attacks.get(kind, [])]
    live: dict[str, list[list[Check]]] = runs["live"]
    everyone = [p for v in live.values() for p in v]
    replays = [p for kind in REPLAY_TYPES for p in attacks.get(kind, [])]
    with_shares([*everyone, *(p for v in attacks.values() for p in v)])
    out: dict[str, Any] = {}
    for name, first_s, span in rule_names():
        if calibrated is not None:
            thresholds = calibrated["rules"][name]["thresholds"]
        else:
            thresholds = {m: measure_threshold(m, shipped) for m in MEASURES}
        rows = {}
        for row, accepts in rules(first_s, span, thresholds).items():
            rows[row] = {
                "synthetic_apcer": {
                    **{kind: attack_rate(v, accepts) for kind, v in attacks.items() if v},
                    "all_planar": attack_rate(planar, accepts),
                    **({"all_replays": attack_rate(replays, accepts)} if replays else {}),
                },
                "real_live_videos": {
                    "all": bona_fide_rate(everyone, accepts),
                    **{video: bona_fide_rate(v, accepts) for video, v in live.items()},
                },
            }
        out[name] = {"thresholds": thresholds, "rows": rows}
    return {
        "rules": out,
        "cost_ms": cost([*everyone, *(p for v in attacks.values() for p in v)]),
    }


def summary(table: dict[str, Any]) -> list[str]:
    """One line per rule: planar prints, bent, cut-out eyes accepted; BPCER; time to live."""
    lines = []
    for name, found in table["rules"].items():
        for row in ("motion cue", "layered", "frame vote alone", "layered (vote)"):
            r = found["rows"][row]
            apcer, live = r["synthetic_apcer"], r["real_live_videos"]["all"]
            kinds = [k for k in ("print_bent", "print_cutout_eyes", "all_replays") if k in apcer]
            lines.append(
                f"{name:26s} {row:16s} planar {apcer['all_planar']['accepted']}/"
                f"{apcer['all_planar']['presentations']} "
                + " ".join(
                    f"{k[6:]} {apcer[k]['accepted']}/{apcer[k]['presentations']}" for k in kinds
                )
                + f" | bpcer {live['bpcer']} of {live['presentations']},"
                f" live p50 {live['time_to_live_p50_ms']} ms"
            )
    return lines


def _parts(args: argparse.Namespace) -> Iterator[str]:
    if args.parts:
        yield from (p for p in args.parts.split(",") if p)
    elif args.calibrate:
        yield "calibration"
    elif args.calibrate_vote:
        yield "calibration"
        yield "live"
    else:
        yield "reporting"
        yield "live"


def _merge(loaded: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs saved by several processes (by part or kind) as one."""
    merged: dict[str, Any] = {**loaded[0], "attacks": {}, "live": {}}
    for run in loaded:
        for part, kinds in run["attacks"].items():
            for kind, presentations in kinds.items():
                merged["attacks"].setdefault(part, {}).setdefault(kind, []).extend(presentations)
        merged["live"].update(run["live"])
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Settings().cache_dir, help="suite clips")
    parser.add_argument("--per-cell", type=int, default=6, help="clips per type and distance")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument(
        "--calibrate-vote",
        action="store_true",
        help="the frame vote's share: frame cue only, calibration part and video",
    )
    parser.add_argument("--fps", type=float, default=SOURCE_FPS, help="frames per second fed")
    parser.add_argument("--parts", help="calibration, reporting, live (comma; default by mode)")
    parser.add_argument("--save", type=Path, help="write every check's measures here (JSON)")
    parser.add_argument(
        "--load", type=Path, nargs="+", help="read the measures (one or more runs) instead"
    )
    parser.add_argument("--thresholds", type=Path, help="a --calibrate output: each rule's own")
    parser.add_argument("--summary", action="store_true", help="one line per rule, no JSON")
    parser.add_argument(
        "--kinds", default=",".join(ATTACK_TYPES), help="attack types, comma-separated"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    if args.load is not None:
        measured = _merge([json.loads(path.read_text()) for path in args.load])
    else:
        engine = build_engine(Settings())
        mesh = None if args.calibrate_vote else FaceMeshModel()
        suite = AttackSuite(args.data, args.cache, engine)
        kinds = tuple(k for k in args.kinds.split(",") if k)
        if args.calibrate:
            kinds = tuple(k for k in kinds if k in PLANAR_TYPES)
        parts = tuple(_parts(args))
        videos: tuple[str, ...] = VIDEOS
        if args.calibrate_vote:  # the frame cue's own fitting video, never the reporting one
            videos = tuple(v.name for v in split("calibration", args.data).videos)
        measured = measure_all(
            engine, suite, args.data, mesh, args.per_cell, kinds, parts, args.fps, videos
        )
        if args.save is not None:
            args.save.write_text(json.dumps(measured))
    calibrated = None
    if args.thresholds is not None:
        calibrated = json.loads(args.thresholds.read_text())
    if args.calibrate:
        result = calibrate(measured)
    elif args.calibrate_vote:
        result = calibrate_vote(measured)
    else:
        result = report(measured, calibrated)
        if args.summary:
            print("\n".join(summary(result)))
            print(json.dumps(result["cost_ms"]))
            return
    result = {"fps": measured["fps"], **result, "bench_s": round(time.perf_counter() - started, 1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
