"""Pages without a login: the privacy notice, the kiosk, and the city announcement.

The privacy notice is for the site's signage; the kiosk's script asks for the city
announcement now and then.
"""

from __future__ import annotations

from dataclasses import asdict
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.reasons import Reason
from facegate.http.deps import context_for, server_deps
from facegate.services import overview
from facegate.web.announcement import KIOSK_POLL_S, current_announcement
from facegate.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/privacy", response_class=HTMLResponse)
def privacy_notice(request: Request) -> Response:
    """The generated privacy notice: what is collected, why, how long, opt-out, whom to ask."""
    deps = server_deps(request)
    site = overview.site_of(context_for(deps, None))
    return render(
        request,
        "privacy.html",
        site_name=site.name if site else "",
        periods=asdict(deps.settings.retention),
    )


FAVICON = "favicon.svg"
"""The site icon in ``/static`` (a door, SVG)."""


@router.get("/favicon.ico")
def favicon() -> Response:
    """The site icon where browsers look for it unasked (an SVG: no 404 on every page)."""
    icon = (files("facegate.web") / "static" / FAVICON).read_bytes()
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(icon, media_type="image/svg+xml", headers=headers)


@router.get("/kiosk/{door_id}", response_class=HTMLResponse)
def kiosk(request: Request, door_id: str) -> Response:
    """The kiosk page of a door: camera frames to the door's frames endpoint, and fallback.

    The page holds no secret: the door's device key is typed in once on the tablet and
    kept in its browser storage; every request carries it in the ``X-Device-Key`` header.
    """
    return render(
        request,
        "kiosk.html",
        door_id=door_id,
        reasons=[r.value for r in Reason],
        announcement=current_announcement(request),
        announcement_poll_s=KIOSK_POLL_S,
    )


@router.get("/announcement.json")
def announcement(request: Request) -> dict[str, str | None]:
    """The city announcement in force, for the kiosk page's script.

    Public, as it is shown on the kiosks: ``{"text", "until"}``, both ``null`` when none.
    """
    found = current_announcement(request)
    if found is None:
        return {"text": None, "until": None}
    return {"text": found.text, "until": found.until.isoformat()}
