"""The console's work pages: the alarm log with its acknowledgement form, the request queue."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.alarms import AlarmRecord
from facegate.domain.gate import GateEventKind
from facegate.domain.requests import RequestState
from facegate.http.deps import server_deps
from facegate.http.security import Principal
from facegate.services import alarm_log, overview, people, places, subject_requests
from facegate.services.alarm_routing import routing_table
from facegate.services.context import ServiceContext
from facegate.web.render import (
    ADMINS,
    READERS,
    STAFF,
    context_of,
    poster,
    redirect,
    render,
    viewer,
)

router = APIRouter(prefix="/console", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]
StaffView = Annotated[Principal, Depends(viewer(STAFF))]


def door_names(context: ServiceContext) -> dict[str, str]:
    """Door and lift names by id (pages show names, ids only in links)."""
    names = {d.id: d.name for d in places.list_doors(context)}
    names.update({lift.id: lift.name for lift in overview.list_lifts(context)})
    return names


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_MACHINE_NOTES = frozenset({GateEventKind.ALERT_LIST, GateEventKind.GATE_SILENT})


def alarm_detail(alarm: AlarmRecord) -> str:
    """The gate's note as people read it, without ids.

    None where the note only names ids (an alert-list hit's decision key, a silent
    gate's id); elsewhere any id is left out.
    """
    if alarm.kind in _MACHINE_NOTES:
        return ""
    return _UUID.sub("…", alarm.note)


@router.get("/alarms", response_class=HTMLResponse)
def alarms(request: Request, principal: Reader, everything: bool = False) -> Response:
    """The active alarms (every recent one with ``?everything=true``), newest first."""
    context = context_of(request, principal)
    found = alarm_log.list_alarms(context, active_only=not everything)
    return render(
        request,
        "alarms.html",
        alarms=found,
        names=people.names_of(context, [a.person_id for a in found if a.person_id]),
        everything=everything,
        door_names=door_names(context),
        detail=alarm_detail,
        routing=_routing(request),
    )


def _routing(request: Request) -> dict[str, list[str]]:
    """Where each alarm type goes, from the server's settings (read-only here)."""
    settings = server_deps(request).settings
    available = ["console"]
    available += ["webhook"] if settings.server.webhook_url else []
    available += ["mqtt"] if settings.server.alarm_mqtt else []
    available += ["email"] if settings.notify.smtp_host else []
    return routing_table(tuple(available), settings.notify.routes)


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


@router.get("/requests", response_class=HTMLResponse)
def requests_queue(request: Request, principal: StaffView, everything: bool = False) -> Response:
    """Residents' erasure and export requests, due soonest first (the read is audited)."""
    context = context_of(request, principal)
    state = None if everything else RequestState.OPEN
    found = subject_requests.queue(context, state)
    return render(
        request,
        "requests.html",
        requests=found,
        names=people.names_of(context, [r.person_id for r in found]),
        everything=everything,
        now=context.clock.now(),
        is_admin=principal.user is not None and principal.user.role in ADMINS,
    )


@router.post("/requests/{request_id}/complete")
def complete_request(
    request: Request,
    principal: StaffPost,
    request_id: str,
    note: Annotated[str, Form(max_length=subject_requests.NOTE_MAX)] = "",
) -> Response:
    """Carry a request out (an erasure erases the person: administrators only)."""
    may_erase = principal.user is not None and principal.user.role in ADMINS
    context = context_of(request, principal)
    subject_requests.complete_request(context, request_id, note, may_erase=may_erase)
    return redirect("/console/requests")


@router.post("/requests/{request_id}/refuse")
def refuse_request(
    request: Request,
    principal: StaffPost,
    request_id: str,
    note: Annotated[str, Form(max_length=subject_requests.NOTE_MAX)] = "",
) -> Response:
    """Refuse a request with the reason the resident will read."""
    subject_requests.refuse_request(context_of(request, principal), request_id, note)
    return redirect("/console/requests")
