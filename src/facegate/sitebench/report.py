"""What the bench prints: the contract's keys, and which decisions were right.

A presentation is judged by who was shown, where and when: an enrolled resident at a
door of their own building must be granted; a resident at another building's door, a
stranger and an erased person must be refused. Anything else is a wrong decision.
Presentations that begin within ``settle_s`` of a change to that person (an erasure or a
new enrolment) are counted apart, not judged: the change may still be on its way (the
contract gives it 2 s to reach every door).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from facegate.sitebench.clients import FrameAnswer, Presented

CONTRACT_KEYS = (
    "frame_p50_ms",
    "frame_p95_ms",
    "frame_p99_ms",
    "rejected_fraction",
    "snapshot_check_ms",
    "snapshot_rebuild_ms",
    "change_to_all_doors_s",
    "audit_rows_per_hour",
    "peak_rss_mb",
    "wrong_decisions",
    "saturation_frames_per_s",
    "console_p95_ms",
    "stranger_fpir",
)
"""The keys ``facegate bench site`` must print (scripts rely on them)."""


@dataclass
class Roster:
    """Who each real person is over time: a resident of a building, erased, or a stranger.

    Thread-safe: the writer changes it while the load runs.
    """

    buildings: dict[str, int | None] = field(default_factory=dict)
    changes: dict[str, list[float]] = field(default_factory=dict)
    history: dict[str, list[tuple[float, int | None]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, who: str, building: int | None, at: float) -> None:
        """From ``at`` (wall clock, s) on, ``who`` lives in ``building`` (``None``: nowhere)."""
        with self.lock:
            self.history.setdefault(who, []).append((at, building))
            self.changes.setdefault(who, []).append(at)

    def building_at(self, who: str, at: float) -> int | None:
        """The building ``who`` lived in at ``at`` (``None``: stranger or erased)."""
        with self.lock:
            current = None
            for since, building in self.history.get(who, []):
                if since <= at:
                    current = building
            return current

    def unsettled(self, who: str, at: float, settle_s: float) -> bool:
        """Whether a change to ``who`` happened within ``settle_s`` before ``at``."""
        with self.lock:
            return any(0.0 <= at - c < settle_s for c in self.changes.get(who, [])[1:])


def category(roster: Roster, shown: Presented, door_building: int) -> str:
    """``own_door``, ``others_door``, ``stranger`` or ``erased`` for one presentation."""
    building = roster.building_at(shown.who, shown.started_at)
    if building is None:
        was_enrolled = any(b is not None for _, b in roster.history.get(shown.who, []))
        return "erased" if was_enrolled else "stranger"
    return "own_door" if building == door_building else "others_door"


def judge(
    roster: Roster,
    presented: Iterable[Presented],
    building_of: dict[str, int],
    settle_s: float,
) -> dict[str, object]:
    """Counts of presentations by category and outcome, the wrong ones, the unsettled ones.

    ``wrong`` lists each wrong decision (who, door, category, outcome, kiosk or edge), so a
    run says which people its wrong count is made of.
    """
    table: dict[str, dict[str, int]] = {}
    unsettled = 0
    wrong: list[dict[str, str]] = []
    for shown in presented:
        if roster.unsettled(shown.who, shown.started_at, settle_s):
            unsettled += 1
            continue
        kind = category(roster, shown, building_of[shown.door_id])
        outcome = shown.outcome()
        row = table.setdefault(kind, {})
        row[outcome] = row.get(outcome, 0) + 1
        if (outcome == "granted") != (kind == "own_door"):
            wrong.append(
                {
                    "who": shown.who,
                    "door": shown.door_id,
                    "category": kind,
                    "outcome": outcome,
                    "source": shown.source,
                }
            )
    return {
        "wrong_decisions": len(wrong),
        "unsettled": unsettled,
        "by_category": table,
        "wrong": wrong,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile rounded to 0.1, ``None`` without values."""
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def frame_figures(answers: Sequence[FrameAnswer]) -> dict[str, object]:
    """Latency percentiles of answered frames (ms), the share refused with 503, and more.

    ``frames_rate_limited``: refused with 429 (the kiosk's key over its request rate),
    counted apart: neither a decision nor a failure.
    """
    answered = [a.latency_ms for a in answers if a.status == 200]
    rejected = sum(a.status == 503 for a in answers)
    return {
        "frame_p50_ms": percentile(answered, 50),
        "frame_p95_ms": percentile(answered, 95),
        "frame_p99_ms": percentile(answered, 99),
        "rejected_fraction": round(rejected / len(answers), 4) if answers else None,
        "frames_posted": len(answers),
        "frames_rate_limited": sum(a.status == 429 for a in answers),
        "frames_failed": sum(a.status not in (200, 429, 503) for a in answers),
    }


def machine() -> dict[str, object]:
    """The machine's load average (1, 5, 15 min) and CPU count, for reading the figures."""
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()}


def missing_keys(report: dict[str, object]) -> list[str]:
    """Contract keys absent from ``report`` (should be none)."""
    return [key for key in CONTRACT_KEYS if key not in report]


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
