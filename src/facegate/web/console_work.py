"""The console's work pages: the alarm log with its acknowledgement form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.http.security import Principal
from facegate.services import alarm_log, overview, places
from facegate.services.context import ServiceContext
from facegate.web.render import READERS, STAFF, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]


def door_names(context: ServiceContext) -> dict[str, str]:
    """Door and lift names by id (pages show names, ids only in links)."""
    names = {d.id: d.name for d in places.list_doors(context)}
    names.update({lift.id: lift.name for lift in overview.list_lifts(context)})
    return names


@router.get("/alarms", response_class=HTMLResponse)
def alarms(request: Request, principal: Reader, everything: bool = False) -> Response:
    """The active alarms (every recent one with ``?everything=true``), newest first."""
    context = context_of(request, principal)
    return render(
        request,
        "alarms.html",
        alarms=alarm_log.list_alarms(context, active_only=not everything),
        everything=everything,
        door_names=door_names(context),
    )


@router.post("/alarms/{key}/ack")
def acknowledge(
    request: Request,
    principal: StaffPost,
    key: str,
    note: Annotated[str, Form(max_length=alarm_log.ACK_NOTE_MAX)] = "",
    back: Annotated[str, Form(max_length=200)] = "/console/alarms",
) -> Response:
    """Acknowledge an alarm with a note, then back to the page the form was on."""
    alarm_log.acknowledge_alarm(context_of(request, principal), key, note)
    return redirect(back if back.startswith("/console") else "/console/alarms")
