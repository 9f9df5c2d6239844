"""The lane profile (``facegate gate --profile lane``): metro-style passage on the move.

A lane camera looks down a walkway; people walk towards it without stopping, several in
view at once. Unlike a door (one primary face, ``multiple_faces`` refused), the lane:

1. follows **every** face as its own track and decides each one as soon as its face is
   usable (the quality gate passed and, with a liveness check, a window showed life), in
   order of arrival (the track seen first is decided first when several are ready in one
   frame). Each grant sends one ``unlock`` command: one passage credit, as a turnstile
   counts tickets;
2. **pairs each decision with the person who reaches the gate line**: a face reaches the
   line when its box is :attr:`LaneOptions.line_fraction` of the frame's height (a face's
   size stands for its distance from a camera facing the walkers). The crossing carries
   the crossing track's own decision, never the next one in a queue: someone who reaches
   the line undecided, or denied, finds the barrier shut (:class:`Crossing`). A face box
   measures a face's size only to 10-20 % (:data:`LINE_REACH`), so a face that leaves the
   view (its track ends) while its box was within that of the line crossed it too, where it
   was last seen: near the barrier, people leave the camera's view by walking through.
   A face that never passed the quality gate is refused ``low_quality`` when it reaches
   the line, not ``decide_after_s`` after it appeared as at a door: a walker's face is too
   small to use for the first second or so of the approach, and a refusal then (followed
   by the grant a moment later) was a false ``low_quality`` event for most walkers;

3. raises a ``tailgating`` alarm at once when more people crossed the line than were
   granted while the barrier was open (:meth:`LaneLoop.watch_tailgating`, on by default
   in ``facegate gate --profile lane``): someone walking through on another's grant.

The decision core is the door's: :class:`~facegate.gate.perception.Perception` (its
:meth:`~facegate.gate.perception.Perception.observe_all`) and the same
:class:`~facegate.gate.controller.DoorController`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from facegate.domain.faces import Box
from facegate.domain.policy import Decision
from facegate.domain.reasons import Reason
from facegate.gate.controller import Outcome
from facegate.gate.loop import GateLoop
from facegate.gate.tailgating import TailgateWatch
from facegate.gate.tracker import Track
from facegate.ports import Frame

log = logging.getLogger(__name__)

LINE_FRACTION = 0.25
"""Default face height at the gate line, as a fraction of the frame's height (0.25: a
120-pixel face in a 480-line picture, about 1 m from a lane camera with a 60 degree
vertical field of view). Set it per camera: FACEGATE_GATE__LANE_LINE_FRACTION."""

LINE_REACH = 0.85
"""A face whose track ends (it left the view) while its last box was at least this
fraction of the line's height, and :data:`APPROACH_GROWTH` times its first box, crossed
the line, at the frame it was last seen.

