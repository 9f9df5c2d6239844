"""Tailgating: more people crossed the door line than the door granted.

The door line is where faces are large in the door camera's view: a face track that
reached ``line_face_px`` in height (the person came up to the door) and then left the
view counts as one person through. Each opening of the door lasts from its first grant
until ``window_s`` after its last; when it ends, more crossings than grants in it is a
``tailgating`` alarm (one per opening). A face that comes up to the door while it is shut
and leaves is not counted (a refused visitor turning away; a door forced open is the
contact sensor's alarm). People who never show their face to the camera are not counted
(the tracker follows faces): the count is a floor, not a census.

At a lane (:mod:`facegate.gate.lane`) the crossings are the lane's own gate-line
crossings (:meth:`TailgateWatch.crossed`), and the alarm is raised at once (``at_once``):
a lane's opening hardly ever ends while people keep walking through, so waiting for its
end would delay the alarm for as long as the queue lasts. A granted person who never
crosses leaves a spare grant in the opening that hides one later tailgater (a floor).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta


class TailgateWatch:
    """Counts grants and crossings per opening; thread-safe.

    Args:
        line_face_px: face height at the door line (pixels, typical 120 at 640x480).
        window_s: how long after its last grant an opening lasts (seconds, typical the
            unlock time plus 3).
        alarm: called with a note (``"3 crossed, 1 granted"``) for each tailgating.
        at_once: raise the alarm at the crossing that makes the crossings outnumber the
            grants (then count from there), not when the opening ends.
    """

    def __init__(
        self,
        line_face_px: int,
        window_s: float,
        alarm: Callable[[str], None],
        at_once: bool = False,
    ) -> None:
        self.line_face_px, self.window = line_face_px, timedelta(seconds=window_s)
        self.alarm, self.at_once = alarm, at_once
        self._grants = self._crossings = 0
        self._until: datetime | None = None
        self._lock = threading.Lock()

    def granted(self, now: datetime) -> None:
        """The door opened for one person."""
        self.check(now)
        with self._lock:
            self._grants += 1
            self._until = now + self.window

    def track_ended(self, peak_height_px: int, now: datetime) -> None:
        """A face left the view; it crossed when it had come up to the door line."""
        if peak_height_px < self.line_face_px:
            return
        self.crossed(now)

    def crossed(self, now: datetime) -> None:
        """One person crossed the line (counted while the door is open after a grant)."""
        self.check(now)
        with self._lock:
            if self._until is None:
                return
            self._crossings += 1
            over = self.at_once and self._crossings > self._grants
            if over:
                note = f"{self._crossings} crossed, {self._grants} granted"
                self._crossings = self._grants
        if over:
            self.alarm(note)

    def check(self, now: datetime) -> None:
        """End the opening when its window has passed, raising the alarm when due."""
        with self._lock:
            if self._until is None or now <= self._until:
                return
            grants, crossings = self._grants, self._crossings
            self._grants = self._crossings = 0
            self._until = None
        if crossings > grants:
            self.alarm(f"{crossings} crossed, {grants} granted")
