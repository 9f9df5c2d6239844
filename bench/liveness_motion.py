"""The multi-frame (motion) cue on the attack suite and the shared live videos.

    .venv/bin/python bench/liveness_motion.py --calibrate   # thresholds: calibration part
    .venv/bin/python bench/liveness_motion.py [--per-cell N] # report: reporting part

A *presentation* is what the gate sees of one arrival: the schedule's ``max_frames``
frames (2 s at 25 fps), checked in windows at the :class:`LivenessSchedule`'s
checkpoints; it is live at the first window the rule accepts. Rates are per presentation
(ISO/IEC 30107-3), so an attacker's every window counts.

Calibration (``--calibrate``) runs the cue on the attack suite's *calibration* part's
planar attacks (:data:`PLANAR_TYPES`, every motion type, both distances) and prints,
per measure, its largest value over each clip's windows, and the threshold 10 % above
the largest over all clips; no live data is used.

The report, at the shipped :class:`MotionSettings`, on the *reporting* part only (no
person, clip or seed shared with calibration): APCER per attack type (synthetic attacks;
with the rule-of-3 95 % upper bound ``3/N`` when 0 of N passed), and on the shared *real*
live videos (``video/webcam_one_person.mp4``, ``video/talking_head.mp4``; one
presentation starting every second, faces detected on every frame as at the gate):
BPCER and the median time to a live verdict. Rows: each measure alone at its threshold
and the cue (any measure). Synthetic and real figures are printed apart.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.domain.liveness import CueResult, FaceFrame, LivenessSchedule
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.attack_suite import ATTACK_TYPES, PLANAR_TYPES, AttackSuite
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.motion import MotionSettings, measure_threshold, motion_cue
from facegate.vision.liveness.video import detect_faces, read_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MEASURES = ("parallax", "eye_change", "blink", "speech")
SCHEDULE = LivenessSchedule()
ARRIVAL_EVERY = 25
FPS = 25.0
VIDEOS = ("webcam_one_person.mp4", "talking_head.mp4")
MARGIN = 1.1

Presentation = list[CueResult]
"""The cue's result on each checkpoint window of one presentation, in order."""
Rule = Callable[[CueResult], bool]


def windows(frames: list[FaceFrame], mesh: FaceMeshModel, settings: MotionSettings) -> Presentation:
    """The cue's result at each checkpoint of one presentation (up to ``max_frames``)."""
    w, results = SCHEDULE.window_frames, []
    for seen in SCHEDULE.checkpoints():
        if seen > len(frames):
            break
        results.append(motion_cue(frames[seen - w : seen], settings, mesh))
    return results


def live_presentations(engine: FaceEngine, path: Path) -> list[list[FaceFrame]]:
    """Presentations of a live video: one starting every second, face on every frame."""
    faces = detect_faces(engine, read_frames(path, 100_000))
    chunks = []
    for start in range(0, len(faces) - SCHEDULE.max_frames + 1, ARRIVAL_EVERY):
        chunk = faces[start : start + SCHEDULE.max_frames]
        if all(face is not None for face in chunk):
            chunks.append([face for face in chunk if face is not None])
    return chunks


def first_live(presentation: Presentation, accepts: Rule) -> int | None:
    """Frames seen at the first accepted window, ``None`` when none was."""
    for seen, result in zip(SCHEDULE.checkpoints(), presentation, strict=False):
        if accepts(result):
            return seen
    return None


def rule(settings: MotionSettings, measure: str | None) -> Rule:
    """The acceptance rule of a row: the cue (``None``) or one of its measures alone."""
    if measure is None:
        return lambda r: r.live
    limit = measure_threshold(measure, settings)
    return lambda r: r.error is None and r.details.get(measure, 0.0) >= limit


