"""Request and response bodies shared by several routers (``*Create`` / ``*Public``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from facegate.domain.access import AlertEntry
from facegate.domain.credentials import VisitorPass
from facegate.domain.events import Event
from facegate.domain.people import ConsentMethod, ConsentPurpose, ConsentRecord, Person, Role


class PersonPublic(BaseModel):
    """A person as the API shows them."""

    id: str
    name: str
    role: Role
    unit_id: str | None
    minor: bool
    created_at: datetime
    moved_out_at: datetime | None

    @classmethod
    def of(cls, person: Person) -> PersonPublic:
        """From the domain record."""
        return cls(
            id=person.id,
            name=person.name,
            role=person.role,
            unit_id=person.unit_id,
            minor=person.minor,
            created_at=person.created_at,
            moved_out_at=person.moved_out_at,
        )


class ConsentCreate(BaseModel):
    """A consent to record."""

    purpose: ConsentPurpose = ConsentPurpose.FACE_ACCESS
    text_version: str = Field(min_length=1, max_length=64)
    method: ConsentMethod = ConsentMethod.ELECTRONIC
    guardian: str | None = Field(default=None, max_length=200)


class ConsentPublic(BaseModel):
    """A consent record."""

    id: str
    person_id: str
    purpose: ConsentPurpose
    text_version: str
    method: ConsentMethod
    granted_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, record: ConsentRecord) -> ConsentPublic:
        """From the domain record."""
        return cls(
            id=record.id,
            person_id=record.person_id,
            purpose=record.purpose,
            text_version=record.text_version,
            method=record.method,
            granted_at=record.granted_at,
            withdrawn_at=record.withdrawn_at,
        )


class WithdrawalPublic(BaseModel):
    """What a withdrawal did."""

    withdrawn_at: datetime | None
    templates_deleted: int


class PassCreate(BaseModel):
    """A visitor pass to issue."""

    visitor_name: str = Field(min_length=1, max_length=200)
    hours: float = Field(default=24.0, gt=0, le=24 * 90)
    uses: int = Field(default=1, ge=1, le=1000)
    starts: datetime | None = None


class PassPublic(BaseModel):
    """A visitor pass (the code only when just issued)."""

    id: str
    host_id: str
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    uses: int
    code: str | None = None
    qr_svg: str | None = None

    @classmethod
    def of(cls, visit: VisitorPass, code: str | None = None, svg: str | None = None) -> PassPublic:
        """From the domain record (and, once, its code and QR image)."""
        return cls(
            id=visit.id,
            host_id=visit.host_id,
            visitor_name=visit.visitor_name,
            valid_from=visit.valid_from,
            valid_until=visit.valid_until,
            max_uses=visit.max_uses,
            uses=visit.uses,
            code=code,
            qr_svg=svg,
        )


class EventPublic(BaseModel):
    """An access decision."""

    id: str
    door_id: str
    occurred_at: datetime
    granted: bool
    reason: str
    person_id: str | None
    scores: dict[str, float]

    @classmethod
    def of(cls, event: Event) -> EventPublic:
        """From the domain record."""
        return cls(
            id=event.id,
            door_id=event.door_id,
            occurred_at=event.occurred_at,
            granted=event.granted,
            reason=event.reason.value,
            person_id=event.person_id,
            scores=event.scores,
        )


class AlertPublic(BaseModel):
    """An alert-list entry with what it needs to be lawful."""

    id: str
    person_id: str
    reason: str
    legal_basis: str
    added_by: str
    added_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, entry: AlertEntry) -> AlertPublic:
        """From the domain record."""
        return cls(
            id=entry.id,
            person_id=entry.person_id,
            reason=entry.reason,
            legal_basis=entry.legal_basis,
            added_by=entry.added_by,
            added_at=entry.added_at,
            expires_at=entry.expires_at,
        )
