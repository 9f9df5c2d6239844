"""Event snapshots from an edge gate: the face crop of each face it refuses, sent up.

Only while the site keeps event snapshots (the server's snapshot answers say so, see
:mod:`facegate.gate.http_upstream`): the crop of the refused face's last box, cut from
the frame that completed the refusal (the :class:`facegate.gate.frame_tap.FrameTap`'s
latest), is JPEG-encoded in memory and posted with the event's key; the server seals it
under the person's data key (or one of its own), keeps it for the ``snapshots``
retention class and destroys it with the person on erasure. Nothing is written at the
gate: a crop the server cannot take now is dropped (logged), never queued on disk.
"""

from __future__ import annotations

import logging
from typing import Protocol

from facegate.domain.errors import UpstreamUnavailableError
from facegate.domain.faces import Box
from facegate.gate.controller import Outcome
from facegate.gate.frame_tap import FrameTap
from facegate.vision.crops import face_crop_jpeg

log = logging.getLogger(__name__)


class TrackBoxes(Protocol):
    """Where the last box of a face track is found (the gate loop's tracker)."""

    def box_of(self, track_id: int) -> Box | None:
        """The last box of track ``track_id``; ``None`` once it is gone."""
        ...


class LoopBoxes:
    """:class:`TrackBoxes` of a gate loop (its perception's tracker).

    Args:
        loop: the gate's loop (:class:`facegate.gate.loop.GateLoop`).
    """

    def __init__(self, loop: object) -> None:
        self.loop = loop

    def box_of(self, track_id: int) -> Box | None:
        """The last box of ``track_id`` in the loop's tracker."""
        tracker = getattr(getattr(self.loop, "perception", None), "tracker", None)
        track = None if tracker is None else tracker.tracks.get(track_id)
        return None if track is None else track.box


class EdgeSnapshots:
    """Sends the face crop of each refusal of a face while the site wants snapshots.

    Args:
        upstream: the gate's upstream (its ``snapshots_wanted`` and ``send_snapshot``).
        boxes: where a track's last box is.
        frames: the latest camera frame.
        max_side_px: longest side of a crop (pixels, typical 256).
        quality: JPEG quality (1-95, typical 85).
    """

    def __init__(
        self,
        upstream: object,
        boxes: TrackBoxes,
        frames: FrameTap,
        max_side_px: int,
        quality: int,
    ) -> None:
        self.upstream, self.boxes, self.frames = upstream, boxes, frames
        self.max_side_px, self.quality = max_side_px, quality

    def __call__(self, outcome: object) -> bool:
        """Send the crop of ``outcome`` when it refused a face; ``True`` when sent."""
        wanted = getattr(self.upstream, "snapshots_wanted", False)
        send = getattr(self.upstream, "send_snapshot", None)
        if not isinstance(outcome, Outcome) or not wanted or send is None:
            return False
        decision = outcome.decision
        if decision.granted or outcome.track_id <= 0:
            return False
        box = self.boxes.box_of(outcome.track_id)
        frame = self.frames.latest()
        if box is None or frame is None or frame.index != outcome.frame_index:
            return False
        try:
            jpeg = face_crop_jpeg(frame.image, box, self.max_side_px, self.quality)
            send(outcome.event_key, decision.reason.value, decision.person_id, jpeg)
        except (ValueError, UpstreamUnavailableError) as err:
            log.warning("snapshot of event %s not sent: %s", outcome.event_key, err)
            return False
        return True
