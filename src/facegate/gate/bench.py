"""``facegate bench gate``: the gate's latency on real video, and 1:N search times.

The person in the video is enrolled from frames of its first ``enroll_s`` seconds (every
5th frame whose face passes the quality gate); the gate then runs on the rest, as fast
as it can, with the liveness check as configured. To get many decisions from one
person, the tracker is reset every ``arrival_s`` seconds of video: each reset is a new
arrival, decided from its first frames again.

Frames are decoded as the gate goes (:func:`stream_frames`), one at a time, as a camera
delivers them: the bench never holds the video, so its peak RSS is the gate's (with the
memory gallery), not a frame store's (the decoded VGA video alone is about 410 MB).
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from datetime import time as wall_time
from itertools import islice
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegate.domain.access import AccessRule, TimeWindow, WeeklySchedule
from facegate.domain.faces import primary_face_index
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import FloatArray, Gallery, Identification, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.loop import GateLoop, LoopOptions, Outcome
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.sources import OpenCvSource
from facegate.ports import Frame, LivenessCheck
from facegate.timing import STAGES, StageRecorder, recording, span
from facegate.vision.detection import DetectorModel, FaceDetector
from facegate.vision.engine import FaceEngine
from facegate.vision.images import RgbImage

SEARCH_SIZES = (1_000, 50_000, 1_000_000)


def enroll_from_video(engine: FaceEngine, frames: Iterable[Frame]) -> list[FloatArray]:
    """Descriptors of every 5th frame's primary face that passes the quality gate.

    Faces are found with dlib's HOG detector whatever the gate's stream detector is, as
    enrolment photos are (:mod:`facegate.vision.detection`): the gate then decides with
    its own detector against templates made the enrolment way.
    """
    hog = FaceDetector(replace(engine.spec.detection, model=DetectorModel.HOG, fallback=None))
    descriptors = []
    for frame in islice(frames, 0, None, 5):
        found = hog.detect(frame.image)
        height, width = frame.image.shape[:2]
        primary = primary_face_index([d.box for d in found], width, height)
        if primary is None:
            continue
        face = engine.measure(frame.image, [found[primary]], describe=True)[0]
        if face.verdict.passed and face.descriptor is not None:
            descriptors.append(face.descriptor)
    return descriptors


class TimedGallery(Gallery):
    """A gallery whose 1:N search is a ``search`` stage of the bench's stage table."""

    def search(self, probe: FloatArray, policy: MatchPolicy) -> tuple[Identification, float]:
        """As :meth:`Gallery.search`, timed."""
        with span("search"):
            return super().search(probe, policy)


def bench_snapshot(descriptors: list[FloatArray], match: MatchPolicy) -> GateSnapshot:
    """A snapshot with one enrolled person allowed through ``bench-door`` at all times."""
    gallery = TimedGallery()
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


