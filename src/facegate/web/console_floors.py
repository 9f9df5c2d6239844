"""The console's lift-floor pages: a person's floors (unit, extra floors), role grants.

What a lift enables for a person is shown as the gate computes it
(:func:`facegate.services.lift_floors.floors_of`), so the page and the lift agree.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.people import Role
from facegate.http.security import Principal
from facegate.services import lift_floors, people, places
from facegate.services.context import ServiceContext
from facegate.web.console_site import _floors as parse_floors
from facegate.web.render import READERS, STAFF, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]
Building = Annotated[str, Form(max_length=64)]


def _names(context: ServiceContext) -> dict[str, str]:
    """Building names by id."""
    return {b.id: b.name for b in places.list_buildings(context)}


@router.get("/people/{person_id}/floors", response_class=HTMLResponse)
def person_floors(request: Request, principal: Reader, person_id: str) -> Response:
    """A person's home floor, extra floors and what each lift enables for them now."""
    context = context_of(request, principal)
    found = lift_floors.floors_of(context, person_id)
    return render(
        request,
        "floors.html",
        found=found,
        person=found.person,
        buildings=_names(context),
        units=lift_floors.list_units(context),
    )


@router.post("/people/{person_id}/unit")
def assign_unit(
    request: Request,
    principal: StaffPost,
    person_id: str,
    unit_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record the person's unit (empty: none)."""
    people.set_unit(context_of(request, principal), person_id, unit_id or None)
    return redirect(f"/console/people/{person_id}/floors")


@router.post("/people/{person_id}/floors")
def grant_person_floors(
    request: Request,
    principal: StaffPost,
    person_id: str,
    floors: Annotated[str, Form(min_length=1, max_length=2000)],
    building_id: Building = "",
) -> Response:
    """Give the person extra floors, in one building's lifts or in every building's."""
    lift_floors.grant_floors(
        context_of(request, principal),
        parse_floors(floors),
        person_id=person_id,
        building_id=building_id or None,
    )
    return redirect(f"/console/people/{person_id}/floors")


@router.get("/floors", response_class=HTMLResponse)
def role_floors(request: Request, principal: Reader) -> Response:
    """The extra floors given to roles (staff, household members...)."""
    context = context_of(request, principal)
    return render(
        request,
        "role_floors.html",
        grants=lift_floors.role_grants(context),
        buildings=_names(context),
        roles=[r.value for r in Role],
    )


@router.post("/floors")
def grant_role_floors(
    request: Request,
    principal: StaffPost,
    role: Annotated[Role, Form()],
    floors: Annotated[str, Form(min_length=1, max_length=2000)],
    building_id: Building = "",
) -> Response:
    """Give everyone with a role extra floors."""
    lift_floors.grant_floors(
        context_of(request, principal),
        parse_floors(floors),
        role=role,
        building_id=building_id or None,
    )
    return redirect("/console/floors")
