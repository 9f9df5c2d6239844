"""CPU time of the motion cue per check on the shared live videos, and where it goes.

    PYTHONPATH=src .venv/bin/python bench/liveness_check_cost.py [--presentations N]
        [--profile] [--save FILE]

Runs the checks of ``bench/liveness_motion.py`` (shipped schedule, 25 frames/s) on the
first N presentations of each live video (``webcam_one_person.mp4``,
``talking_head.mp4``), one compute thread as at a gate, and prints the motion cue's CPU
time per check (median, 95th percentile: process time, so other processes' load counts
only through caches and frequency). ``--profile`` adds the functions that took the most
CPU time (cProfile with a process-time timer); ``--save`` writes every check's
measures, so that two versions of the cue can be compared for equal results.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import liveness_motion as bench
from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.motion import MotionSettings
from facegate.vision.threads import limit_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=bench.DEFAULT_DATA)
    parser.add_argument("--presentations", type=int, default=6, help="per video")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    limit_threads(1)
    settings = Settings()
    engine, mesh = build_engine(settings), FaceMeshModel()
    profile = cProfile.Profile(time.process_time)
    runs = []
    for video in bench.VIDEOS:
        faces = bench.video_faces(engine, args.data / "video" / video, settings.cache_dir)
        for frames in bench.live_presentations(faces, 3.0)[: args.presentations]:
            schedule = bench.SCHEDULES["slide"]
            if args.profile:
                profile.enable()
            runs.append(bench.checks(bench.timed(frames, 25.0), schedule, mesh, MotionSettings()))
            profile.disable()
    ms = [c["ms"]["motion"] for run in runs for c in run]
    out = {
        "checks": len(ms),
        "motion_ms_p50": round(float(np.median(ms)), 1),
        "motion_ms_p95": round(float(np.percentile(ms, 95)), 1),
    }
    print(json.dumps(out))
    if args.save is not None:
        args.save.write_text(json.dumps([[c["motion"] for c in run] for run in runs]))
    if args.profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(14)
        print(text.getvalue())


if __name__ == "__main__":
    main()
