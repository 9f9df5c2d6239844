"""The arrival-rate sweep of ``facegate bench lane`` and its report.

The rate goes up (people per minute per lane) until fewer than 99 % of people are
decided before the gate line, or a decision is paired with the wrong person; the highest
rate that passed is the lane's capacity, reported with the decision latency from the
first usable face (p50, p95) and the wrong pairings at it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from facegate.domain.gate import GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.lanebench.labels import SyntheticScript, VideoLabels, load_labels
from facegate.lanebench.run import RateResult, play, render_stream, score
from facegate.lanebench.sources import Sources
from facegate.ports import LivenessCheck
from facegate.vision.engine import FaceEngine

DEFAULT_RATES = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0)
"""Arrival rates tried, people per minute per lane (turnstile practice: 20-40)."""
LEAST_DECIDED = 0.99
"""Share of people that must be decided before the line for a rate to pass."""


def shipped_script() -> SyntheticScript:
    """The committed synthetic stream script (``facegate/lanebench/labels/synthetic.json``)."""
    script = load_labels(_labels("synthetic.json"))
    if not isinstance(script, SyntheticScript):
        raise TypeError("synthetic.json is not a synthetic stream script")
    return script


def shipped_video_labels() -> VideoLabels:
    """The committed labels of the shared walking video (``labels/walking.json``)."""
    labels = load_labels(_labels("walking.json"))
    if not isinstance(labels, VideoLabels):
        raise TypeError("walking.json is not a video's labels")
    return labels


def _labels(name: str) -> Path:
    return Path(str(files("facegate.lanebench") / "labels" / name))


@dataclass(frozen=True, slots=True)
class LaneRig:
    """What every rate of a sweep runs on."""

    script: SyntheticScript
    sources: Sources
    engine: FaceEngine
    snapshot: GateSnapshot
    liveness: LivenessCheck | None
    schedule: LivenessSchedule
    realtime: bool = True


def run_rate(rig: LaneRig, rate_per_min: float) -> RateResult:
    """One real-time run of the script at ``rate_per_min``."""
    walkers = rig.script.at_rate(rate_per_min)
    stream = render_stream(rig.script, walkers, rig.sources.clips)
    crossings, decisions, processed = play(
        stream,
        rig.engine,
        rig.snapshot,
        rig.liveness,
        rig.schedule,
        rig.script.line_fraction,
        realtime=rig.realtime,
    )
    result = score(stream, walkers, crossings, decisions, rate_per_min)
    result.frames_processed = processed
    return result


def sweep(rig: LaneRig, rates: Sequence[float], log: Callable[[str], None]) -> dict[str, Any]:
    """Raise the rate until a run fails; the report of the highest that passed."""
    tried: list[RateResult] = []
    for rate in sorted(rates):
        result = run_rate(rig, rate)
        tried.append(result)
        log(
            f"{rate:g}/min: {result.decided}/{result.walkers} decided before the line, "
            f"{result.wrong_pairings} wrong pairings, {result.frames_processed}/"
            f"{result.frames} frames taken"
        )
        if not result.passes(LEAST_DECIDED):
            break
    return report(tried)


def _row(result: RateResult) -> dict[str, Any]:
    latencies = result.latencies_ms
    return {
        "rate_per_min": result.rate_per_min,
        "walkers": result.walkers,
        "decided_before_line": round(result.decided_fraction, 3),
        "wrong_pairings": result.wrong_pairings,
        "decision_p50_ms": _percentile(latencies, 50),
        "decision_p95_ms": _percentile(latencies, 95),
        "frames_taken": result.frames_processed,
        "frames": result.frames,
        "missed": dict(result.missed),
    }


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def report(tried: list[RateResult]) -> dict[str, Any]:
    """The contract's keys (at the highest passing rate; the lowest tried if none did)."""
    passed = [r for r in tried if r.passes(LEAST_DECIDED)]
    at = passed[-1] if passed else (tried[0] if tried else None)
    row = _row(at) if at is not None else {}
    return {
        "people_per_min": passed[-1].rate_per_min if passed else 0.0,
        "decision_p50_ms": row.get("decision_p50_ms"),
        "decision_p95_ms": row.get("decision_p95_ms"),
        "wrong_pairings": row.get("wrong_pairings", 0),
        "rates": [_row(r) for r in tried],
    }
