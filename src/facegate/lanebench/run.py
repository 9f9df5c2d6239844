"""One lane run at one arrival rate, in real time, scored against the labels.

The stream is rendered first (JPEG in memory, as a camera would deliver it), then played
in real time: the lane takes the newest frame each time it is free, so a slow lane drops
frames as a live one would, and its decisions come later in the walk. Each person who
reaches the gate line is matched to the labelled walker whose face is there (nearest
centre) and scored:

- **decided before the line**: their own track carried a grant for them (the right
  identity) when it reached the line;
- **wrong pairing**: the decision their track carried at the line names someone else;
- **decision latency**: from the first usable frame of their face (source time, which
  is wall time in a real-time run) to the moment the decision was made (wall time).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as wall_time
from pathlib import Path

import cv2
import numpy as np

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.controller import Outcome
from facegate.gate.lane import Crossing, LaneLoop
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.lanebench.labels import SyntheticScript, Walker
from facegate.lanebench.streams import Placement, SourceClip, render
from facegate.ports import Frame, LivenessCheck
from facegate.vision.engine import FaceEngine

LANE_DOOR = "lane"


def lane_snapshot(enrolled: dict[str, list[FloatArray]], match: MatchPolicy) -> GateSnapshot:
    """A snapshot where each enrolled identity (its name is its person id) may pass."""
    gallery = Gallery()
    for identity, descriptors in enrolled.items():
        gallery.add(identity, descriptors)
    always = WeeklySchedule(
        "UTC", (TimeWindow(frozenset(range(7)), wall_time(0), wall_time(23, 59, 59)),)
    )
    rule = AccessRule("r", always, role=Role.RESIDENT, door_ids=frozenset({LANE_DOOR}))
    people = {identity: PersonAccess(Role.RESIDENT) for identity in enrolled}
    access = AccessData(SiteMode.NORMAL, people, gallery, match, rules=(rule,))
    target = Target(LANE_DOOR, frozenset({CredentialKind.FACE, CredentialKind.CARD}))
    built = datetime.now(UTC)
    return GateSnapshot(SNAPSHOT_FORMAT, "lane", built, "bench", "bench", target, access)


@dataclass(frozen=True, slots=True)
class Stream:
    """A rendered stream: JPEG frames and where each walker's face is in each."""

    jpegs: list[bytes]
    placements: list[list[Placement]]
    fps: float

    def frame(self, index: int) -> Frame:
        """Frame ``index``, decoded (RGB)."""
        buffer = np.frombuffer(self.jpegs[index], dtype=np.uint8)
        bgr = np.asarray(cv2.imdecode(buffer, cv2.IMREAD_COLOR), np.uint8)
        return Frame(np.ascontiguousarray(bgr[:, :, ::-1]), index, index / self.fps)


