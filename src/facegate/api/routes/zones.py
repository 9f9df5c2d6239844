"""Anti-passback zones over the API.

``GET /zones``, ``PUT /zones/{name}``, ``POST /zones/{name}/reset`` and
``PUT /doors/{door_id}/zone``. Reading takes a reader role; changes take staff
(admin, operator), each audited
(:mod:`facegate.services.zones`). The rules are :mod:`facegate.domain.passback`.
"""

from __future__ import annotations

from datetime import datetime, time

from fastapi import APIRouter
from pydantic import BaseModel, Field

from facegate.domain.passback import MAX_ZONE_CHARS, Direction, PassbackMode
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import zones

router = APIRouter(tags=["zones"])


class ZoneChange(BaseModel):
    """A zone's anti-passback mode and daily reset (local time of the site)."""

    passback: PassbackMode = PassbackMode.HARD
    reset_at: time | None = None


class ZonePublic(BaseModel):
    """A zone, its doors (id: ``in``/``out``) and how many count as inside now."""

    name: str
    passback: PassbackMode
    reset_at: str | None
    cleared_at: datetime | None
    doors: dict[str, Direction]
    inside: int


class ZoneList(BaseModel):
    """Every zone."""

    zones: list[ZonePublic]


class ZoneReset(BaseModel):
    """Why the zone is reset (audited)."""

    reason: str = Field(min_length=1, max_length=500)


class ResetDone(BaseModel):
    """How many presence records a reset forgot."""

    name: str
    forgotten: int


class DoorZone(BaseModel):
    """A door's zone (``null``: in no zone) and direction."""

    zone: str | None = Field(default=None, max_length=MAX_ZONE_CHARS)
    direction: Direction = Direction.IN


@router.get("/zones")
def list_zones(deps: Deps, principal: Reader) -> ZoneList:
    """Every zone with its doors and how many people count as inside."""
    views = zones.list_zones(context_for(deps, principal))
    return ZoneList(zones=[ZonePublic.model_validate(v.to_json()) for v in views])


@router.put("/zones/{name}")
def put_zone(deps: Deps, principal: Staff, name: str, body: ZoneChange) -> ZonePublic:
    """Add a zone or change it (audited)."""
    context = context_for(deps, principal)
    zone = zones.set_zone(context, name, body.passback, body.reset_at)
    view = next(v for v in zones.list_zones(context) if v.zone.name == zone.name)
    return ZonePublic.model_validate(view.to_json())


@router.post("/zones/{name}/reset")
def reset_zone(deps: Deps, principal: Staff, name: str, body: ZoneReset) -> ResetDone:
    """Everyone counts as outside the zone from now (audited)."""
    forgotten = zones.reset_zone(context_for(deps, principal), name, body.reason)
    return ResetDone(name=name, forgotten=forgotten)


@router.put("/doors/{door_id}/zone")
def put_door_zone(deps: Deps, principal: Staff, door_id: str, body: DoorZone) -> DoorZone:
    """Put a door in a zone with its direction, or take it out (audited)."""
    zones.place_door(context_for(deps, principal), door_id, body.zone, body.direction)
    return body
