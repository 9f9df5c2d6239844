"""People and their consent.

A consent record is the proof that a person (or, for a minor, their guardian) agreed to
one purpose under one text version. Face enrollment needs a valid record for
:attr:`ConsentPurpose.FACE_ACCESS`; withdrawing it ends face access at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from facegate.domain.clock import require_aware
from facegate.domain.errors import ValidationError


class Role(StrEnum):
    """What a person is to the site."""

    RESIDENT = "resident"
    HOUSEHOLD_MEMBER = "household_member"
    STAFF = "staff"
    VISITOR = "visitor"


MAX_NAME_LENGTH = 200
"""Most characters in a person's name, whichever way it arrives (API, console, CSV)."""


def check_name(name: str) -> str:
    """``name`` stripped, when it is a name facegate stores.

    Raises:
        ValidationError: empty, over :data:`MAX_NAME_LENGTH` characters, or holding a
            control character (a NUL, a line break).
    """
    stripped = name.strip()
    if not stripped:
        raise ValidationError("a person needs a name")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValidationError(f"a name has at most {MAX_NAME_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in stripped):
        raise ValidationError("a name may not hold control characters")
    return stripped


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the site knows.

    Attributes:
        id: opaque id; the only way audit records and events name a person.
        site_id: the site they belong to.
        name: display name (personal data: exported, erased, never audited).
        role: what they are to the site.
        created_at: when they were added (UTC).
        unit_id: the unit they live or work in, if any.
        minor: under the age of consent; their consent must name a guardian.
        moved_out_at: when they left the site (UTC); their face templates are then
            purged per the retention policy, ``None`` while they live or work here.
    """

    id: str
    site_id: str
    name: str
    role: Role
    created_at: datetime
    unit_id: str | None = None
    minor: bool = False
    moved_out_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("a person needs a name")
        require_aware(self.created_at, "created_at")
        if self.moved_out_at is not None:
            require_aware(self.moved_out_at, "moved_out_at")


class ConsentPurpose(StrEnum):
    """What a consent is for; each purpose needs its own (PIPL art. 29, GDPR art. 9)."""

    FACE_ACCESS = "face_access"


class ConsentMethod(StrEnum):
    """How consent was given."""

    WRITTEN = "written"
    ELECTRONIC = "electronic"
    KIOSK = "kiosk"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One person's consent to one purpose.

    Attributes:
        id: opaque id.
        person_id: whose consent (kept after an erasure as proof, by id only).
        purpose: what it allows.
        text_version: the version of the consent text shown ("2026-01").
        granted_at: when it was given (UTC).
        method: how it was given.
        withdrawn_at: when it was withdrawn, ``None`` while in force.
        guardian: who consented for a minor, ``None`` for an adult.
    """

    id: str
    person_id: str
    purpose: ConsentPurpose
    text_version: str
    granted_at: datetime
    method: ConsentMethod
    withdrawn_at: datetime | None = None
    guardian: str | None = None

    def __post_init__(self) -> None:
        if not self.text_version.strip():
            raise ValidationError("a consent record needs the version of the text shown")
        require_aware(self.granted_at, "granted_at")
        if self.withdrawn_at is not None:
            require_aware(self.withdrawn_at, "withdrawn_at")

    def in_force(self, now: datetime) -> bool:
        """Whether this consent holds at ``now``: given by then and not withdrawn by then."""
        if self.granted_at > now:
            return False
        return self.withdrawn_at is None or self.withdrawn_at > now

    def withdrawn(self, at: datetime) -> ConsentRecord:
        """This record, withdrawn at ``at``."""
        return replace(self, withdrawn_at=require_aware(at, "withdrawn_at"))


def new_consent_for(person: Person, record: ConsentRecord) -> ConsentRecord:
    """Check that ``record`` may be given for ``person`` and return it.

    Raises:
        ValidationError: the record is for someone else, or a minor's has no guardian.
    """
    if record.person_id != person.id:
        raise ValidationError("consent record names another person")
    if person.minor and not (record.guardian or "").strip():
        raise ValidationError(
            f"person {person.id} is a minor: their consent must name the guardian who gave it"
        )
    return record


def consent_in_force(
    records: Iterable[ConsentRecord], purpose: ConsentPurpose, now: datetime
) -> ConsentRecord | None:
    """The consent for ``purpose`` in force at ``now``, the latest given; else ``None``."""
    valid = [r for r in records if r.purpose is purpose and r.in_force(now)]
    return max(valid, key=lambda r: r.granted_at) if valid else None