def render_stream(
    script: SyntheticScript, walkers: tuple[Walker, ...], clips: dict[str, SourceClip]
) -> Stream:
    """Render every frame of the stream once, JPEG quality 92."""
    jpegs, placements = [], []
    for frame, placed in render(script, walkers, clips):
        ok, data = cv2.imencode(".jpg", frame.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        jpegs.append(data.tobytes())
        placements.append(placed)
    return Stream(jpegs, placements, script.fps)


@dataclass(slots=True)
class RateResult:
    """How the lane did at one arrival rate.

    Attributes:
        rate_per_min: arrivals per minute.
        walkers: people who walked through.
        decided: people whose own grant was on their track at the line.
        wrong_pairings: people whose track carried someone else's decision at the line.
        latencies_ms: decision latency of each decided person (ms).
        frames_processed: frames the lane took (the rest were dropped, it was busy).
        frames: frames in the stream.
        missed: walker name to why they were not decided ("no crossing", a reason).
    """

    rate_per_min: float
    walkers: int
    decided: int = 0
    wrong_pairings: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    frames_processed: int = 0
    frames: int = 0
    missed: dict[str, str] = field(default_factory=dict)

    @property
    def decided_fraction(self) -> float:
        """Share of people decided before the line (0 to 1)."""
        return self.decided / self.walkers if self.walkers else 0.0

    def passes(self, least_fraction: float = 0.99) -> bool:
        """At least ``least_fraction`` decided before the line and no wrong pairing."""
        return self.decided_fraction >= least_fraction and self.wrong_pairings == 0


def play(
    stream: Stream,
    engine: FaceEngine,
    snapshot: GateSnapshot,
    liveness: LivenessCheck | None,
    schedule: LivenessSchedule,
    line_fraction: float,
    *,
    realtime: bool = True,
) -> tuple[list[Crossing], list[tuple[Outcome, float]], int]:
    """Play ``stream`` through a lane in real time (or every frame, when not ``realtime``).

    Without ``realtime`` every frame is taken, however long it takes (what the lane does
    on a machine that keeps up), and a decision's time is its frame's source time plus
    the time that frame's work took.

    Returns:
        The crossings, each decision with its wall time (seconds from the start, on the
        stream's clock), and how many frames the lane processed.
    """
    with tempfile.TemporaryDirectory() as folder:
        outbox = SqliteOutbox(Path(folder) / "outbox.db")
        options = LoopOptions("lane-bench", 1.0, 0.6, schedule, 10.0, leave_after_s=0.0)
        loop = LaneLoop(
            engine,
            lambda: snapshot,
            SimulatedDoor(),
            outbox,
            liveness,
            _Clock(),
            options,
            line_fraction=line_fraction,
        )
        decisions: list[tuple[Outcome, float]] = []
        processed, last, count = 0, -1, len(stream.jpegs)
        start = time.perf_counter()
        while True:
            now = time.perf_counter() - start
            index = int(now * stream.fps) if realtime else last + 1
            if index >= count:
                break
            if index <= last:
                time.sleep(max((last + 1) / stream.fps - now, 0.0))
                continue
            outcomes = loop.process(stream.frame(index))
            if realtime:
                wall = time.perf_counter() - start
                decisions.extend((outcome, wall) for outcome in outcomes)
            else:  # the frame's own time, plus the time its work took
                at = index / stream.fps
                decisions.extend((o, at + o.latency_ms / 1000.0) for o in outcomes)
            processed, last = processed + 1, index
        outbox.close()
    return loop.crossings, decisions, processed


def score(
    stream: Stream,
    walkers: tuple[Walker, ...],
    crossings: list[Crossing],
    decisions: list[tuple[Outcome, float]],
    rate_per_min: float,
) -> RateResult:
    """Match crossings to walkers and score them (see the module's docstring)."""
    result = RateResult(rate_per_min, len(walkers), frames=len(stream.jpegs))
    decided_at: dict[int, float] = {}
    for outcome, wall in decisions:
        if outcome.decision.granted:
            decided_at.setdefault(outcome.track_id, wall)
    seen: dict[str, Crossing] = {}
    for crossing in crossings:
        walker = _walker_at(stream.placements[crossing.frame_index], crossing)
        if walker is not None and walker.name not in seen:
            seen[walker.name] = crossing
    for walker in walkers:
        found = seen.get(walker.name)
        if found is None:
            result.missed[walker.name] = "no crossing"
            continue
        crossing = found
        decision = crossing.decision
        if decision is not None and decision.person_id not in (None, walker.identity):
            result.wrong_pairings += 1
            result.missed[walker.name] = f"paired with {decision.person_id}"
            continue
        if decision is None or not decision.granted:
            result.missed[walker.name] = "undecided" if decision is None else decision.reason
            continue
        result.decided += 1
        made = decided_at.get(crossing.track_id)
        if made is not None and crossing.usable_time_s is not None:
            result.latencies_ms.append((made - crossing.usable_time_s) * 1000.0)
    return result


def _walker_at(placed: list[Placement], crossing: Crossing) -> Walker | None:
    """The walker whose face centre is nearest the crossing face's (within half a face)."""
    x, y = crossing.box.center
    best, distance = None, float("inf")
    for where in placed:
        gap = float(np.hypot(where.center[0] - x, where.center[1] - y))
        if gap < distance:
            best, distance = where.walker, gap
    if best is None or distance > 0.5 * max(crossing.box.height, 1):
        return None
    return best


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)
