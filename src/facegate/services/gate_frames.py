"""A recent frame from a gate, on an administrator's demand: fetched when asked, never stored.

An administrator opening a gate's frame page asks the :class:`FrameDesk` for it; the
gate learns of the request with its next contact (an edge gate's snapshot poll answers
the header :data:`FRAME_WANTED_HEADER`, about once a second; a kiosk's next frame is
taken as it is) and sends one JPEG, which the desk holds in memory only until the page
that asked takes it (one view), or drops when nobody waits for it any more. A gate
cannot push a frame nobody asked for. Nothing of the image reaches the database or a
file; each view, with or without a frame, is one audit record (``gate.frame.view``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from facegate.domain.audit import DetailValue
from facegate.domain.errors import NotFoundError
from facegate.services.context import ServiceContext, audit

FRAME_WANTED_HEADER = "X-Facegate-Frame-Wanted"
"""Header on an edge gate's snapshot answer: ``1`` when an administrator asks a frame."""
FRAME_WAIT_S = 10.0
"""How long a frame page waits for the gate's frame (seconds; an edge gate polls each 1 s)."""
ASK_VALID_S = 15.0
"""How long a request stands when nobody takes the frame (seconds)."""
MAX_FRAME_BYTES = 4_000_000
"""Largest frame a gate may send (bytes; a 1080p JPEG is about 0.3 MB)."""


@dataclass(frozen=True, slots=True)
class GateFrame:
    """One frame a gate sent when asked.

    Attributes:
        data: the image, JPEG or PNG as the gate encoded it.
        media_type: ``image/jpeg`` or ``image/png``.
    """

    data: bytes = b""
    media_type: str = "image/jpeg"


def media_type_of(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` from the image's first bytes; ``None`` for others."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


class FrameDesk:
    """Frames asked of gates and not yet taken, in this server process (thread-safe)."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._asked: dict[str, float] = {}
        self._frames: dict[str, GateFrame] = {}

    def ask(self, gate_id: str) -> None:
        """Ask ``gate_id`` for a frame (its next contact sends one)."""
        with self._ready:
            self._asked[gate_id] = time.monotonic()

    def is_asked(self, gate_id: str) -> bool:
        """Whether a frame of ``gate_id`` is wanted now."""
        with self._ready:
            return self._is_asked_locked(gate_id)

    def offer(self, gate_id: str, data: bytes) -> bool:
        """Hand over ``gate_id``'s frame; ``False`` (dropped): none asked, or no image."""
        media_type = media_type_of(data)
        with self._ready:
            if media_type is None or not self._is_asked_locked(gate_id):
                return False
            del self._asked[gate_id]
            self._frames[gate_id] = GateFrame(data, media_type)
            self._ready.notify_all()
        return True

    def _is_asked_locked(self, gate_id: str) -> bool:
        asked = self._asked.get(gate_id)
        return asked is not None and time.monotonic() - asked <= ASK_VALID_S

    def take(self, gate_id: str, wait_s: float) -> GateFrame | None:
        """Wait up to ``wait_s`` seconds for ``gate_id``'s frame and take it (it is gone after)."""
        with self._ready:
            self._ready.wait_for(lambda: gate_id in self._frames, timeout=wait_s)
            frame = self._frames.pop(gate_id, None)
            if frame is None:
                self._asked.pop(gate_id, None)
            return frame

    def pending(self) -> int:
        """Frames held and requests standing (tests: none is left after a view)."""
        with self._ready:
            return len(self._frames) + len(self._asked)


DESK = FrameDesk()
"""The server process's desk."""


def view_gate_frame(
    context: ServiceContext, gate_id: str, desk: FrameDesk = DESK, wait_s: float | None = None
) -> GateFrame | None:
    """Ask ``gate_id`` for a frame and wait for it; audited as ``gate.frame.view``.

    The caller checks the viewer's role (administrators only). The audit record (gate,
    door or lift, whether a frame came) is written before the frame is handed out: a
    view that cannot be recorded is not shown.

    Returns:
        The frame, or ``None`` when the gate sent none within ``wait_s`` seconds
        (default :data:`FRAME_WAIT_S`).

    Raises:
        NotFoundError: no gate ``gate_id`` is registered.
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        gate = uow.gates.get(gate_id)
    if gate is None:
        raise NotFoundError(f"no gate {gate_id}")
    desk.ask(gate_id)
    frame = desk.take(gate_id, FRAME_WAIT_S if wait_s is None else wait_s)
    with context.store.unit_of_work() as uow:
        details: dict[str, DetailValue] = {
            "gate_id": gate_id,
            "door_id": gate.target_id,
            "shown": frame is not None,
        }
        audit(uow, context, "gate.frame.view", None, details)
        uow.commit()
    return frame
