"""Event snapshots from an edge gate: the face crop of each face it refuses, sent up.

Only while the site keeps event snapshots (the server's snapshot answers say so, see
:mod:`facegate.gate.http_upstream`): the crop of the refused face's last box, cut from
the frame that completed the refusal (the :class:`facegate.gate.frame_tap.FrameTap`'s
latest), is JPEG-encoded in memory and held until its event is delivered: the server
keeps a crop only for a refusal the gate has delivered, with that event's door, person
and reason, one per event (:func:`facegate.services.event_snapshots.keep_gate_snapshot`).
:meth:`EdgeSnapshots.send_due`, a tick of the gate's sync thread (about once a second),
delivers the outbox and then posts the held crops whose events have gone out; the
server seals each under the person's data key (or one of its own), keeps it for the
``snapshots`` retention class and destroys it with the person on erasure. Nothing is
written at the gate: at most :data:`MAX_HELD` crops wait in memory, each at most
:data:`MAX_WAIT_S` for its event's delivery; a crop the server refuses, or one that
cannot be sent, is dropped (logged), never queued on disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from facegate.domain.errors import UpstreamBusyError, UpstreamUnavailableError
from facegate.domain.faces import Box
from facegate.gate.controller import Outcome
from facegate.gate.frame_tap import FrameTap
from facegate.ports import GateUpstream
from facegate.vision.crops import face_crop_jpeg

log = logging.getLogger(__name__)

MAX_HELD = 32
"""Most crops held in memory for their events' delivery (about 15 kB each at 256 px)."""
MAX_WAIT_S = 300.0
"""Longest a crop waits for its event's delivery before it is dropped (seconds)."""


class Deliveries(Protocol):
    """The gate's outbox, as the crops need it (:class:`facegate.gate.outbox.SqliteOutbox`)."""

    def holds(self, key: str) -> bool:
        """Whether the event with ``key`` waits for delivery."""
        ...

    def flush(self, upstream: GateUpstream, batch: int = 100) -> int:
        """Deliver what waits (never raises for an upstream that is down)."""
        ...


@dataclass(eq=False, slots=True)
class HeldCrop:
    """A refused face's crop waiting for its event's delivery.

    Attributes:
        event_key: the decision event's key.
        reason: its reason code.
        person_id: who, when the decision named someone.
        jpeg: the crop, JPEG-encoded.
        since: when it was cut (monotonic seconds).
    """

    event_key: str
    reason: str
    person_id: str | None
    jpeg: bytes
    since: float


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
    """Sends the face crop of each refusal of a face, after its event, while the site wants.

    Args:
        upstream: the gate's upstream (its ``snapshots_wanted`` and ``send_snapshot``).
        boxes: where a track's last box is.
        frames: the latest camera frame.
        max_side_px: longest side of a crop (pixels, typical 256).
        quality: JPEG quality (1-95, typical 85).
        outbox: the gate's outbox (its events are delivered before their crops).
        now: monotonic time source (seconds; injectable for tests).
    """

    def __init__(
        self,
        upstream: GateUpstream,
        boxes: TrackBoxes,
        frames: FrameTap,
        max_side_px: int,
        quality: int,
        outbox: Deliveries,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream, self.boxes, self.frames = upstream, boxes, frames
        self.max_side_px, self.quality = max_side_px, quality
        self.outbox, self.now = outbox, now
        self._held: deque[HeldCrop] = deque()
        self._lock = threading.Lock()

    def __call__(self, outcome: object) -> bool:
        """Cut and hold the crop of ``outcome`` when it refused a face; ``True`` when held.

        Called on the frame thread: no network here (:meth:`send_due` sends).
        """
        if not isinstance(outcome, Outcome) or not getattr(
            self.upstream, "snapshots_wanted", False
        ):
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
        except ValueError as err:
            log.warning("snapshot of event %s not cut: %s", outcome.event_key, err)
            return False
        crop = HeldCrop(
            outcome.event_key, decision.reason.value, decision.person_id, jpeg, self.now()
        )
        with self._lock:
            if len(self._held) >= MAX_HELD:
                dropped = self._held.popleft()
                log.warning("snapshot of event %s dropped: too many wait", dropped.event_key)
            self._held.append(crop)
        return True

    def held(self) -> int:
        """How many crops wait to be sent."""
        with self._lock:
            return len(self._held)

    def send_due(self) -> int:
        """Deliver the outbox, then send the held crops whose events went out; how many sent.

        A crop whose event still waits, or that the server asked to wait for (``429``,
        ``503`` with ``Retry-After``), stays held (dropped after :data:`MAX_WAIT_S`); a
        crop sent, refused by the server or not sendable leaves (the last two logged).
        """
        with self._lock:
            held = list(self._held)
        if not held:
            return 0
        send = getattr(self.upstream, "send_snapshot", None)
        if send is None or not getattr(self.upstream, "snapshots_wanted", False):
            self._forget(held)  # the site keeps none (any more)
            return 0
        if any(self.outbox.holds(crop.event_key) for crop in held):
            self.outbox.flush(self.upstream)
        sent = 0
        for crop in held:
            if self.outbox.holds(crop.event_key):
                if self.now() - crop.since > MAX_WAIT_S:
                    log.warning("snapshot of event %s dropped: not delivered", crop.event_key)
                    self._forget([crop])
                continue
            try:
                send(crop.event_key, crop.reason, crop.person_id, crop.jpeg)
            except UpstreamBusyError:  # asked to wait (429, 503): the next tick tries again
                if self.now() - crop.since > MAX_WAIT_S:
                    log.warning("snapshot of event %s dropped: server busy", crop.event_key)
                    self._forget([crop])
                continue
            except UpstreamUnavailableError as err:
                log.warning("snapshot of event %s not sent: %s", crop.event_key, err)
                self._forget([crop])
                continue
            self._forget([crop])
            sent += 1
        return sent

    def _forget(self, crops: list[HeldCrop]) -> None:
        with self._lock:
            for crop in crops:
                if crop in self._held:
                    self._held.remove(crop)
