"""Disclosures: what was handed to an authority, about whom, on what basis.

Recording one is for administrators; reading them for administrators and auditors
(each read audited).
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from facegate.domain.disclosure import DataClass, Disclosure
from facegate.http.deps import Admin, Auditor, Deps, context_for
from facegate.services import disclosures
from facegate.services.disclosures import DisclosureRequest

router = APIRouter(prefix="/disclosures", tags=["disclosures"])


class DisclosureCreate(BaseModel):
    """A hand-over to record.

    ``start`` and ``end`` are days (whole local days, ``end`` inclusive) or moments
    (local when without an offset).
    """

    requesting_body: str = Field(min_length=1, max_length=500)
    legal_basis: str = Field(min_length=1, max_length=500)
    person_ids: list[str] = Field(min_length=1, max_length=1000)
    data_classes: list[DataClass] = Field(min_length=1)
    start: date | datetime
    end: date | datetime
    approved_by: str = Field(min_length=1, max_length=200)
    approved_at: AwareDatetime | None = None


class DisclosurePublic(BaseModel):
    """A recorded disclosure."""

    id: str
    requesting_body: str
    legal_basis: str
    person_ids: list[str]
    data_classes: list[DataClass]
    period_start: datetime
    period_end: datetime
    approved_by: str
    approved_at: datetime
    recorded_by: str
    recorded_at: datetime
    digest: str

    @classmethod
    def of(cls, record: Disclosure) -> DisclosurePublic:
        """From the domain record."""
        return cls(
            id=record.id,
            requesting_body=record.requesting_body,
            legal_basis=record.legal_basis,
            person_ids=list(record.person_ids),
            data_classes=sorted(record.data_classes),
            period_start=record.period_start,
            period_end=record.period_end,
            approved_by=record.approved_by,
            approved_at=record.approved_at,
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
            digest=record.digest(),
        )


@router.get("")
def list_disclosures(
    deps: Deps, principal: Auditor, person_id: str | None = None
) -> list[DisclosurePublic]:
    """Every disclosure, or those about ``person_id`` (the read is audited)."""
    found = disclosures.list_disclosures(context_for(deps, principal), person_id)
    return [DisclosurePublic.of(d) for d in found]


@router.post("", status_code=201)
def record_disclosure(deps: Deps, principal: Admin, body: DisclosureCreate) -> DisclosurePublic:
    """Record a disclosure (audited)."""
    request = DisclosureRequest(
        requesting_body=body.requesting_body,
        legal_basis=body.legal_basis,
        person_ids=tuple(body.person_ids),
        data_classes=frozenset(body.data_classes),
        start=body.start,
        end=body.end,
        approved_by=body.approved_by,
        approved_at=body.approved_at,
    )
    return DisclosurePublic.of(disclosures.record_disclosure(context_for(deps, principal), request))
