"""Disclosure records: what was handed to an authority, about whom, on what basis.

When the police (or a court, a regulator) ask for a resident's entries, the site records
who asked, under which law, what exactly was handed over (the people, the data classes,
the time range) and who approved it. The auditor sees every disclosure; a person sees
the ones about them in their export where the site's policy allows
(:attr:`facegate.config.Settings.disclosures_visible_to_person`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from facegate.domain.clock import require_aware
from facegate.domain.errors import ValidationError


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _local_start(day: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(day, datetime):
        return day if day.tzinfo is not None else day.replace(tzinfo=zone)
    return datetime.combine(day, time(0), tzinfo=zone)


def period_of(
    start: date | datetime, end: date | datetime, time_zone: str
) -> tuple[datetime, datetime]:
    """The UTC time range ``start`` to ``end`` describe, read in the site's time zone.

    A date means its whole local day: ``start`` from its first moment, ``end`` up to
    the end of that day (so ``2026-03-01`` to ``2026-03-31`` is all of March). A
    datetime without an offset is local time; one with an offset is taken as given.

    Returns:
        ``(period_start, period_end)`` in UTC, the end exclusive.
    """
    zone = ZoneInfo(time_zone)
    first = _local_start(start, zone)
    if isinstance(end, datetime):
        last = _local_start(end, zone)
    else:
        last = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    return first.astimezone(UTC), last.astimezone(UTC)


class DataClass(StrEnum):
    """A kind of data a disclosure may cover (the sections of a person's export)."""

    PERSON = "person"
    EVENTS = "events"
    CREDENTIALS = "credentials"
    FACE_TEMPLATES = "face_templates"
    CONSENTS = "consents"
    VISITOR_PASSES = "visitor_passes"
    ALERT_ENTRIES = "alert_entries"
    ACCESS_RULES = "access_rules"


def parse_data_classes(text: str) -> frozenset[DataClass]:
    """Data classes from a comma-separated list (``events,consents``).

    Raises:
        ValidationError: empty, or a name that is not a :class:`DataClass`.
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {c.value for c in DataClass}
    unknown = sorted(set(names) - known)
    if unknown or not names:
        raise ValidationError(
            f"unknown data class(es) {unknown or [text]}: choose from {sorted(known)}"
        )
    return frozenset(DataClass(name) for name in names)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One hand-over of personal data to an authority.

    Attributes:
        id: opaque id.
        requesting_body: who asked ("City Police, 3rd precinct").
        legal_basis: the law, warrant or case reference that allows it.
        person_ids: whose data (opaque ids, sorted; the record outlives an erasure).
        data_classes: which kinds of data.
        period_start: the start of the time range covered (UTC, inclusive).
        period_end: its end (UTC, exclusive).
        approved_by: who approved the hand-over.
        approved_at: when it was approved (UTC).
        recorded_by: the operator who recorded it (``cli:alice``).
        recorded_at: when it was recorded (UTC).
    """

    id: str
    requesting_body: str
    legal_basis: str
    person_ids: tuple[str, ...]
    data_classes: frozenset[DataClass]
    period_start: datetime
    period_end: datetime
    approved_by: str
    approved_at: datetime
    recorded_by: str
    recorded_at: datetime

    def __post_init__(self) -> None:
        for name in ("requesting_body", "legal_basis", "approved_by"):
            if not getattr(self, name).strip():
                raise ValidationError(f"a disclosure needs {name.replace('_', ' ')}")
        if not self.person_ids or len(set(self.person_ids)) != len(self.person_ids):
            raise ValidationError("a disclosure names at least one person, each once")
        if not self.data_classes:
            raise ValidationError("a disclosure covers at least one data class")
        start = require_aware(self.period_start, "period_start")
        if require_aware(self.period_end, "period_end") <= start:
            raise ValidationError("a disclosure's time range must end after it starts")
        require_aware(self.approved_at, "approved_at")
        if require_aware(self.recorded_at, "recorded_at") < self.approved_at:
            raise ValidationError("a disclosure cannot be approved after it is recorded")

    def digest(self) -> str:
        """SHA-256 (hex) of the record's canonical JSON; the audit record carries it."""
        body = {
            "id": self.id,
            "requesting_body": self.requesting_body,
            "legal_basis": self.legal_basis,
            "person_ids": sorted(self.person_ids),
            "data_classes": sorted(self.data_classes),
            "period_start": _utc(self.period_start),
            "period_end": _utc(self.period_end),
            "approved_by": self.approved_by,
            "approved_at": _utc(self.approved_at),
            "recorded_by": self.recorded_by,
            "recorded_at": _utc(self.recorded_at),
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
