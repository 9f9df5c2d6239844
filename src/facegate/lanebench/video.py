"""The lane on the shared walking video, against its hand-made labels.

Nobody in the video is enrolled, so every decision is a deny; what is checked is the
lane's side of pairing: which labelled person its crossings are (a crossing within the
labels' tolerance of a labelled frame, its face centre within one face height of the
labelled box), how many labelled people it did not see reach the line, and how many
crossings it reported that no label explains.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.lane import Crossing, LaneLoop
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.sources import OpenCvSource
from facegate.lanebench.labels import VideoLabels
from facegate.lanebench.run import lane_snapshot
from facegate.vision.engine import FaceEngine


def run_video(
    labels: VideoLabels, data: Path, engine: FaceEngine, match: MatchPolicy, step: int = 2
) -> dict[str, Any]:
    """Every ``step``-th frame of the labelled video through a lane (no one enrolled)."""
    snapshot = lane_snapshot({}, match)
    with tempfile.TemporaryDirectory() as folder:
        outbox = SqliteOutbox(Path(folder) / "outbox.db")
        options = LoopOptions("lane-video", 1.0, 0.6, LivenessSchedule(), 10.0)
        loop = LaneLoop(
            engine,
            lambda: snapshot,
            SimulatedDoor(),
            outbox,
            None,
            _Clock(),
            options,
            line_fraction=labels.line_fraction,
        )
        source = OpenCvSource(str(data / labels.video))
        while (frame := source.read()) is not None:
            if frame.index % step == 0:
                loop.process(frame)
        source.close()
        outbox.close()
    return compare(labels, loop.crossings)


def compare(labels: VideoLabels, crossings: list[Crossing]) -> dict[str, Any]:
    """Which labelled people the crossings are, and what is left over."""
    found, spare = [], list(crossings)
    for label in labels.crossings:
        x, y = (label.box[0] + label.box[2]) / 2.0, (label.box[1] + label.box[3]) / 2.0
        height = label.box[3] - label.box[1]
        for crossing in spare:
            cx, cy = crossing.box.center
            near = float(np.hypot(cx - x, cy - y)) <= height
            if near and abs(crossing.frame_index - label.frame) <= labels.tolerance_frames:
                found.append(label.name)
                spare.remove(crossing)
                break
    return {
        "labelled": len(labels.crossings),
        "found": found,
        "missed": [c.name for c in labels.crossings if c.name not in found],
        "unlabelled_crossings": len(spare),
        "barrier_opened": sum(c.passes for c in crossings),
    }


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)
