"""The lane on the bench's 10/min stream, taking every N-th frame whatever the time.

Deterministic counterpart of ``facegate bench lane``'s real-time play: the machine's load
changes how long it takes, not which frames the lane sees, so it shows what the number
of frames per walker does to the decisions (docs/lane.md "Why people_per_min was 0").

    PYTHONPATH=src python bench/lane_stride.py 5:on 5:off 2:on

Each argument is ``STRIDE:on|off`` (take every STRIDE-th frame, with or without the
configured liveness check); one JSON line per argument.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from facegate.bootstrap_gate import build_gate_engine, build_gate_liveness
from facegate.config import Settings
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.controller import Outcome
from facegate.gate.lane import LaneLoop
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.lanebench import sweep as lane
from facegate.lanebench.run import _Clock, lane_snapshot, render_stream, score
from facegate.lanebench.sources import load_sources


def main(runs: list[str], data: Path = Path("..") / "shared" / "data") -> None:
    """Run each ``STRIDE:on|off`` and print its row."""
    settings = Settings()
    # The lane profile's engine, as `facegate bench lane` builds it (its stream detector).
    lane_gate = replace(settings.gate, profile="lane")
    engine = build_gate_engine(settings.model_copy(update={"gate": lane_gate}))
    script = lane.shipped_script()
    sources = load_sources(script, data, engine)
    policy, _ = settings.match_policy(engine.model_id)
    snapshot = lane_snapshot(sources.enrolled, policy)
    liveness, schedule = build_gate_liveness(settings)
    walkers = script.at_rate(10.0)
    stream = render_stream(script, walkers, sources.clips)
    for run in runs:
        stride_text, live_text = run.split(":")
        stride, live = int(stride_text), live_text == "on"
        with tempfile.TemporaryDirectory() as folder:
            outbox = SqliteOutbox(Path(folder) / "outbox.db")
            options = LoopOptions("stride", 1.0, 0.6, schedule, 10.0, leave_after_s=0.0)
            loop = LaneLoop(
                engine,
                lambda: snapshot,
                SimulatedDoor(),
                outbox,
                liveness if live else None,
                _Clock(),
                options,
                line_fraction=script.line_fraction,
            )
            decisions: list[tuple[Outcome, float]] = []
            took: list[float] = []
            for index in range(0, len(stream.jpegs), stride):
                started = time.perf_counter()
                outcomes = loop.process(stream.frame(index))
                took.append(time.perf_counter() - started)
                at = index / stream.fps
                decisions.extend((o, at + o.latency_ms / 1000.0) for o in outcomes)
            outbox.close()
        result = score(stream, walkers, loop.crossings, decisions, 10.0)
        took.sort()
        row = {
            "stride": stride,
            "fps_seen": round(stream.fps / stride, 2),
            "liveness": live,
            "decided": result.decided,
            "walkers": result.walkers,
            "wrong": result.wrong_pairings,
            "missed": result.missed,
            "tracks": len({c.track_id for c in loop.crossings}),
            "frame_ms_p50": round(1000 * took[len(took) // 2], 1),
            "load": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