A face box gives a face's size only to 10-20 %: dlib's HOG boxes come in steps of about
19 % (a face shows at down to 1/1.19 = 0.84 of its size before the next step), and the
height of BlazeFace full range's box, rebuilt from the eye-to-mouth distance, over HOG's
has quartiles 0.88-1.00 for faces of 45-70 input pixels and 0.79-0.97 for 30-45 (the
held half of ``bench/blazeface_fit.py``). A walker whose face leaves the view soon after
the line (the camera looks over the barrier) may so never measure at the line in any
frame: with BlazeFace the lane lost three of ten walkers of ``facegate bench lane`` that
way (their boxes peaked at 87-89 px against a 90-px line). 0.85 covers one HOG step; a
face lost farther away (a head turned, someone walking off) is no crossing."""

APPROACH_GROWTH = 1.25
"""How much taller than its first box a face's last box must be for its track's end near
the line to count as a crossing (:data:`LINE_REACH`): the face came towards the camera.
A box seen once or twice near the line size (a detector's flicker, a face whose track
broke) or a face walking across the view at a constant distance is no crossing: on the
shared walking video, six such tracks of 113-116 px (the line at 130 px) ended without
coming closer. 1.25 is above a box's own size noise (10-20 %, :data:`LINE_REACH`); a
walker seen from afar grows 2-3 times on the way."""


@dataclass(frozen=True, slots=True)
class Crossing:
    """A face reached the gate line.

    Attributes:
        track_id: its track.
        frame_index: the frame where it reached the line.
        time_s: that frame's source time (seconds).
        decision: the track's own decision when it reached the line, ``None`` when it
            had none (the barrier stays shut).
        first_time_s: source time of the track's first frame (seconds).
        usable_time_s: source time of its first usable face, ``None`` when none was.
        box: its face box at the line (pixels).
        left_view: the face left the view within :data:`LINE_REACH` of the line (the
            crossing is known when its track ends, and ``frame_index``, ``time_s`` and
            ``box`` are where it was last seen), not seen at the line itself.
    """

    track_id: int
    frame_index: int
    time_s: float
    decision: Decision | None
    first_time_s: float
    usable_time_s: float | None
    box: Box
    left_view: bool = False

    @property
    def passes(self) -> bool:
        """Whether the barrier lets this person through (their own grant)."""
        return self.decision is not None and self.decision.granted


class LaneLoop(GateLoop):
    """The gate's frame pipeline for a lane (see the module's docstring).

    Takes :class:`GateLoop`'s arguments, and:

    Args:
        line_fraction: face height at the gate line over the frame's height (see
            :data:`LINE_FRACTION`).
        line_reach: a face that leaves the view with its box at least this fraction of
            the line crossed it (see :data:`LINE_REACH`).
        on_crossing: called with each :class:`Crossing` (they are also kept in
            :attr:`crossings`).

    Raises:
        ValueError: a line fraction or reach outside (0, 1].
    """

    def __init__(
        self,
        *args: Any,
        line_fraction: float = LINE_FRACTION,
        line_reach: float = LINE_REACH,
        on_crossing: Callable[[Crossing], None] | None = None,
        **kwargs: Any,
    ) -> None:
        if not 0.0 < line_fraction <= 1.0:
            raise ValueError(f"lane line fraction {line_fraction} is not in (0, 1]")
        if not 0.0 < line_reach <= 1.0:
            raise ValueError(f"lane line reach {line_reach} is not in (0, 1]")
        super().__init__(*args, **kwargs)
        # No low_quality before the line (see the module's docstring): _crossed decides it.
        perceived = self.perception.options
        self.perception.options = replace(perceived, decide_after_s=math.inf)
        self.line_fraction, self.line_reach = line_fraction, line_reach
        self.on_crossing = on_crossing
        self.crossings: list[Crossing] = []

    def process(self, frame: Frame) -> list[Outcome]:
        """Run one frame through the lane; returns the decisions it completed.

        Never raises: an exception is a deny ``internal_error`` (one per run of failing
        frames), as at a door.
        """
        arrived = time.perf_counter()
        self._camera_down = False
        try:
            outcomes = self._lane_frame(frame, arrived)
        except Exception as error:  # fail closed, never crash the loop
            if self._failing:
                return []
            self._failing = True
            with self.controller.guard:
                return [self.controller.fail_closed(error, 0, frame.index)]
        self._failing = False
        return outcomes

    def _lane_frame(self, frame: Frame, arrived: float) -> list[Outcome]:
        controller = self.controller
        with controller.guard:  # the door's decision lock (a reader's card, see conclude)
            controller.recheck(self.perception.tracker.tracks.values())
            threshold = controller.snapshot().access.match.threshold
        seen = self.perception.observe_all(frame, threshold)
        outcomes: list[Outcome] = []
        for observed in sorted(seen, key=lambda o: (o.track.first_index, o.track.id)):
            track = observed.track
            if observed.evidence is not None or observed.refusal is not None:
                ttd_base_ms = (frame.timestamp_s - track.first_time_s) * 1000.0
                with controller.guard:
                    outcome = controller.decide_face(
                        track,
                        observed.evidence,
                        observed.refusal,
                        frame.index,
                        arrived,
                        ttd_base_ms,
                    )
                if outcome is not None:
                    outcomes.append(outcome)
        line_px = self.line_fraction * frame.image.shape[0]
        for observed in seen:
            track = observed.track
            if not track.crossed and track.box.height >= line_px:
                outcomes += self._crossed(track, frame.index, frame.timestamp_s, arrived)
        for track in self.perception.tracker.take_ended():
            if not track.crossed and self._left_at_line(track, line_px):
                at, time_s = track.last_index, track.last_time_s
                outcomes += self._crossed(track, at, time_s, arrived, left_view=True)
        if self.tailgate is not None:
            self.tailgate.check(controller.clock.now())
        return outcomes

    def watch_tailgating(
        self, line_face_px: int = 1, window_s: float = 4.0, at_once: bool = True
    ) -> TailgateWatch:
        """Raise a ``tailgating`` alarm when more people cross the line than were granted.

        Crossings are the lane's own (the gate line), raised at once (see
        :mod:`facegate.gate.tailgating`); ``line_face_px`` is not used.

        Args:
            line_face_px: ignored (the lane's line is ``line_fraction``).
            window_s: how long after its last grant the barrier counts as open (seconds;
                typical the unlock time plus 3).
            at_once: raise at the crossing that makes the excess (default for a lane).
        """
        return super().watch_tailgating(1, window_s, at_once)

    def _left_at_line(self, track: Track, line_px: float) -> bool:
        """Whether an ended track left the view at the line (:data:`LINE_REACH`)."""
        height = track.box.height
        approached = height >= APPROACH_GROWTH * track.first_height
        return approached and height >= self.line_reach * line_px

    def _crossed(
        self, track: Track, index: int, time_s: float, arrived: float, *, left_view: bool = False
    ) -> list[Outcome]:
        """Record ``track``'s crossing; a face never usable is refused ``low_quality`` here."""
        track.crossed = True
        outcomes: list[Outcome] = []
        if track.decision is None and track.usable_time_s is None:
            ttd_ms = (time_s - track.first_time_s) * 1000.0
            refused = self.controller.decide_face(
                track, None, Reason.LOW_QUALITY, index, arrived, ttd_ms
            )
            outcomes += [refused] if refused is not None else []
        crossing = Crossing(
            track.id,
            index,
            time_s,
            track.decision,
            track.first_time_s,
            track.usable_time_s,
            track.box,
            left_view,
        )
        self.crossings.append(crossing)
        if self.tailgate is not None:
            self.tailgate.crossed(self.controller.clock.now())
        if not crossing.passes:
            reason = "undecided" if track.decision is None else track.decision.reason.value
            log.info("track %d at the gate line without a grant (%s)", track.id, reason)
        if self.on_crossing is not None:
            self.on_crossing(crossing)
        return outcomes
