"""Hand-made lane labels: who reaches the gate line, and when.

A label file (JSON, committed under ``bench/lane/``) is one of two kinds:

- ``video``: labels of a recorded video (the shared walking video): its file, frame rate,
  the gate line (face height over frame height) and, per person who reaches it, the frame
  where their face does, with a hint of where (a box at that frame, pixels) and a
  description;
- ``synthetic``: the script of a stream made from the shared live videos
  (:mod:`facegate.lanebench.streams`): per walker, which live video they are (their
  identity), where in it they start, their lateral place in the lane and the second they
  reach the line at the file's base arrival rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facegate.domain.errors import BadInputError


@dataclass(frozen=True, slots=True)
class Walker:
    """One person of a synthetic stream.

    Attributes:
        name: label ("w01").
        identity: which live video they are (a key of :attr:`SyntheticScript.sources`).
        source_start_s: where in that video their frames start (seconds).
        line_s: when they reach the gate line at the base rate (seconds from the start).
        lateral: their place across the lane, -1 (left) to 1 (right).
    """

    name: str
    identity: str
    source_start_s: float
    line_s: float
    lateral: float


@dataclass(frozen=True, slots=True)
class SyntheticScript:
    """A synthetic lane stream's script and labels.

    Attributes:
        sources: identity to its live video, relative to the shared data folder.
        enroll: identity to the (start, end) seconds of its video used to enroll it
            (never overlapping a walker's frames).
        base_rate_per_min: the arrival rate the ``line_s`` values are written for.
        approach_s: seconds from a walker appearing to reaching the line.
        line_fraction: face height at the line over frame height.
        size: the stream's (width, height) in pixels.
        fps: frames per second.
        walkers: the walkers, in order of arrival.
    """

    sources: dict[str, str]
    enroll: dict[str, tuple[float, float]]
    base_rate_per_min: float
    approach_s: float
    line_fraction: float
    size: tuple[int, int]
    fps: float
    walkers: tuple[Walker, ...]

    def at_rate(self, rate_per_min: float) -> tuple[Walker, ...]:
        """The walkers with their line times scaled to ``rate_per_min`` arrivals/min."""
        factor = self.base_rate_per_min / rate_per_min
        first = self.walkers[0].line_s
        return tuple(
            Walker(
                w.name,
                w.identity,
                w.source_start_s,
                self.approach_s + (w.line_s - first) * factor,
                w.lateral,
            )
            for w in self.walkers
        )


@dataclass(frozen=True, slots=True)
class VideoCrossing:
    """A person of a recorded video reaching the gate line.

    Attributes:
        name: label.
        frame: the frame where their face reaches the line.
        box: their face box at that frame, [left, top, right, bottom] (pixels).
        description: who, in words.
    """

    name: str
    frame: int
    box: tuple[int, int, int, int]
    description: str


@dataclass(frozen=True, slots=True)
class VideoLabels:
    """Labels of a recorded video.

    Attributes:
        video: its file, relative to the shared data folder.
        line_fraction: the gate line (face height over frame height).
        tolerance_frames: how far a detected crossing may be from the label.
        crossings: who reaches the line, in order.
        note: how the labels were made.
    """

    video: str
    line_fraction: float
    tolerance_frames: int
    crossings: tuple[VideoCrossing, ...]
    note: str


def load_labels(path: Path) -> SyntheticScript | VideoLabels:
    """Read a label file.

    Raises:
        BadInputError: unreadable, or not a label file.
    """
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if raw["kind"] == "synthetic":
            return _synthetic(raw)
        if raw["kind"] == "video":
            return _video(raw)
        raise ValueError(f"unknown kind {raw['kind']!r}")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        raise BadInputError(f"{path}: not a lane label file ({err})") from err


def _synthetic(raw: dict[str, Any]) -> SyntheticScript:
    walkers = tuple(
        Walker(
            str(w["name"]),
            str(w["identity"]),
            float(w["source_start_s"]),
            float(w["line_s"]),
            float(w["lateral"]),
        )
        for w in raw["walkers"]
    )
    if [w.line_s for w in walkers] != sorted(w.line_s for w in walkers):
        raise ValueError("walkers must be in order of reaching the line")
    sources = {str(k): str(v) for k, v in raw["sources"].items()}
    if any(w.identity not in sources for w in walkers):
        raise ValueError("a walker's identity has no source video")
    return SyntheticScript(
        sources,
        {str(k): (float(v[0]), float(v[1])) for k, v in raw["enroll"].items()},
        float(raw["base_rate_per_min"]),
        float(raw["approach_s"]),
        float(raw["line_fraction"]),
        (int(raw["size"][0]), int(raw["size"][1])),
        float(raw["fps"]),
        walkers,
    )


def _video(raw: dict[str, Any]) -> VideoLabels:
    crossings = tuple(
        VideoCrossing(
            str(c["name"]),
            int(c["frame"]),
            (int(c["box"][0]), int(c["box"][1]), int(c["box"][2]), int(c["box"][3])),
            str(c["description"]),
        )
        for c in raw["crossings"]
    )
    return VideoLabels(
        str(raw["video"]),
        float(raw["line_fraction"]),
        int(raw["tolerance_frames"]),
        crossings,
        str(raw["note"]),
    )
