"""CPU time of the motion cue per check on the shared live videos, and where it goes.

    PYTHONPATH=src .venv/bin/python bench/liveness_check_cost.py [--presentations N]
        [--profile] [--save FILE]

Runs the motion cue as the gate does (the shipped :class:`LivenessSchedule`, 25 frames/s,
every check on the schedule's window, live or not, up to the presentation's end) on the
first N presentations of each live video (``webcam_one_person.mp4``,
``talking_head.mp4``), one compute thread as at a gate, and prints the motion cue's CPU
time per check (median, 95th percentile: process time, so other processes' load counts
only through caches and frequency) and per frame (all its checks' time over the frames
seen, including the frames measured as they come before the first check is due, as
the gate's ``prepare``). ``--profile`` adds the functions that took the most CPU time
(cProfile with a process-time timer); ``--save`` writes every check's measures.
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
from facegate.vision.liveness.motion import MotionSettings, motion_cue
from facegate.vision.liveness.motion_steps import steps
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
    schedule, motion = settings.gate.liveness_schedule(), MotionSettings()
    runs: list[list[dict[str, float]]] = []
    ms: list[float] = []
    ahead: list[float] = []
    frames_seen = 0
    for video in bench.VIDEOS:
        faces = bench.video_faces(engine, args.data / "video" / video, settings.cache_dir)
        for frames in bench.live_presentations(faces, schedule.max_s)[: args.presentations]:
            seen, run = schedule.presentation(), []
            for n, frame in enumerate(frames):
                seen.add(n / 25.0, frame)
                frames_seen += 1
                if not schedule.due(seen):  # measured as it comes, as the gate does
                    started = time.process_time()
                    steps(schedule.window(seen), motion, mesh)
                    ahead.append((time.process_time() - started) * 1000.0)
                    continue
                if args.profile:
                    profile.enable()
                started = time.process_time()
                result = motion_cue(schedule.window(seen), motion, mesh)
                ms.append((time.process_time() - started) * 1000.0)
                profile.disable()
                seen.checked()
                run.append(dict(result.details) if result.error is None else {})
                if schedule.over(seen):
                    break
            runs.append(run)
    out = {
        "checks": len(ms),
        "frames": frames_seen,
        "motion_ms_p50": round(float(np.median(ms)), 1),
        "motion_ms_p95": round(float(np.percentile(ms, 95)), 1),
        "motion_ms_per_frame": round(float(np.sum(ms) + np.sum(ahead)) / frames_seen, 1),
        "ahead_ms_p50": round(float(np.median(ahead)), 1) if ahead else None,
    }
    print(json.dumps(out))
    if args.save is not None:
        args.save.write_text(json.dumps(runs))
    if args.profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(14)
        print(text.getvalue())


if __name__ == "__main__":
    main()
