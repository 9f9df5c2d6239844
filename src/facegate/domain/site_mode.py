"""The site mode as requested by each source, and the one mode that holds.

Several sources may ask for a mode at once: an operator (CLI, API, console), the city
hub's notices, a fire panel wired to the server. Each source holds at most one request
(:class:`ModeRequest`: the mode, who asked, why, since when, until when). The mode in
force is the strongest request still running, by :data:`PRECEDENCE`: ``fire`` over
``lockdown`` over ``free_passage`` over ``normal``. A fire panel at a gate acts on that
gate alone, the same way (:func:`strongest`), without asking the server.

Pure: the moment is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from facegate.domain.policy import SiteMode


class ModeSource(StrEnum):
    """Who asks for a site mode."""

    OPERATOR = "operator"
    HUB = "hub"
    FIRE_PANEL = "fire_panel"


PRECEDENCE: tuple[SiteMode, ...] = (
    SiteMode.FIRE,
    SiteMode.LOCKDOWN,
    SiteMode.FREE_PASSAGE,
    SiteMode.NORMAL,
)
"""Modes from strongest to weakest: the first one asked for holds."""

MAX_REASON_CHARS = 500
"""Longest reason kept with a mode request (characters)."""


@dataclass(frozen=True, slots=True)
class ModeRequest:
    """One source's request for a mode.

    Attributes:
        source: who asks (one request per source).
        mode: the mode asked for (never ``normal``: withdrawing a request deletes it).
        reason: why, as the person or system said it (audited; no personal data).
        set_by: the actor who set it (``cli:alice``, ``api:bob``, ``hub:notice-12``).
        set_at: when it was set (aware).
        until: when it ends by itself (aware), ``None`` until withdrawn.
    """

    source: ModeSource
    mode: SiteMode
    reason: str
    set_by: str
    set_at: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.mode is SiteMode.NORMAL:
            raise ValueError("'normal' is no request: withdraw the source's request instead")
        if not self.reason.strip() or len(self.reason) > MAX_REASON_CHARS:
            raise ValueError(f"a mode needs a reason of 1 to {MAX_REASON_CHARS} characters")
        if self.until is not None and self.until <= self.set_at:
            raise ValueError("a mode's end time must come after the moment it is set")

    def running(self, now: datetime) -> bool:
        """Whether the request still holds at ``now``."""
        return self.until is None or now < self.until


def strongest(*modes: SiteMode) -> SiteMode:
    """The mode that holds among ``modes`` by :data:`PRECEDENCE` (``normal`` if none)."""
    for mode in PRECEDENCE:
        if mode in modes:
            return mode
    return SiteMode.NORMAL


def effective_mode(
    requests: Iterable[ModeRequest], now: datetime
) -> tuple[SiteMode, ModeRequest | None]:
    """The mode in force at ``now`` and the request that set it (``None`` for normal).

    Among running requests for the same mode, the most recently set one is named.
    """
    running = [r for r in requests if r.running(now)]
    mode = strongest(*(r.mode for r in running))
    deciding = [r for r in running if r.mode is mode]
    return mode, max(deciding, key=lambda r: r.set_at, default=None)
