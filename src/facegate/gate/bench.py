"""``facegate bench gate``: the gate's latency on real video, and 1:N search times.

The person in the video is enrolled from frames of its first ``enroll_s`` seconds (every
5th frame whose face passes the quality gate); the gate then runs on the rest, as fast
as it can, with the liveness check as configured. To get many decisions from one
person, the tracker is reset every ``arrival_s`` seconds of video: each reset is a new
arrival, decided from its first frames again.
"""

from __future__ import annotations

import resource
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as wall_time
from pathlib import Path
from typing import Any

import numpy as np

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.sources import OpenCvSource
from facegate.ports import Frame, LivenessCheck
from facegate.vision.engine import FaceEngine

SEARCH_SIZES = (1_000, 50_000, 1_000_000)


def enroll_from_video(engine: FaceEngine, frames: list[Frame]) -> list[FloatArray]:
    """Descriptors of every 5th frame's primary face that passes the quality gate."""
    descriptors = []
    for frame in frames[::5]:
        face = engine.primary_face(frame.image)
        if face is not None and face.verdict.passed and face.descriptor is not None:
            descriptors.append(face.descriptor)
    return descriptors


def bench_snapshot(descriptors: list[FloatArray], match: MatchPolicy) -> GateSnapshot:
    """A snapshot with one enrolled person allowed through ``bench-door`` at all times."""
    gallery = Gallery()
    gallery.add("bench-person", descriptors)
    always = WeeklySchedule(
        "UTC", (TimeWindow(frozenset(range(7)), wall_time(0), wall_time(23, 59, 59)),)
    )
    rule = AccessRule("r", always, person_id="bench-person", door_ids=frozenset({"bench-door"}))
    access = AccessData(
        SiteMode.NORMAL,
        {"bench-person": PersonAccess(Role.RESIDENT)},
        gallery,
        match,
        rules=(rule,),
    )
    target = Target("bench-door", frozenset({CredentialKind.FACE, CredentialKind.CARD}))
    return GateSnapshot(
        SNAPSHOT_FORMAT, "bench", datetime.now(UTC), "bench", "bench", target, access
    )


def read_frames(video: Path) -> list[Frame]:
    """Every frame of ``video``."""
    source, frames = OpenCvSource(str(video)), []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


def run_gate(
    engine: FaceEngine,
    snapshot: GateSnapshot,
    frames: list[Frame],
    liveness: LivenessCheck | None,
    schedule: LivenessSchedule,
    arrival_s: float,
) -> tuple[list[Outcome], float]:
    """Run the loop over ``frames``; returns its outcomes and the wall time (s)."""
    with tempfile.TemporaryDirectory() as folder:
        outbox = SqliteOutbox(Path(folder) / "outbox.db")
        options = LoopOptions("bench", 5.0, 15, schedule, 10.0)
        clock = _Clock()
        loop = GateLoop(engine, lambda: snapshot, SimulatedDoor(), outbox, liveness, clock, options)
        outcomes: list[Outcome] = []
        next_arrival = frames[0].timestamp_s + arrival_s if frames else 0.0
        start = time.perf_counter()
        for frame in frames:
            if frame.timestamp_s >= next_arrival:
                loop.reset()
                next_arrival += arrival_s
            outcomes.extend(loop.process(frame))
        elapsed = time.perf_counter() - start
        outbox.close()
    return outcomes, elapsed


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def search_ms(sizes: tuple[int, ...] = SEARCH_SIZES, repeats: int = 5) -> dict[str, float]:
    """Median time (ms) of one 1:N search in galleries of random unit templates.

    The search is vectorised: squared distances from precomputed row norms and one
    matrix-vector product, then the nearest two rows.
    """
    rng = np.random.default_rng(0)
    result: dict[str, float] = {}
    for size in sizes:
        matrix = rng.standard_normal((size, 128), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        norms = np.einsum("ij,ij->i", matrix, matrix)
        times = []
        for _ in range(repeats):
            probe = matrix[rng.integers(size)] + 0.01
            begin = time.perf_counter()
            squared = norms - 2.0 * (matrix @ probe) + float(probe @ probe)
            best_two = np.argpartition(squared, 1)[:2]
            _ = np.sqrt(np.maximum(squared[best_two], 0.0))
            times.append((time.perf_counter() - begin) * 1000.0)
        result[str(size)] = round(float(np.median(times)), 3)
        del matrix, norms
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set size (MiB; Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def summarize(outcomes: list[Outcome], elapsed_s: float) -> dict[str, Any]:
    """The contract's latency keys from the outcomes."""
    latencies = np.array([o.latency_ms for o in outcomes]) if outcomes else np.array([np.nan])
    ttd = np.array([o.time_to_decision_ms for o in outcomes]) if outcomes else np.array([np.nan])
    reasons: dict[str, int] = {}
    for outcome in outcomes:
        reasons[outcome.decision.reason.value] = reasons.get(outcome.decision.reason.value, 0) + 1
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "time_to_decision_p50_ms": round(float(np.percentile(ttd, 50)), 2),
        "decisions": len(outcomes),
        "decisions_per_s": round(len(outcomes) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
        "reasons": reasons,
    }
