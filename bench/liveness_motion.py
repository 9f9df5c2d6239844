"""The liveness cues on the attack suite and the shared live videos, per presentation.

    .venv/bin/python bench/liveness_motion.py --calibrate     # thresholds: calibration part
    .venv/bin/python bench/liveness_motion.py [--per-cell N]  # report: reporting part
    ... --save FILE / --load FILE   # keep the measures of a run / recompute its tables

A *presentation* is what the gate sees of one arrival: up to ``max_s`` seconds of frames
(3 s: the suite's clips are 75 frames at 25 frames/s), checked whenever the
:class:`LivenessSchedule` (in seconds, on the frames' own times) says a check is due,
plus one last check on a presentation's last frame (a clip ends at 2.96 s, before the
gate's last check at 3.0 s: the attacker is given that check anyway); it is live at the
first check the rule accepts. Rates are per presentation (ISO/IEC 30107-3), so every
check an attacker gets counts. ``--fps F`` feeds the frames at F frames/s instead of
25 (frames of the 25 frames/s sources picked by time), as a kiosk posts them.

Schedules (``--schedules``): ``slide`` (shipped: each check looks at the newest
``window_s``) and ``grow`` (each check looks at the whole presentation so far).

Calibration (``--calibrate``) runs the multi-frame cue on the attack suite's
*calibration* part's planar attacks (:data:`PLANAR_TYPES`, every motion type, both
distances) and prints, per measure, its largest value over each clip's checks and the
threshold 10 % above the largest over all clips; no live data is used.

The report, at the shipped :class:`MotionSettings` and frame-cue weights, on the
*reporting* part only (no person, clip or seed shared with calibration): APCER per
attack type (synthetic attacks; with the rule-of-3 95 % upper bound ``3/N`` when 0 of N
passed), and on the shared *real* live videos (``video/webcam_one_person.mp4``,
``video/talking_head.mp4``; one presentation starting every second, faces detected on
every frame as at the gate): BPCER and the median time to a live verdict (seconds from
the face's first frame to the deciding frame, on the frames' clock). Rows: each motion
measure alone at its threshold, the motion cue (any measure), the single-frame cue alone
(on each check's newest frame) and the shipped ``layered`` combination (both on the same
check). ``cost_ms``: each cue's own CPU time per check (median and 95th percentile; on
this machine, under whatever load it had).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.attack_suite import ATTACK_TYPES, PLANAR_TYPES, AttackSuite
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.frame_cue import frame_cue
from facegate.vision.liveness.motion import MotionSettings, measure_threshold, motion_cue
from facegate.vision.liveness.video import detect_faces, read_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MEASURES = ("parallax", "eye_change", "blink", "speech")
SCHEDULES = {"grow": LivenessSchedule(grow=True), "slide": LivenessSchedule()}
SOURCE_FPS = 25.0
ARRIVAL_EVERY_S = 1.0
VIDEOS = ("webcam_one_person.mp4", "talking_head.mp4")
MARGIN = 1.1

Check = dict[str, Any]
"""One check of a presentation: ``t`` (seconds in), ``motion`` (the cue's measures, or
``error``), ``frame`` (the frame cue's score and whether it was live), ``ms`` per cue."""
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


def checks(
    frames: list[tuple[float, FaceFrame]],
    schedule: LivenessSchedule,
    mesh: FaceMeshModel,
    settings: MotionSettings,
) -> list[Check]:
    """Both cues at every check of one presentation (see the module's docstring)."""
    seen, results = schedule.presentation(), []
    for n, (time_s, frame) in enumerate(frames):
        seen.add(time_s, frame)
        last = n == len(frames) - 1 and len(seen) >= schedule.min_frames
        if not (schedule.due(seen) or (last and seen.checked_s != seen.elapsed_s)):
            continue
        window = schedule.window(seen)
        seen.checked()
        started = time.process_time()
        motion = motion_cue(window, settings, mesh)
        middle = time.process_time()
        single = frame_cue(window[-1])
        ended = time.process_time()
        results.append(
            {
                "t": round(seen.elapsed_s, 4),
                "frames": len(window),
                "motion": {"error": motion.error} if motion.error else dict(motion.details),
                "frame": {"score": single.score, "live": single.live},
                "ms": {"motion": (middle - started) * 1000, "frame": (ended - middle) * 1000},
            }
        )
        if schedule.over(seen):
            break
    print(f"{len(results)} checks, live at {_first_motion(results)}", file=sys.stderr, flush=True)
    return results


def _first_motion(results: list[Check]) -> float | None:
    rule = motion_rule(MotionSettings(), None)
    return next((c["t"] for c in results if rule(c)), None)


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
            chunks.append([face for face in chunk if face is not None])
    return chunks


def motion_rule(settings: MotionSettings, measure: str | None) -> Rule:
    """The multi-frame cue (``None``: any measure) or one of its measures alone."""
    names = MEASURES if measure is None else (measure,)
    return lambda c: (
        "error" not in c["motion"]
        and any(c["motion"].get(m, 0.0) >= measure_threshold(m, settings) for m in names)
    )


def rules(settings: MotionSettings) -> dict[str, Rule]:
    """The report's rows: each measure alone, each cue alone, the shipped combination."""
    motion = motion_rule(settings, None)
    return {
        **{f"{m} alone": motion_rule(settings, m) for m in MEASURES},
        "motion cue": motion,
        "frame cue alone": lambda c: bool(c["frame"]["live"]),
        "layered (shipped)": lambda c: motion(c) and bool(c["frame"]["live"]),
    }


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
    mesh: FaceMeshModel,
    per_cell: int,
    kinds: tuple[str, ...],
    parts: tuple[str, ...],
    fps: float,
    schedules: tuple[str, ...],
) -> dict[str, Any]:
    """Every check of every presentation, per schedule: the raw measures (no threshold)."""
    settings = MotionSettings()
    out: dict[str, Any] = {"fps": fps, "per_cell": per_cell, "schedules": {}}
    for name in schedules:
        schedule = SCHEDULES[name]
        runs: dict[str, Any] = {"attacks": {}, "live": {}}
        for part in parts:
            if part == "live":
                for video in VIDEOS:
                    faces = video_faces(engine, data / "video" / video, suite.cache)
                    found = live_presentations(faces, schedule.max_s)
                    runs["live"][video] = [
                        checks(timed(p, fps), schedule, mesh, settings) for p in found
                    ]
                continue
            for clip in suite.clips(part, per_cell, kinds):  # type: ignore[arg-type]
                runs["attacks"].setdefault(part, {}).setdefault(clip.spec.kind, []).append(
                    checks(timed(clip.frames, fps), schedule, mesh, settings)
                )
        out["schedules"][name] = runs
    return out


