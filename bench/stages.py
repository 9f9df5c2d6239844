"""Per-face time of each stage of the engine, as medians over many runs.

Real faces from ../shared/data/faces/lfw10 are placed in 640x480 frames (scaled to a
face of about 200 pixels, as a door camera sees a person at arm's length), and real empty
frames from ../shared/data/detection/noface are scaled to 640x480. Each stage is timed on
its own: HOG detection of a frame with a face, of an empty frame, 5-point landmarks, the
150x150 chip, and the descriptor (batch 1), then the whole pipeline.

    python bench/stages.py [--runs 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.vision.engine import FaceEngine
from facegate.vision.images import load_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def frame_640x480(image: np.ndarray) -> np.ndarray:
    """Scale ``image`` to 480 pixels high and centre it on a grey 640x480 frame."""
    height, width = image.shape[:2]
    scale = 480 / height
    scaled = Image.fromarray(image).resize((min(640, round(width * scale)), 480))
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(scaled, ((640 - scaled.width) // 2, 0))
    return np.asarray(canvas)


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def time_face_frame(engine: FaceEngine, frame: np.ndarray, runs: int) -> dict[str, float]:
    """Median milliseconds of each stage on one frame with a face (empty if none found)."""
    detections = engine.detector.detect(frame)
    if not detections:
        return {}
    boxes = [detections[0].box]
    shapes = engine.aligner.landmarks(frame, boxes)
    chips = engine.aligner.chips(frame, shapes)
    slow_runs = max(runs // 3, 3)
    return {
        "detect_640x480_ms": median_ms(partial(engine.detector.detect, frame), runs),
        "landmarks_ms": median_ms(partial(engine.aligner.landmarks, frame, boxes), runs),
        "chip_ms": median_ms(partial(engine.aligner.chips, frame, shapes), runs),
        "embed_b1_ms": median_ms(partial(engine.embedder.embed, chips), slow_runs),
        "pipeline_ms": median_ms(partial(engine.analyze, frame), slow_runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    # A door camera sees a stream of frames: no CNN fallback on the empty ones.
    settings = settings.model_copy(update={"detection": replace(settings.detection, fallback=None)})
    engine = build_engine(settings)
    faces = sorted((DATA / "faces" / "lfw10").rglob("*_0001.jpg"))
    frames = [frame_640x480(load_image(p)) for p in faces]
    empty = [
        frame_640x480(load_image(p))
        for p in sorted((DATA / "detection" / "noface" / "table-frames").glob("*.jpg"))[:5]
    ]
    stages: dict[str, list[float]] = {}
    for frame in frames:
        for key, value in time_face_frame(engine, frame, args.runs).items():
            stages.setdefault(key, []).append(value)
    for frame in empty:
        timing = median_ms(partial(engine.detector.detect, frame), args.runs)
        stages.setdefault("detect_empty_640x480_ms", []).append(timing)
    report = {k: round(statistics.median(v), 2) for k, v in stages.items() if v}
    report |= {"faces": len(stages.get("pipeline_ms", [])), "runs_per_face": args.runs}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
