"""Who may pass which door or reach which floor, and when; and the alert list.

Schedules are written in the site's local time (the time a building manager reads on the
wall), so "weekdays 07:00-22:00" stays right across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from facegate.domain.clock import require_aware
from facegate.domain.errors import ValidationError
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import check_time_zone


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Open from ``start`` (inclusive) to ``end`` (exclusive) on ``weekdays`` (0 Monday).

    A window with ``end`` before ``start`` runs over midnight into the next day.
    """

    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValidationError("a time window needs weekdays among 0 (Monday) to 6")
        if self.start == self.end:
            raise ValidationError("a time window must not start and end at the same time")

    def contains(self, local: datetime) -> bool:
        """Whether the local wall-clock moment ``local`` falls in this window."""
        clock, day = local.time(), local.weekday()
        if self.start < self.end:
            return day in self.weekdays and self.start <= clock < self.end
        before_midnight = day in self.weekdays and clock >= self.start
        after_midnight = (day - 1) % 7 in self.weekdays and clock < self.end
        return before_midnight or after_midnight


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Weekly windows in the site's time zone, with whole days closed as exceptions.

    Attributes:
        time_zone: IANA name of the site's time zone.
        windows: when it is open; none means never.
        closed_days: local dates when it is closed whatever the windows say.
    """

    time_zone: str
    windows: tuple[TimeWindow, ...]
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        check_time_zone(self.time_zone)

    def is_open(self, moment: datetime) -> bool:
        """Whether the schedule allows passage at ``moment`` (aware, any zone)."""
        local = require_aware(moment, "moment").astimezone(ZoneInfo(self.time_zone))
        if local.date() in self.closed_days:
            return False
        return any(window.contains(local) for window in self.windows)


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Lets a person, or everyone with a role, through doors or to floors on a schedule.

    Exactly one of ``person_id`` and ``role`` names who; ``door_ids`` and ``floors`` say
    where (a rule for a lift lists floors: the person's or role's extra floors, on top of
    a resident's home floor, see :mod:`facegate.domain.lifts`). ``building_id`` limits
    the floors to that building's lifts; ``None`` means the floors in every building.
    """

    id: str
    schedule: WeeklySchedule
    person_id: str | None = None
    role: Role | None = None
    door_ids: frozenset[str] = field(default_factory=frozenset)
    floors: frozenset[int] = field(default_factory=frozenset)
    building_id: str | None = None

    def __post_init__(self) -> None:
        if (self.person_id is None) == (self.role is None):
            raise ValidationError("an access rule names either one person or one role")
        if not self.door_ids and not self.floors:
            raise ValidationError("an access rule must name doors or floors")
        if self.building_id is not None and not self.floors:
            raise ValidationError("only a rule that names floors may name a building")

    def applies_to(self, person_id: str, role: Role) -> bool:
        """Whether the rule is about this person."""
        return self.person_id == person_id or self.role is role


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """A person on the site's alert list: their face is refused with reason ``alert_list``.

    Attributes:
        id: opaque id.
        person_id: who (by id; a stranger is first added as a person of role visitor).
        reason: why, in words an auditor can check.
        legal_basis: the law or case reference that allows the listing.
        added_by: the administrator who added it.
        added_at: when (UTC).
        expires_at: when the listing lapses (UTC); an alert entry always lapses.
    """

    id: str
    person_id: str
    reason: str
    legal_basis: str
    added_by: str
    added_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        if not self.reason.strip() or not self.legal_basis.strip():
            raise ValidationError("an alert entry needs a reason and a legal basis")
        if require_aware(self.expires_at, "expires_at") <= require_aware(self.added_at, "at"):
            raise ValidationError("an alert entry must expire after it is added")

    def active(self, now: datetime) -> bool:
        """Whether the listing holds at ``now``."""
        return self.added_at <= now < self.expires_at


def access_reason(
    rules: Iterable[AccessRule], person_id: str, role: Role, door_id: str, moment: datetime
) -> Reason:
    """Whether a person may pass ``door_id`` at ``moment`` under ``rules``.

    Returns:
        ``granted`` when a rule about them names the door and its schedule is open,
        ``outside_schedule`` when such rules exist but all are closed, else
        ``not_allowed_here``.
    """
    relevant = [r for r in rules if r.applies_to(person_id, role) and door_id in r.door_ids]
    if not relevant:
        return Reason.NOT_ALLOWED_HERE
    if any(rule.schedule.is_open(moment) for rule in relevant):
        return Reason.GRANTED
    return Reason.OUTSIDE_SCHEDULE