def calibrate(runs: dict[str, Any]) -> dict[str, Any]:
    """Each measure's largest value on the calibration part's planar attacks."""
    clips = [
        p for kind in PLANAR_TYPES for p in runs["attacks"].get("calibration", {}).get(kind, [])
    ]
    peaks = np.array(
        [[max((c["motion"].get(m, 0.0) for c in p), default=0.0) for m in MEASURES] for p in clips]
    )
    top = peaks.max(axis=0) if len(clips) else np.zeros(len(MEASURES))
    return {
        "calibration_presentations": len(clips),
        "largest": {m: round(float(v), 4) for m, v in zip(MEASURES, top, strict=True)},
        "thresholds": {m: round(float(v) * MARGIN, 4) for m, v in zip(MEASURES, top, strict=True)},
    }


def report(runs: dict[str, Any]) -> dict[str, Any]:
    """The tables at the shipped settings: reporting part's attacks, the live videos."""
    settings = MotionSettings()
    attacks: dict[str, list[list[Check]]] = runs["attacks"].get("reporting", {})
    planar = [p for kind in PLANAR_TYPES for p in attacks.get(kind, [])]
    live: dict[str, list[list[Check]]] = runs["live"]
    everyone = [p for v in live.values() for p in v]
    rows = {}
    for name, accepts in rules(settings).items():
        rows[name] = {
            "synthetic_apcer": {
                **{kind: attack_rate(v, accepts) for kind, v in attacks.items() if v},
                "all_planar": attack_rate(planar, accepts),
            },
            "real_live_videos": {
                "all": bona_fide_rate(everyone, accepts),
                **{name: bona_fide_rate(v, accepts) for name, v in live.items()},
            },
        }
    return {
        "settings": {m: measure_threshold(m, settings) for m in MEASURES},
        "rows": rows,
        "cost_ms": cost([*everyone, *(p for v in attacks.values() for p in v)]),
    }


def _parts(args: argparse.Namespace) -> Iterator[str]:
    if args.parts:
        yield from (p for p in args.parts.split(",") if p)
    elif args.calibrate:
        yield "calibration"
    else:
        yield "reporting"
        yield "live"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Settings().cache_dir, help="suite clips")
    parser.add_argument("--per-cell", type=int, default=6, help="clips per type and distance")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--fps", type=float, default=SOURCE_FPS, help="frames per second fed")
    parser.add_argument("--schedules", default="slide", help="slide, grow or both (comma)")
    parser.add_argument("--parts", help="calibration, reporting, live (comma; default by mode)")
    parser.add_argument("--save", type=Path, help="write every check's measures here (JSON)")
    parser.add_argument("--load", type=Path, help="read the measures instead of measuring")
    parser.add_argument(
        "--kinds", default=",".join(ATTACK_TYPES), help="attack types, comma-separated"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    if args.load is not None:
        measured = json.loads(args.load.read_text())
    else:
        engine, mesh = build_engine(Settings()), FaceMeshModel()
        suite = AttackSuite(args.data, args.cache, engine)
        kinds = tuple(k for k in args.kinds.split(",") if k)
        if args.calibrate:
            kinds = tuple(k for k in kinds if k in PLANAR_TYPES)
        names = tuple(s for s in args.schedules.split(",") if s)
        measured = measure_all(
            engine,
            suite,
            args.data,
            mesh,
            args.per_cell,
            kinds,
            tuple(_parts(args)),
            args.fps,
            names,
        )
        if args.save is not None:
            args.save.write_text(json.dumps(measured))
    result: dict[str, Any] = {"fps": measured["fps"], "schedules": {}}
    for name, runs in measured["schedules"].items():
        schedule = SCHEDULES[name]
        table = calibrate(runs) if args.calibrate else report(runs)
        result["schedules"][name] = {"schedule": _schedule_json(schedule), **table}
    result["bench_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


def _schedule_json(schedule: LivenessSchedule) -> dict[str, Any]:
    return {
        "window_s": schedule.window_s,
        "step_s": schedule.step_s,
        "max_s": schedule.max_s,
        "min_frames": schedule.min_frames,
        "window_max_frames": schedule.window_max_frames,
        "grow": schedule.grow,
    }


if __name__ == "__main__":
    main()
