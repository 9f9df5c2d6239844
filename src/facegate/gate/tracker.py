"""A small IoU tracker: one person in front of the camera is one track, one embedding.

A detection continues the track whose last box overlaps it most (intersection over
union at least ``min_iou``); otherwise it starts a new track. A track not seen for
``max_missing`` frames ends. The frame loop re-embeds a track only when it is new or its
face quality improved, so a person standing at the door costs one descriptor, not 30 a
second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from facegate.domain.faces import Box
from facegate.domain.liveness import PresentationFrames
from facegate.domain.matching import FloatArray
from facegate.domain.policy import Decision


@dataclass(slots=True)
class Track:
    """One face followed across frames.

    Attributes:
        id: increasing number.
        box: the last box seen (pixels).
        first_index: frame index where it was first seen.
        first_time_s: source time of that frame (seconds).
        last_index: frame index where it was last seen.
        last_time_s: source time of that frame (seconds).
        previous_index: the frame index it was seen at before ``last_index`` (``-1`` new).
        previous_time_s: source time of that frame (seconds).
        best_quality: best quality score embedded so far (``-inf`` before any).
        descriptor: the descriptor of the best-quality frame, when one was computed.
        frames: the frames of the face's current liveness presentation (with times).
        live: whether a liveness window of this face showed life.
        decision: the last decision made for it, ``None`` before any.
        reported: reasons already sent to the outbox (one event per reason per track).
        peak_height: the tallest its box has been (pixels; near the door means tall).
        first_height: the height of its first box (pixels; a face that came closer grew
            from it).
        usable_time_s: source time of the first frame whose face passed the quality gate
            (seconds; ``None`` before any): where a lane's decision latency starts.
        crossed: the face reached a lane's gate line (:mod:`facegate.gate.lane`).
    """

    id: int
    box: Box
    first_index: int
    first_time_s: float
    last_index: int
    last_time_s: float = 0.0
    previous_index: int = -1
    previous_time_s: float = 0.0
    best_quality: float = float("-inf")
    descriptor: FloatArray | None = field(default=None, repr=False)
    frames: PresentationFrames = field(default_factory=PresentationFrames, repr=False)
    live: bool = False
    decision: Decision | None = None
    reported: set[str] = field(default_factory=set)
    peak_height: int = 0
    first_height: int = 0
    usable_time_s: float | None = None
    crossed: bool = False


class IouTracker:
    """Greedy IoU matching of detections to tracks.

    Args:
        min_iou: least overlap that continues a track (default 0.3; a walking face at
            25 fps overlaps its previous box by 0.6-0.9).
        max_missing: frames a track may go unseen before it ends (default 10).
        window: frames kept per track for the liveness check (default 24; see
            :class:`facegate.domain.liveness.PresentationFrames`).
        recent_s: the newest seconds of them kept frame by frame (default 0.5).
    """

    def __init__(
        self, min_iou: float = 0.3, max_missing: int = 10, window: int = 24, recent_s: float = 0.5
    ) -> None:
        self.min_iou = min_iou
        self.max_missing = max_missing
        self.window, self.recent_s = window, recent_s
        self.tracks: dict[int, Track] = {}
        self.ended: list[Track] = []
        self._ids = count(1)

    def update(self, boxes: list[Box], index: int, time_s: float) -> list[Track]:
        """Assign ``boxes`` of frame ``index`` to tracks; returns one track per box."""
        free = dict(self.tracks)
        assigned: list[Track] = []
        for box in boxes:
            best = max(free.values(), key=lambda t: t.box.iou(box), default=None)
            if best is not None and best.box.iou(box) >= self.min_iou:
                del free[best.id]
                best.previous_index, best.previous_time_s = best.last_index, best.last_time_s
                best.box, best.last_index, best.last_time_s = box, index, time_s
                best.peak_height = max(best.peak_height, box.height)
                assigned.append(best)
                continue
            track = Track(next(self._ids), box, index, time_s, index, time_s)
            track.frames = PresentationFrames(self.window, self.recent_s)
            track.peak_height = track.first_height = box.height
            self.tracks[track.id] = track
            assigned.append(track)
        for track in list(self.tracks.values()):
            if index - track.last_index > self.max_missing:
                del self.tracks[track.id]
                self.ended.append(track)
        return assigned

    def take_ended(self) -> list[Track]:
        """Tracks that ended (left the view) since the last call."""
        ended, self.ended = self.ended, []
        return ended
