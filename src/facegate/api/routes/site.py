"""The site mode at run time: ``GET`` and ``PUT /api/v1/site/mode``.

Reading it takes a reader role (admin, operator, auditor); changing it staff (admin,
operator). Every change is audited with who and why (:mod:`facegate.services.site_mode`),
and gates learn it within their ``sync_interval_s`` (1 s).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import MAX_REASON_CHARS, ModeSource
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import site_mode

router = APIRouter(tags=["site"])


class ModeChange(BaseModel):
    """A mode asked for; ``normal`` withdraws the source's request."""

    mode: SiteMode
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    until: AwareDatetime | None = None
    source: ModeSource = ModeSource.OPERATOR


class ModeRequestPublic(BaseModel):
    """One running request for a mode."""

    mode: SiteMode
    source: ModeSource
    reason: str
    set_by: str
    set_at: datetime
    until: datetime | None


class ModePublic(BaseModel):
    """The mode in force and every running request (fire > lockdown > free_passage)."""

    mode: SiteMode
    source: ModeSource | None
    reason: str | None
    set_by: str | None
    set_at: datetime | None
    until: datetime | None
    requests: list[ModeRequestPublic]

    @classmethod
    def of(cls, state: site_mode.ModeState) -> ModePublic:
        """From the service's state."""
        return cls.model_validate(state.to_json())


@router.get("/site/mode")
def get_mode(deps: Deps, principal: Reader) -> ModePublic:
    """The site mode in force, who set it, why and until when."""
    return ModePublic.of(site_mode.show_mode(context_for(deps, principal)))


@router.put("/site/mode")
def put_mode(deps: Deps, principal: Staff, body: ModeChange) -> ModePublic:
    """Ask for a mode (audited); gates learn it within a second."""
    context = context_for(deps, principal)
    state = site_mode.set_mode(context, body.mode, body.reason, body.until, body.source)
    return ModePublic.of(state)
