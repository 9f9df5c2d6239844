"""Fit the single-frame screen-and-print cue's weights on licence-clean calibration data.

    .venv/bin/python bench/fit_frame_cue.py [--data ../shared/data] [--per-cell 6]
        [--replay-per-cell 2] [--json]
    .venv/bin/python bench/fit_frame_cue.py --report [--per-cell 6] [--replay-per-cell 3]
    .venv/bin/python bench/fit_frame_cue.py --replays [--replay-per-cell 3]

``--report`` fits nothing: it runs the shipped weights on the suite's *reporting* part
(its live video's frames, every 2nd, and three frames of each attack clip, grey
sources included) and prints BPCER and APCER per attack type, per frame. ``--replays``
prints, per *presentation*, the phone and tablet replays of the reporting part through the shipped
``layered`` check (:func:`facegate.bootstrap_gate.build_gate_liveness` with default
settings: this cue voted over the presentation's frames AND the multi-frame cue, under
the gate's seconds schedule, one presentation), the same with this cue on each check's
newest frame only (the rule before the vote), and this cue alone both ways under the same
schedule (a replay is accepted when any check accepts it), with the one-sided 95 % upper
bound of each rate (Clopper-Pearson; with none accepted about the rule of three, 3 / n).

Live frames: every 10th frame of the attack suite's *calibration* live video(s)
(``split("calibration")``), with its primary face as the gate finds it, and every 5th
frame of ``video/several_people_walking.mp4`` (MIT; in no part of the suite) with every
face at least 40 pixels wide (other people, another camera, daylight). Attack frames: three frames
(first, middle, last) of every clip of the suite's calibration part, with the face's true
place; clips printed from grey photos (Yale, TV-cast) are left out, since a grey face
would teach the colour measure a difference no colour print shows. Nothing of NUAA and
nothing of the suite's reporting part is read, and neither are the three images of
``liveness/samples`` (they are reported on).

It prints the fitted :class:`facegate.vision.liveness.frame_cue.FrameCueWeights` as the
Python literal that goes into ``frame_cue.SHIPPED``, and the calibration error rates per
attack type at that threshold (calibration figures, not a report).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from facegate.bootstrap import build_engine
from facegate.bootstrap_gate import build_gate_liveness
from facegate.config import Settings
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.attack_suite import (
    ATTACK_TYPES,
    AttackSuite,
    Part,
    clip_specs,
    split,
)
from facegate.vision.liveness.check import FusedLivenessCheck, run_schedule
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.frame_cue import (
    FIT_MAX_BPCER,
    SHIPPED,
    FrameCueWeights,
    fit_weights,
)
from facegate.vision.liveness.frame_measures import MEASURES, measure_frame
from facegate.vision.liveness.motion import MotionSettings
from facegate.vision.liveness.video import read_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Settings().cache_dir
"""Where the suite's clips are rendered (the same cache as the other liveness benches)."""
CROWD = "several_people_walking.mp4"
CROWD_STEP = 5
CROWD_MIN_PX = 40
GREY_SOURCES = ("yale", "tvcast")
LIVE_STEP = 10
REPORT_LIVE_STEP = 2


def live_measures(engine: FaceEngine, videos: list[Path], step: int = LIVE_STEP) -> np.ndarray:
    rows = []
    for video in videos:
        for image in read_frames(video, 10_000, 0, step):
            face = engine.primary_face(image, describe=False)
            if face is not None and face.box.width >= 16:
                rows.append(measure_frame(image, face.box))
        print(f"{video.name}: {len(rows)} live frames so far", file=sys.stderr)
    return np.array(rows)


def crowd_measures(engine: FaceEngine, video: Path) -> np.ndarray:
    """Every face of at least :data:`CROWD_MIN_PX` pixels on every 5th frame of ``video``."""
    rows = [
        measure_frame(image, face.box)
        for image in read_frames(video, 10_000, 0, CROWD_STEP)
        for face in engine.analyze(image, describe=False)
        if face.box.width >= CROWD_MIN_PX
    ]
    print(f"{video.name}: {len(rows)} live faces", file=sys.stderr)
    return np.array(rows)


def replay_presentations(
    engine: FaceEngine, suite: AttackSuite, per_cell: int
) -> dict[str, dict[str, object]]:
    """Per presentation: the reporting part's replays through ``layered`` and this cue alone."""
    settings = Settings()
    check, schedule = build_gate_liveness(settings)
    assert check is not None
    replays = [kind for kind in ATTACK_TYPES if kind.startswith("replay")]
    outcome: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    newest = FusedLivenessCheck(
        None, MotionSettings(), mesh=FaceMeshModel(), frame=SHIPPED, frame_vote=None
    )
    checks = {
        "layered": check,
        "layered (newest frame)": newest,
        "frame": FusedLivenessCheck(frame=SHIPPED),
        "frame (newest frame)": FusedLivenessCheck(frame=SHIPPED, frame_vote=None),
    }
    for clip in suite.clips("reporting", per_cell, replays):
        for rule, each in checks.items():
            live = run_schedule(each, clip.frames, schedule, clip.fps).verdict.live
            outcome[clip.spec.kind][rule].append(live)
        print(
            f"{clip.spec.name}: {dict((r, v[-1]) for r, v in outcome[clip.spec.kind].items())}",
            file=sys.stderr,
        )
    for rule in checks:
        outcome["all"][rule] = [a for kind in replays for a in outcome[kind][rule]]
    return {
        kind: {rule: acceptance(v) for rule, v in rules.items()} for kind, rules in outcome.items()
    }


