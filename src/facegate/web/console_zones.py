"""The console's anti-passback page: zones, their doors, who counts as inside; the forms.

Readers (admin, operator, auditor) see it; staff (admin, operator) set a zone up, put a
door in it and reset it, each through :mod:`facegate.services.zones` (audited).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.errors import ValidationError
from facegate.domain.passback import MAX_ZONE_CHARS, Direction, PassbackMode
from facegate.http.security import Principal
from facegate.services import places, zones
from facegate.web.render import READERS, STAFF, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]


@router.get("/zones", response_class=HTMLResponse)
def zones_page(request: Request, principal: Reader) -> Response:
    """Every zone with its doors (by name) and how many count as inside now."""
    context = context_of(request, principal)
    doors = places.list_doors(context)
    return render(
        request,
        "zones.html",
        zones=zones.list_zones(context),
        doors=doors,
        door_names={d.id: d.name for d in doors},
        modes=[m.value for m in PassbackMode],
        directions=[d.value for d in Direction],
    )


@router.post("/zones")
def set_zone(
    request: Request,
    principal: StaffPost,
    name: Annotated[str, Form(min_length=1, max_length=MAX_ZONE_CHARS)],
    passback: Annotated[PassbackMode, Form()] = PassbackMode.HARD,
    reset_at: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Add a zone or change its mode and daily reset (``HH:MM``, empty: none)."""
    try:
        reset = time.fromisoformat(reset_at) if reset_at.strip() else None
    except ValueError as err:
        raise ValidationError(f"reset time {reset_at!r}: use HH:MM") from err
    zones.set_zone(context_of(request, principal), name, passback, reset)
    return redirect("/console/zones")


@router.post("/zones/doors")
def place_door(
    request: Request,
    principal: StaffPost,
    door_id: Annotated[str, Form(min_length=1, max_length=36)],
    zone: Annotated[str, Form(max_length=MAX_ZONE_CHARS)] = "",
    direction: Annotated[Direction, Form()] = Direction.IN,
) -> Response:
    """Put a door in a zone with its direction (no zone: take it out)."""
    zones.place_door(context_of(request, principal), door_id, zone or None, direction)
    return redirect("/console/zones")


@router.post("/zones/reset")
def reset_zone(
    request: Request,
    principal: StaffPost,
    zone: Annotated[str, Form(min_length=1, max_length=MAX_ZONE_CHARS)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    """Everyone counts as outside the zone from now (audited)."""
    zones.reset_zone(context_of(request, principal), zone, reason)
    return redirect("/console/zones")
