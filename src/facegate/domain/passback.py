"""Anti-passback per zone: in before out (pure rules, no I/O, no clock reads).

A zone is an area with doors into it and out of it (a car park, a gym, the residents'
floors). A door may belong to one zone with a direction: ``in`` (entering the zone) or
``out`` (leaving it). The site server holds each person's presence per zone (inside or
not, since when), from the granted passages the doors report; a gate's snapshot carries
its zone's presence and the gate adds its own passages since (:func:`merged`).

A passage that contradicts the presence is a *passback*: an ``in`` by someone already
inside (a card or face handed back over the barrier to a second person), or an ``out``
by someone not inside. What happens then is the zone's :class:`PassbackMode`:

- ``off``: nothing (presence is still kept);
- ``soft``: granted, with an ``anti_passback`` alarm;
- ``hard``: refused with the reason ``anti_passback`` (and no alarm: the event says it).

A person never seen at the zone counts as outside, so the first passage must be an
``in``. Presence recorded before the zone's last daily reset (``reset_at``, in the
site's time zone) counts as outside; staff can also reset a zone at any time.

Offline (:func:`judge`'s ``offline``): a gate whose snapshot is older than
:data:`STALE_AFTER_S` cannot know the passages at the zone's other doors since, so it
cannot tell a real passback from a passage it never heard of. It then grants with the
alarm (fail-open-with-alarm, even in ``hard`` zones): the identity check before it is
unchanged and still fails closed; only the in-before-out rule is relaxed, so that a
resident who left by another door is not locked out by a network fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

STALE_AFTER_S = 10.0
"""Age of a gate's snapshot (seconds since its upstream last confirmed it) beyond which
the gate counts as offline for anti-passback (see the module's docstring)."""

MAX_ZONE_CHARS = 64
"""Longest zone name (characters)."""


class PassbackMode(StrEnum):
    """What a zone does on a passback."""

    OFF = "off"
    SOFT = "soft"
    HARD = "hard"


class Direction(StrEnum):
    """Which way a door of a zone goes."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Zone:
    """An anti-passback zone.

    Attributes:
        name: its name (unique on the site, :data:`MAX_ZONE_CHARS` at most).
        mode: what a passback does there.
        reset_at: local time of its daily reset (``None``: staff reset it).
        cleared_at: when staff last reset it (``None``: never).
    """

    name: str
    mode: PassbackMode = PassbackMode.OFF
    reset_at: time | None = None
    cleared_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZoneDoor:
    """A door's place in a zone, as its snapshot holds it.

    Attributes:
        zone: the zone's name.
        direction: whether the door leads into the zone or out of it.
        mode: the zone's anti-passback mode.
        reset_at: local time of the zone's daily reset (``None``: no daily reset).
        time_zone: IANA name of the site's time zone (``reset_at`` is read in it).
        cleared_at: when staff last reset the zone (``None``: never).
    """

    zone: str
    direction: Direction
    mode: PassbackMode = PassbackMode.OFF
    reset_at: time | None = None
    time_zone: str = "UTC"
    cleared_at: datetime | None = None

    def last_reset(self, now: datetime) -> datetime | None:
        """The latest reset at or before ``now`` (daily or by staff); ``None``: none."""
        return last_reset(self.reset_at, self.cleared_at, self.time_zone, now)


def last_reset(
    reset_at: time | None, cleared_at: datetime | None, time_zone: str, now: datetime
) -> datetime | None:
    """The latest reset at or before ``now``; ``None`` when there is none.

    That is the later of the daily reset at ``reset_at`` (local time in ``time_zone``)
    and the staff reset ``cleared_at``.
    """
    daily = None
    if reset_at is not None:
        local = now.astimezone(ZoneInfo(time_zone))
        today = datetime.combine(local.date(), reset_at, tzinfo=local.tzinfo)
        daily = today if today <= local else today - timedelta(days=1)
    if cleared_at is None or (daily is not None and daily > cleared_at):
        return daily
    return cleared_at


@dataclass(frozen=True, slots=True)
class Presence:
    """Where one person stands in one zone, as of ``since``.

    Attributes:
        inside: whether their last granted passage took them in.
        since: when that passage was (aware).
    """

    inside: bool
    since: datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    """What anti-passback makes of one granted passage.

    Attributes:
        refuse: deny it (reason ``anti_passback``).
        alarm: why to raise an ``anti_passback`` alarm with the grant (``None``: none).
    """

    refuse: bool = False
    alarm: str | None = None


PASS = Verdict()


def is_inside(door: ZoneDoor, presence: Presence | None, now: datetime) -> bool:
    """Whether the person counts as inside ``door``'s zone at ``now``."""
    if presence is None or not presence.inside:
        return False
    reset = door.last_reset(now)
    return reset is None or presence.since >= reset


def judge(
    door: ZoneDoor | None, presence: Presence | None, now: datetime, offline: bool
) -> Verdict:
    """Anti-passback's verdict on a passage the policy granted at ``door``.

    Args:
        door: the door's zone and direction (``None``: the door is in no zone).
        presence: the person's presence in that zone (``None``: never seen there).
        now: the moment of the passage (aware).
        offline: the gate cannot know the zone's other doors' recent passages.
    """
    if door is None or door.mode is PassbackMode.OFF:
        return PASS
    inside = is_inside(door, presence, now)
    if door.direction is Direction.IN and inside:
        why = f"in again at zone {door.zone} without going out"
    elif door.direction is Direction.OUT and not inside:
        why = f"out of zone {door.zone} without coming in"
    else:
        return PASS
    if door.mode is PassbackMode.HARD and not offline:
        return Verdict(refuse=True)
    if offline:
        why += f" ({door.mode.value}; gate offline: granted)"
    return Verdict(alarm=why[:500])


def after(door: ZoneDoor, now: datetime) -> Presence:
    """The presence a granted passage at ``door`` leaves behind."""
    return Presence(door.direction is Direction.IN, now)


def merged(
    base: Mapping[str, Presence], local: Mapping[str, Presence], person_id: str
) -> Presence | None:
    """The newer of the snapshot's and the gate's own record of ``person_id``."""
    one, two = base.get(person_id), local.get(person_id)
    if one is None or (two is not None and two.since > one.since):
        return two
    return one


def zone_name(name: str) -> str:
    """``name`` checked as a zone name (stripped).

    Raises:
        ValueError: empty, or longer than :data:`MAX_ZONE_CHARS`.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_ZONE_CHARS:
        raise ValueError(f"a zone name has 1 to {MAX_ZONE_CHARS} characters")
    return cleaned