def acceptance(accepted: list[bool]) -> dict[str, object]:
    """Presentations, accepted, APCER and its one-sided 95 % upper bound (Clopper-Pearson;
    with none accepted, ``1 - 0.05 ** (1 / n)``, about the rule of three's ``3 / n``)."""
    from scipy.stats import beta

    n, k = len(accepted), int(sum(accepted))
    upper = float(beta.ppf(0.95, k + 1, n - k)) if k < n else 1.0
    return {"presentations": n, "accepted": k, "apcer": k / max(n, 1), "upper_95": upper}


def attack_measures(
    suite: AttackSuite,
    per_cell: int,
    replay_per_cell: int,
    part: Part = "calibration",
    kinds: tuple[str, ...] = ATTACK_TYPES,
) -> tuple[np.ndarray, list[str]]:
    """Measures of three frames of each clip: ``per_cell`` prints, ``replay_per_cell``
    replays per attack type (of ``kinds``) and distance."""
    prints = [kind for kind in kinds if not kind.startswith("replay")]
    replays = [kind for kind in kinds if kind.startswith("replay")]
    specs = clip_specs(part, suite.data, per_cell, prints)
    specs += clip_specs(part, suite.data, replay_per_cell, replays)
    if part == "calibration":  # grey sources are left out before they are rendered
        specs = [s for s in specs if not any(g in s.source.parts for g in GREY_SOURCES)]
    rows, found = [], []
    for spec in specs:
        clip = suite.clip(spec)
        if clip is None:
            continue
        frames = clip.frames
        for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
            try:
                rows.append(measure_frame(frame.image, frame.box))
            except ValueError:
                continue
            found.append(clip.spec.kind)
    return np.array(rows), found


def literal(weights: FrameCueWeights) -> str:
    def values(name: str) -> str:
        return "(" + ", ".join(f"{v:.6g}" for v in getattr(weights, name)) + ")"

    return (
        "SHIPPED: Final = FrameCueWeights(\n"
        f"    centre={values('centre')},\n"
        f"    scale={values('scale')},\n"
        f"    weights={values('weights')},\n"
        f"    bias={weights.bias:.6g},\n"
        f"    threshold={weights.threshold:.6g},\n"
        ")"
    )


def report(
    data: Path, per_cell: int, replay_per_cell: int, kinds: tuple[str, ...] = ATTACK_TYPES
) -> dict[str, object]:
    engine = build_engine(Settings())
    live = live_measures(engine, [*split("reporting", data).videos], REPORT_LIVE_STEP)
    suite = AttackSuite(data, CACHE, engine)
    attacks, kinds = attack_measures(suite, per_cell, replay_per_cell, "reporting", kinds)
    live_scores = np.array([SHIPPED.score(row) for row in live])
    by_kind: dict[str, list[float]] = defaultdict(list)
    for row, kind in zip(attacks, kinds, strict=True):
        by_kind[kind].append(SHIPPED.score(row))
    return {
        "live_frames": len(live),
        "bpcer": float(np.mean(live_scores < SHIPPED.threshold)),
        "apcer": {
            kind: {
                "frames": len(s),
                "accepted": int(np.sum(np.array(s) >= SHIPPED.threshold)),
                "rate": float(np.mean(np.array(s) >= SHIPPED.threshold)),
            }
            for kind, s in by_kind.items()
        },
        "all_attacks": float(np.mean([SHIPPED.score(r) >= SHIPPED.threshold for r in attacks])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-cell", type=int, default=6)
    parser.add_argument("--replay-per-cell", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(ATTACK_TYPES), help="attack types (comma list)")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--replays", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.replays:
        engine = build_engine(Settings())
        suite = AttackSuite(args.data, CACHE, engine)
        print(json.dumps(replay_presentations(engine, suite, args.replay_per_cell), indent=2))
        return
    if args.report:
        chosen = tuple(kind for kind in ATTACK_TYPES if kind in args.kinds.split(","))
        result = report(args.data, args.per_cell, args.replay_per_cell, chosen)
        print(json.dumps(result, indent=2))
        return
    started = time.perf_counter()
    engine = build_engine(Settings())
    live = np.concatenate(
        [
            live_measures(engine, [*split("calibration", args.data).videos]),
            crowd_measures(engine, args.data / "video" / CROWD),
        ]
    )
    suite = AttackSuite(args.data, CACHE, engine)
    chosen = tuple(kind for kind in ATTACK_TYPES if kind in args.kinds.split(","))
    attacks, kinds = attack_measures(suite, args.per_cell, args.replay_per_cell, kinds=chosen)
    measures = np.concatenate([live, attacks])
    labels = np.array([1] * len(live) + [0] * len(attacks))
    weights = fit_weights(measures, labels)
    live_scores = np.array([weights.score(row) for row in live])
    by_kind: dict[str, list[float]] = defaultdict(list)
    for row, kind in zip(attacks, kinds, strict=True):
        by_kind[kind].append(weights.score(row))
    result = {
        "live_frames": len(live),
        "attack_frames": len(attacks),
        "max_bpcer": FIT_MAX_BPCER,
        "calibration_bpcer": float(np.mean(live_scores < weights.threshold)),
        "calibration_apcer": {
            kind: float(np.mean(np.array(s) >= weights.threshold)) for kind, s in by_kind.items()
        },
        "kinds": list(chosen),
        "weights": dict(zip(MEASURES, weights.weights, strict=True)),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(json.dumps(result, indent=2), file=sys.stderr)
    print(literal(weights))


if __name__ == "__main__":
    main()