def memory_gallery(templates: int, seed: int = 0) -> Gallery:
    """A gallery of ``templates`` random unit templates, 3 per made-up person, indexed.

    Held while the gate runs so that the peak RSS includes a site-sized gallery. The
    gate does not decide from it: at the shipped FPIR target the 1:N threshold of a
    gallery of hundreds of people may be ``-inf`` (face alone names nobody), which would
    turn every decision of the bench into ``unknown_face``.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((templates, 128)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    labels = np.arange(templates, dtype=np.int64) // 3
    names = [f"filler-{i}" for i in range(int(labels[-1]) + 1)] if templates else []
    gallery = Gallery.from_index(names, labels, matrix)
    gallery.people_count()  # builds the search index
    return gallery


def stream_frames(
    video: Path, start_s: float = 0.0, end_s: float = float("inf")
) -> Iterator[Frame]:
    """The frames of ``video`` whose timestamp (s) is in ``[start_s, end_s)``.

    Decoded one at a time as they are asked for (those before ``start_s`` are decoded and
    dropped); the file is closed when the iterator ends or is discarded.
    """
    source = OpenCvSource(str(video))
    try:
        while (frame := source.read()) is not None and frame.timestamp_s < end_s:
            if frame.timestamp_s >= start_s:
                yield frame
    finally:
        source.close()


def letterbox(image: RgbImage, resolution: tuple[int, int]) -> RgbImage:
    """``image`` scaled to fit ``resolution`` (width, height), centred on black."""
    width, height = resolution
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    scaled = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = scaled
    return canvas


@dataclass(slots=True)
class Arrival:
    """One simulated arrival of a bench run (the frames between two tracker resets).

    Attributes:
        start_s: the arrival's first frame's time on the video's clock (seconds).
        frames: frames it lasted.
        decided_s: from its first frame to the frame that completed its first decision,
            on the video's clock (seconds; ``None``: not decided before the next arrival).
        latency_ms: that frame's wall time from arrival to the actuator command (ms).
        reason: the first decision's reason (``None``: none).
    """

    start_s: float
    frames: int = 0
    decided_s: float | None = None
    latency_ms: float = 0.0
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class GateRun:
    """One bench run of the gate loop.

    Attributes:
        outcomes: the decisions made.
        elapsed_s: wall time of the run (s).
        cpu_s: the process's CPU time during the run, all threads (s).
        stage_ms: per frame, the ms spent in each stage (see :mod:`facegate.timing`).
        arrivals: the simulated arrivals, in order.
        arrival_s: video seconds per arrival (s).
    """

    outcomes: list[Outcome]
    elapsed_s: float
    cpu_s: float
    stage_ms: list[dict[str, float]]
    arrivals: list[Arrival] = field(default_factory=list)
    arrival_s: float = 0.0


def run_gate(
    engine: FaceEngine,
    snapshot: GateSnapshot,
    frames: Iterable[Frame],
    liveness: LivenessCheck | None,
    schedule: LivenessSchedule,
    arrival_s: float,
    resolution: tuple[int, int] | None = None,
) -> GateRun:
    """Run the loop over ``frames``, every check done on each frame before the next.

    Only the loop's work on a frame is timed, not the decoding of ``frames`` (a stream,
    see :func:`stream_frames`). With ``resolution`` (width, height) each frame is
    letterboxed to it first (one at a time, outside the timed part).
    """
    with tempfile.TemporaryDirectory() as folder:
        outbox = SqliteOutbox(Path(folder) / "outbox.db")
        options = LoopOptions("bench", 5.0, 0.6, schedule, 10.0)
        clock = _Clock()
        loop = GateLoop(engine, lambda: snapshot, SimulatedDoor(), outbox, liveness, clock, options)
        outcomes: list[Outcome] = []
        arrivals: list[Arrival] = []
        next_arrival: float | None = None  # from the first frame's timestamp
        elapsed = cpu = 0.0
        with recording(StageRecorder()) as recorder:
            for frame in frames:
                if resolution is not None:
                    frame = replace(frame, image=letterbox(frame.image, resolution))
                if next_arrival is None:
                    next_arrival = frame.timestamp_s + arrival_s
                    arrivals.append(Arrival(frame.timestamp_s))
                if frame.timestamp_s >= next_arrival:
                    loop.reset()
                    next_arrival += arrival_s
                    arrivals.append(Arrival(frame.timestamp_s))
                start, cpu_start = time.perf_counter(), time.process_time()
                decided = loop.process(frame)
                elapsed += time.perf_counter() - start
                cpu += time.process_time() - cpu_start
                recorder.end_frame()
                _note(arrivals[-1], frame, decided)
                outcomes.extend(decided)
        outbox.close()
    return GateRun(outcomes, elapsed, cpu, recorder.frames, arrivals, arrival_s)


def _note(arrival: Arrival, frame: Frame, decided: list[Outcome]) -> None:
    """Count ``frame`` in ``arrival`` and keep its first decision."""
    arrival.frames += 1
    if decided and arrival.decided_s is None:
        arrival.decided_s = frame.timestamp_s - arrival.start_s
        arrival.latency_ms = decided[0].latency_ms
        arrival.reason = decided[0].decision.reason.value


def arrival_table(run: GateRun) -> dict[str, Any]:
    """Per arrival: when its first decision came, on the video's clock, and medians.

    ``frames_p50_ms`` is the median over decided arrivals of the video time from an
    arrival's first frame to the frame that decided it (no wall time: the same under
    any load); ``all_p50_ms`` is that median over every arrival, an undecided one counted
    as the run's ``arrival_s`` (a lower bound: it was not decided within its arrival). The
    contract's ``time_to_decision_p50_ms`` adds the deciding frame's wall latency and
    counts decided arrivals only.
    """
    decided = [a.decided_s * 1000.0 for a in run.arrivals if a.decided_s is not None]
    arrival_s = run.arrival_s
    every = decided + [arrival_s * 1000.0] * (len(run.arrivals) - len(decided))
    return {
        "count": len(run.arrivals),
        "decided": len(decided),
        "frames_p50_ms": round(float(np.median(decided)), 1) if decided else None,
        "all_p50_ms": round(float(np.median(every)), 1) if every else None,
        "undecided_counted_as_ms": arrival_s * 1000.0,
        "each": [
            {
                "start_s": round(a.start_s, 2),
                "frames": a.frames,
                "decided_ms": None if a.decided_s is None else round(a.decided_s * 1000.0, 1),
                "latency_ms": round(a.latency_ms, 1),
                "reason": a.reason,
            }
            for a in run.arrivals
        ],
    }


def stage_table(run: GateRun) -> dict[str, dict[str, float]]:
    """Per stage: p50 and p95 ms over the frames it ran in, and its share of the wall time."""
    table: dict[str, dict[str, float]] = {}
    for stage in STAGES:
        times = np.array([f[stage] for f in run.stage_ms if stage in f])
        if not times.size:
            table[stage] = {"p50_ms": 0.0, "p95_ms": 0.0, "share": 0.0, "frames": 0}
            continue
        table[stage] = {
            "p50_ms": round(float(np.percentile(times, 50)), 3),
            "p95_ms": round(float(np.percentile(times, 95)), 3),
            "share": round(float(times.sum()) / 1000.0 / max(run.elapsed_s, 1e-9), 4),
            "frames": int(times.size),
        }
    return table


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def search_ms(sizes: tuple[int, ...] = SEARCH_SIZES, repeats: int = 5) -> dict[str, float]:
    """Median time (ms) of one 1:N identification in galleries of random unit templates.

    Times :meth:`facegate.domain.matching.Gallery.identify` itself (3 templates per
    person; the search index is built before timing, as a gate holds it between
    frames), with probes near a random template.
    """
    rng = np.random.default_rng(0)
    result: dict[str, float] = {}
    for size in sizes:
        gallery = memory_gallery(size)
        _, _, matrix = gallery.as_index()
        times = []
        for _ in range(repeats):
            probe = matrix[rng.integers(size)] + 0.01
            begin = time.perf_counter()
            gallery.identify(probe, 0.57, 0.06)
            times.append((time.perf_counter() - begin) * 1000.0)
        result[str(size)] = round(float(np.median(times)), 3)
        del matrix, gallery
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set size (MiB; Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def summarize(run: GateRun) -> dict[str, Any]:
    """The contract's latency keys, frame rate, CPU and stage table of one run.

    ``frames_per_s`` counts frames whose every check (liveness included) completed in
    the run: the loop is synchronous, so that is every frame over the run's wall time.
    ``time_to_decision_p50_ms`` is the median over decisions of the video time from the
    deciding face's first frame to the deciding frame plus that frame's wall latency;
    ``arrivals`` (:func:`arrival_table`) says how many arrivals were never decided.
    """
    outcomes, frames = run.outcomes, len(run.stage_ms)
    latencies = np.array([o.latency_ms for o in outcomes]) if outcomes else np.array([np.nan])
    ttd = np.array([o.time_to_decision_ms for o in outcomes]) if outcomes else np.array([np.nan])
    reasons: dict[str, int] = {}
    for outcome in outcomes:
        reasons[outcome.decision.reason.value] = reasons.get(outcome.decision.reason.value, 0) + 1
    elapsed = max(run.elapsed_s, 1e-9)
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "time_to_decision_p50_ms": round(float(np.percentile(ttd, 50)), 2),
        "decisions": len(outcomes),
        "decisions_per_s": round(len(outcomes) / elapsed, 2),
        "frames": frames,
        "frames_per_s": round(frames / elapsed, 2),
        "cpu_ms_per_frame": round(run.cpu_s * 1000.0 / max(frames, 1), 2),
        "stages": stage_table(run),
        "reasons": reasons,
        **({"arrivals": arrival_table(run)} if run.arrivals else {}),
    }
