"""The resident's portal: consent, own history, own data, visitor invitations, erasure."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.events import EventQuery
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.domain.requests import RequestKind
from facegate.http.deps import server_deps
from facegate.http.security import Principal
from facegate.services import accounts, activity, credentials, overview, rights, subject_requests
from facegate.services.consent import grant_consent, withdraw_consent
from facegate.services.names import names_for
from facegate.web.console_people import CONSENT_TEXT_VERSION, pass_page
from facegate.web.render import RESIDENTS, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/portal", include_in_schema=False)

ResidentView = Annotated[Principal, Depends(viewer(RESIDENTS))]
ResidentPost = Annotated[Principal, Depends(poster(RESIDENTS))]


def _me(principal: Principal) -> str:
    assert principal.user is not None  # viewer/poster admit users only
    return accounts.require_person(principal.user)


@router.get("", response_class=HTMLResponse)
def portal(request: Request, principal: ResidentView, done: str = "") -> Response:
    """My consent, my access history and my visitor passes."""
    context = context_of(request, principal)
    person_id = _me(principal)
    detail = overview.person_detail(context, person_id)
    history = activity.search_events(context, EventQuery(person_id=person_id, limit=100))
    return render(
        request,
        "portal.html",
        detail=detail,
        person=detail.summary.person,
        history=history,
        door_names=names_for(context).places,
        text_version=CONSENT_TEXT_VERSION,
        done=done,
        requests=subject_requests.requests_of(context, person_id),
        now=context.clock.now(),
    )


@router.post("/consent")
def give_consent(request: Request, principal: ResidentPost) -> Response:
    """Give my consent to face access (recorded as electronic)."""
    context = context_of(request, principal)
    grant_consent(
        context,
        _me(principal),
        ConsentPurpose.FACE_ACCESS,
        CONSENT_TEXT_VERSION,
        ConsentMethod.ELECTRONIC,
    )
    return redirect("/portal?done=consent")


@router.post("/consent/withdraw")
def withdraw(request: Request, principal: ResidentPost) -> Response:
    """Withdraw my consent: my face data is destroyed at once; my card keeps working."""
    withdraw_consent(context_of(request, principal), _me(principal), ConsentPurpose.FACE_ACCESS)
    return redirect("/portal?done=withdrawn")


@router.get("/export")
def export(request: Request, principal: ResidentView) -> Response:
    """Download everything held about me, as JSON."""
    visible = server_deps(request).settings.disclosures_visible_to_person
    context = context_of(request, principal)
    data = rights.export_person(context, _me(principal), include_disclosures=visible)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    headers = {"Content-Disposition": 'attachment; filename="facegate-my-data.json"'}
    return Response(body, media_type="application/json", headers=headers)


@router.post("/passes", response_class=HTMLResponse)
def invite(
    request: Request,
    principal: ResidentPost,
    visitor_name: Annotated[str, Form(min_length=1, max_length=200)],
    hours: Annotated[float, Form(gt=0, le=24 * 7)] = 24.0,
) -> Response:
    """Invite a visitor: a time-limited, single-use QR pass shown once."""
    issued = credentials.create_pass(
        context_of(request, principal), _me(principal), visitor_name, timedelta(hours=hours)
    )
    return pass_page(request, issued)


def _file(request: Request, principal: Principal, kind: RequestKind) -> None:
    due_days = server_deps(request).settings.request_due_days
    context = context_of(request, principal)
    subject_requests.file_request(context, _me(principal), kind, due_days)


@router.post("/erasure")
def request_erasure(request: Request, principal: ResidentPost) -> Response:
    """Ask the site to erase me: the request joins the staff's queue with a due date."""
    _file(request, principal, RequestKind.ERASURE)
    return redirect("/portal?done=erasure")


@router.post("/export-request")
def request_export(request: Request, principal: ResidentPost) -> Response:
    """Ask the office for a copy of my data (the download above gives it at once too)."""
    _file(request, principal, RequestKind.EXPORT)
    return redirect("/portal?done=export")
