"""The audit log (administrators and auditors) and retention (settings and purge)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from facegate.domain.audit import DetailValue
from facegate.http.deps import Admin, Auditor, Deps, Reader, context_for
from facegate.services import activity, retention, site_admin

router = APIRouter(tags=["audit"])


class AuditPublic(BaseModel):
    """One audit record."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    subject_id: str | None
    details: dict[str, DetailValue]
    hash: str


class ChainPublic(BaseModel):
    """Whether the audit chain verifies end to end."""

    intact: bool
    records: int
    broken_seq: int | None
    problem: str | None


class Retention(BaseModel):
    """Retention periods in days (set by the ``FACEGATE_RETENTION__*`` settings)."""

    periods_days: dict[str, int]


class PurgePublic(BaseModel):
    """How many records of each class a purge deleted."""

    deleted: dict[str, int]
    total: int


@router.get("/audit")
def read_audit(
    deps: Deps,
    principal: Auditor,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditPublic]:
    """Audit records after ``after_seq``, oldest first (the read is itself audited)."""
    records = activity.read_audit(context_for(deps, principal), after_seq, limit)
    return [
        AuditPublic(
            seq=r.seq,
            occurred_at=r.occurred_at,
            actor=r.actor,
            action=r.action,
            subject_id=r.subject_id,
            details=dict(r.details),
            hash=r.hash,
        )
        for r in records
    ]


@router.get("/audit/verify")
def verify_audit(deps: Deps, principal: Auditor) -> ChainPublic:
    """Verify the hash chain end to end."""
    report = site_admin.verify_audit(context_for(deps, principal))
    return ChainPublic(
        intact=report.intact,
        records=report.records,
        broken_seq=report.broken_seq,
        problem=report.problem,
    )


@router.get("/retention")
def retention_settings(deps: Deps, principal: Reader) -> Retention:
    """The retention periods in force."""
    policy = deps.settings.retention
    return Retention(periods_days={k: int(v) for k, v in asdict(policy).items()})


@router.post("/retention/purge")
def purge(deps: Deps, principal: Admin) -> PurgePublic:
    """Delete what has outlived its retention period now (audited)."""
    report = retention.purge(context_for(deps, principal), deps.settings.retention)
    return PurgePublic(deleted=report.counts, total=report.total)
