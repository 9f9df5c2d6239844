"""How long a card typed at a kiosk door waits while that door's frames stream (short check).

One thread posts the frames of ``--video`` to one door of the server's kiosk pipeline
(``PipelineDecider``, the gate's real face engine, no liveness check, an in-memory
one-person snapshot) back to back, as the kiosk page does while a face is pending; the
main thread types an unknown card at the same door every 0.2 s (``--cards`` times). Prints
the card answers' p50 / p95 / max and the frames' p50 (ms) as one JSON line. Before the
door's controller got its own lock (2026-11-28) a card waited for the frame being looked at.

    PYTHONPATH=src .venv/bin/python bench/kiosk_card_wait.py \
        --video ../shared/data/video/webcam_one_person.mp4
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from facegate.bootstrap import SystemClock
from facegate.bootstrap_gate import build_gate_engine
from facegate.config import Settings
from facegate.domain.gate import GateEvent, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.bench import bench_snapshot
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.server_side import ActuatorPool, PipelineDecider
from facegate.vision.images import ImageLimits, RgbImage


class OneSnapshot:
    """An upstream with one made-up resident for every door; events are dropped."""

    def __init__(self) -> None:
        resident = np.random.default_rng(0).standard_normal(128)
        resident /= np.linalg.norm(resident)
        self.snapshot = bench_snapshot([resident], MatchPolicy(0.57, 0.0))

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        return self.snapshot

    def deliver(self, events: Sequence[GateEvent]) -> int:
        return len(events)


def read_frames(video: Path, count: int) -> list[RgbImage]:
    """The first ``count`` frames of ``video`` (RGB)."""
    capture, frames = cv2.VideoCapture(str(video)), []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--cards", type=int, default=40)
    args = parser.parse_args()
    frames = read_frames(args.video, 60)
    engine = build_gate_engine(Settings())
    upstream = OneSnapshot()
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    with tempfile.TemporaryDirectory() as scratch:
        decider = PipelineDecider(
            lambda: engine,
            ActuatorPool(lambda target: SimulatedDoor(), upstream),
            SqliteOutbox(Path(scratch) / "outbox.db"),
            lambda: None,
            SystemClock(),
            options,
            ImageLimits(),
        )
        decider.decide_frame("bench-door", frames[0])  # the engine's first call
        stop, frame_ms, card_ms = threading.Event(), [], []

        def stream() -> None:
            index = 0
            while not stop.is_set():
                began = time.perf_counter()
                decider.decide_frame("bench-door", frames[index % len(frames)])
                frame_ms.append((time.perf_counter() - began) * 1000.0)
                index += 1

        streaming = threading.Thread(target=stream)
        streaming.start()
        for _ in range(args.cards):
            time.sleep(0.2)
            began = time.perf_counter()
            decider.decide_credential("bench-door", "card", "not-a-card")
            card_ms.append((time.perf_counter() - began) * 1000.0)
        stop.set()
        streaming.join()
    quantiles = statistics.quantiles(card_ms, n=20)
    print(
        json.dumps(
            {
                "card_p50_ms": round(statistics.median(card_ms), 1),
                "card_p95_ms": round(quantiles[18], 1),
                "card_max_ms": round(max(card_ms), 1),
                "frames": len(frame_ms),
                "frame_p50_ms": round(statistics.median(frame_ms), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
