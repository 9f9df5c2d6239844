"""The console's site mode page: the mode in force, every running request, and the switch.

Readers (admin, operator, auditor) see it; staff (admin, operator) change it through
:func:`facegate.services.site_mode.set_mode`, audited with who and why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import MAX_REASON_CHARS
from facegate.http.security import Principal
from facegate.services import site_mode
from facegate.web.render import READERS, STAFF, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]

MAX_MINUTES = 7 * 24 * 60
"""Longest end time the form offers (minutes from now, one week)."""


@router.get("/site-mode", response_class=HTMLResponse)
def mode_page(request: Request, principal: Reader) -> Response:
    """The site mode in force, who set it, why, until when; the switch for staff."""
    state = site_mode.show_mode(context_of(request, principal))
    return render(request, "site_mode.html", state=state, modes=[m.value for m in SiteMode])


@router.post("/site-mode")
def set_mode(
    request: Request,
    principal: StaffPost,
    mode: Annotated[SiteMode, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=MAX_REASON_CHARS)],
    minutes: Annotated[int | None, Form(ge=1, le=MAX_MINUTES)] = None,
) -> Response:
    """Ask for ``mode`` as the operator (``normal`` withdraws it), ending after ``minutes``."""
    context = context_of(request, principal)
    until = None if minutes is None else context.clock.now() + timedelta(minutes=minutes)
    site_mode.set_mode(context, mode, reason, until)
    return redirect("/console/site-mode")
