"""The alert list: every entry with its reason, legal basis and expiry."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from facegate.api.schemas import AlertPublic
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import activity, credentials

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertCreate(BaseModel):
    """An alert-list entry to add; an entry always lapses."""

    person_id: str
    reason: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    days: float = Field(default=30.0, gt=0, le=365)


@router.get("")
def list_alerts(deps: Deps, principal: Reader) -> list[AlertPublic]:
    """The alert list, soonest expiry first (audited)."""
    return [AlertPublic.of(a) for a in activity.list_alerts(context_for(deps, principal))]


@router.post("", status_code=201)
def add_alert(deps: Deps, principal: Staff, body: AlertCreate) -> AlertPublic:
    """Add an entry; the configured webhook is told (id and expiry only, no name)."""
    entry = credentials.add_alert(
        context_for(deps, principal),
        body.person_id,
        body.reason,
        body.legal_basis,
        timedelta(days=body.days),
    )
    if deps.notify is not None:
        deps.notify(
            {
                "event": "alert.added",
                "alert_id": entry.id,
                "person_id": entry.person_id,
                "expires_at": entry.expires_at.isoformat(),
            }
        )
    return AlertPublic.of(entry)
