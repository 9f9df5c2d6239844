"""The console's dashboard at ``/console``: doors, lifts and gates at a glance, live.

The page holds one panel (doors with their state and gates, today's counts, alarms,
the latest events); its script listens to the live event stream
(``/api/v1/events/stream``) and fetches the panel again (``/console/panel``) on each
event or alarm, and every few seconds so an unlocked door shows locked again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from facegate.http.deps import server_deps
from facegate.http.security import Principal
from facegate.services import alarm_log, dashboard
from facegate.services.dashboard import DoorState, Timing
from facegate.services.names import names_for
from facegate.web.announcement import current_announcement
from facegate.web.render import READERS, context_of, render, viewer

router = APIRouter(prefix="/console", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
REFRESH_S = 3
"""How often the page fetches its panel again without an event (seconds)."""


def _panel(request: Request, principal: Principal) -> dict[str, Any]:
    deps = server_deps(request)
    gate = deps.settings.gate
    timing = Timing(gate.unlock_duration_s, gate.silent_after_s)
    context = context_of(request, principal)
    alarms = alarm_log.list_alarms(context, active_only=False)
    board = dashboard.build_dashboard(context, alarms, timing, gate.liveness)
    shown = [e.person_id for e in board.recent] + [a.person_id for a in board.alarms]
    return {
        "board": board,
        "names": names_for(context, shown),
        "states": [s.value for s in DoorState],
        "announcement": current_announcement(request),
    }


@router.get("", response_class=HTMLResponse)
def home(request: Request, principal: Reader) -> Response:
    """The dashboard (opening it is audited; its refreshes are not)."""
    dashboard.open_dashboard(context_of(request, principal))
    return render(request, "dashboard.html", refresh_s=REFRESH_S, **_panel(request, principal))


@router.get("/panel", response_class=HTMLResponse)
def panel(request: Request, principal: Reader) -> Response:
    """The dashboard's panel alone (the page's script swaps it in)."""
    return render(request, "_dashboard_panel.html", **_panel(request, principal))