def attack_rate(presentations: list[Presentation], accepts: Rule) -> dict[str, Any]:
    """APCER per presentation, with the rule-of-3 upper bound when none passed."""
    passed = sum(first_live(p, accepts) is not None for p in presentations)
    total = len(presentations)
    row: dict[str, Any] = {"accepted": passed, "presentations": total}
    row["apcer"] = round(passed / total, 4) if total else None
    if total and passed == 0:
        row["apcer_upper_95"] = round(3.0 / total, 4)
    return row


def bona_fide_rate(presentations: list[Presentation], accepts: Rule) -> dict[str, Any]:
    """BPCER per presentation and the median time to a live verdict (ms at 25 fps)."""
    firsts = [first_live(p, accepts) for p in presentations]
    passed = [f for f in firsts if f is not None]
    return {
        "presentations": len(firsts),
        "bpcer": round(1 - len(passed) / len(firsts), 4) if firsts else None,
        "time_to_live_p50_ms": round(float(np.median(passed)) / FPS * 1000) if passed else None,
    }


def calibrate(suite: AttackSuite, mesh: FaceMeshModel, per_cell: int) -> dict[str, Any]:
    """Each measure's largest value on the calibration part's planar attacks."""
    settings, peaks, names = MotionSettings(), [], []
    for clip in suite.clips("calibration", per_cell, PLANAR_TYPES):
        results = windows(clip.frames, mesh, settings)
        peaks.append([max((r.details.get(m, 0.0) for r in results), default=0.0) for m in MEASURES])
        names.append(clip.spec.name)
    table = np.array(peaks)
    top = table.max(axis=0)
    return {
        "calibration_presentations": len(names),
        "largest": {m: round(float(v), 4) for m, v in zip(MEASURES, top, strict=True)},
        "largest_clip": {
            m: names[int(i)] for m, i in zip(MEASURES, table.argmax(axis=0), strict=True)
        },
        "thresholds": {m: round(float(v) * MARGIN, 4) for m, v in zip(MEASURES, top, strict=True)},
    }


def report(
    engine: FaceEngine,
    suite: AttackSuite,
    data: Path,
    mesh: FaceMeshModel,
    per_cell: int,
    kinds: tuple[str, ...] = ATTACK_TYPES,
) -> dict[str, Any]:
    """Synthetic APCER on the reporting part and real BPCER on the live videos."""
    settings, started = MotionSettings(), time.perf_counter()
    attacks: dict[str, list[Presentation]] = {kind: [] for kind in ATTACK_TYPES}
    for clip in suite.clips("reporting", per_cell, kinds):
        attacks[clip.spec.kind].append(windows(clip.frames, mesh, settings))
    live = {
        name: [
            windows(p, mesh, settings) for p in live_presentations(engine, data / "video" / name)
        ]
        for name in VIDEOS
    }
    everyone = [p for v in live.values() for p in v]
    planar = [p for kind in PLANAR_TYPES for p in attacks[kind]]
    rows = {}
    for measure in (None, *MEASURES):
        accepts = rule(settings, measure)
        rows[measure or "motion_cue"] = {
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
        "schedule": {
            "window_frames": SCHEDULE.window_frames,
            "step_frames": SCHEDULE.step_frames,
            "max_frames": SCHEDULE.max_frames,
            "fps": FPS,
        },
        "settings": {m: measure_threshold(m, settings) for m in MEASURES},
        "rows": rows,
        "bench_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Settings().cache_dir, help="suite clips")
    parser.add_argument("--per-cell", type=int, default=6, help="clips per type and distance")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument(
        "--kinds", default=",".join(ATTACK_TYPES), help="attack types to report, comma-separated"
    )
    args = parser.parse_args()
    engine, mesh = build_engine(Settings()), FaceMeshModel()
    suite = AttackSuite(args.data, args.cache, engine)
    if args.calibrate:
        result = calibrate(suite, mesh, args.per_cell)
    else:
        kinds = tuple(k for k in args.kinds.split(",") if k)
        result = report(engine, suite, args.data, mesh, args.per_cell, kinds)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
