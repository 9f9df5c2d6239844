"""Ports of the gate: its upstream, its door or lift, its camera."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from facegate.domain.gate import GateEvent, GateReport, GateSnapshot
from facegate.domain.liveness import SensorFrame


class GateUpstream(Protocol):
    """Where a gate gets its snapshot from and delivers its events to.

    Now an adapter over the site database; the server issue adds one over HTTP
    (``GET /api/v1/gates/{gate_id}/snapshot``, ``POST /api/v1/gates/{gate_id}/events``).
    Both raise :class:`facegate.domain.errors.UpstreamUnavailableError` when unreachable.
    """

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        """The current snapshot for the door or lift ``target_id``."""
        ...

    def poll_snapshot(
        self,
        gate_id: str,
        target_id: str,
        known_version: str | None,
        report: GateReport | None = None,
    ) -> GateSnapshot | None:
        """The current snapshot, or ``None`` when ``known_version`` is still current.

        Cheap when nothing changed (one version read, or an HTTP 304); ``report`` is
        the gate's health, passed along with the poll.
        """
        ...

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Store ``events``, each at most once by its key; returns how many were new."""
        ...


@dataclass(frozen=True, slots=True)
class ActuatorCommand:
    """One command to a door or lift.

    Attributes:
        request_id: unique per command; the acknowledgement names it.
        action: ``unlock`` a door, or enable ``floors`` of a lift for one ride.
        duration_s: how long the door stays unlocked or the floors enabled (seconds).
        floors: the floors to enable (lift only).
    """

    request_id: str
    action: Literal["unlock", "floors"]
    duration_s: float
    floors: tuple[int, ...] = ()


class DoorActuator(Protocol):
    """A door lock or a lift controller.

    :meth:`send` returns once the device acknowledged the command; a command not
    acknowledged in time raises :class:`facegate.domain.errors.ActuatorFailedError`,
    and the door stays locked.
    """

    def send(self, command: ActuatorCommand) -> None:
        """Send ``command`` and wait for its acknowledgement."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera frame.

    Attributes:
        image: ``(height, width, 3)`` uint8 RGB.
        index: its number in the stream, from 0.
        timestamp_s: the source's own time of the frame (seconds from the start).
        sensor: a second sensor's frames paired with it by time (near-infrared, depth;
            see :class:`facegate.gate.paired_source.PairedSource`), none without one.
    """

    image: npt.NDArray[np.uint8] = field(repr=False)
    index: int
    timestamp_s: float
    sensor: tuple[SensorFrame, ...] = ()


class FrameSource(Protocol):
    """A camera, stream, video file or folder of images.

    :meth:`read` returns ``None`` at the end of a finite source; a live source that
    cannot be (re)opened raises :class:`facegate.domain.errors.CameraFailedError`.
    """

    @property
    def description(self) -> str:
        """What it reads from (for events and logs; no credentials)."""
        ...

    def read(self) -> Frame | None:
        """The next frame."""
        ...

    def close(self) -> None:
        """Release the device or file."""
        ...
