"""The console's gates page: every registered gate with its health, and registering one.

Registering a gate issues its device key (shown once) with a one-line start command for
the gate's box: the camera, the actuator and the liveness mode are the gate's own
settings (``FACEGATE_GATE__*`` where it runs), so they go into the command, not into the
server. An edge gate silent for longer than ``FACEGATE_GATE__SILENT_AFTER_S`` raises the
``gate_silent`` alarm (:class:`facegate.services.alarms.SilentGateWatch`).

An administrator may ask a gate for a recent camera frame (``/console/gates/{id}/frame``):
fetched from the gate then, shown once from memory, never stored, each view audited
(:mod:`facegate.services.gate_frames`).
"""

from __future__ import annotations

import base64
import shlex
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.config import LivenessMode
from facegate.domain.accounts import GateKind
from facegate.http.deps import server_deps
from facegate.http.security import Principal
from facegate.services import accounts, dashboard, gate_frames, overview, places
from facegate.services.dashboard import Timing
from facegate.services.gate_health import gate_health
from facegate.web.render import ADMINS, READERS, context_of, poster, render, viewer

router = APIRouter(prefix="/console/gates", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
Admin = Annotated[Principal, Depends(viewer(ADMINS))]
AdminPost = Annotated[Principal, Depends(poster(ADMINS))]
Actuator = Literal["simulated", "mqtt", "http"]
ACTUATORS: tuple[Actuator, ...] = ("simulated", "mqtt", "http")
LIVENESS_MODES: tuple[str, ...] = get_args(get_args(LivenessMode)[0])
"""The liveness modes a gate may run (from the settings' own type)."""


def start_command(
    server_url: str,
    gate_id: str,
    secret: str,
    target_id: str,
    camera: str,
    actuator: Actuator,
    liveness: str,
    relay_url: str = "",
) -> str:
    """The shell line that starts an edge gate on its box (every value shell-quoted)."""
    env = {
        "FACEGATE_GATE__GATE_ID": gate_id,
        "FACEGATE_GATE__UPSTREAM": "http",
        "FACEGATE_GATE__SERVER_URL": server_url,
        "FACEGATE_GATE__DEVICE_KEY": secret,
        "FACEGATE_GATE__ACTUATOR": actuator,
        "FACEGATE_GATE__LIVENESS": liveness,
    }
    if actuator == "http" and relay_url:
        env["FACEGATE_GATE__HTTP_URL"] = relay_url
    words = [f"{name}={shlex.quote(value)}" for name, value in env.items()]
    words += ["facegate", "gate", "--door", shlex.quote(target_id)]
    words += ["--camera", shlex.quote(camera or "0")]
    return " ".join(words)


@router.get("", response_class=HTMLResponse)
def gates(request: Request, principal: Reader) -> Response:
    """Every registered gate with its door or lift and its health."""
    context = context_of(request, principal)
    settings = server_deps(request).settings.gate
    timing = Timing(settings.unlock_duration_s, settings.silent_after_s)
    now = context.clock.now()
    lines = [dashboard.gate_line(h, now, timing, settings.liveness) for h in gate_health(context)]
    targets = [(d.id, d.name) for d in places.list_doors(context)]
    targets += [(lift.id, lift.name) for lift in overview.list_lifts(context)]
    return render(
        request,
        "gates.html",
        lines=lines,
        targets=targets,
        target_names=dict(targets),
        silent_after_s=int(settings.silent_after_s),
        actuators=ACTUATORS,
        liveness_modes=LIVENESS_MODES,
        kinds=[GateKind.EDGE.value, GateKind.KIOSK.value],
    )


@router.post("", response_class=HTMLResponse)
def register_gate(
    request: Request,
    principal: AdminPost,
    target_id: Annotated[str, Form(min_length=1, max_length=64)],
    gate_id: Annotated[str, Form(min_length=1, max_length=36)],
    kind: Annotated[GateKind, Form()] = GateKind.EDGE,
    label: Annotated[str, Form(max_length=100)] = "",
    camera: Annotated[str, Form(max_length=500)] = "",
    actuator: Annotated[Actuator, Form()] = "simulated",
    relay_url: Annotated[str, Form(max_length=500)] = "",
    liveness: Annotated[LivenessMode, Form()] = "motion",
) -> Response:
    """Register a gate for a door or lift and show its key and start command once."""
    issued = accounts.issue_device_key(
        context_of(request, principal), target_id, label, kind, gate_id.strip()
    )
    command = ""
    if kind is GateKind.EDGE:
        server_url = str(request.base_url).rstrip("/")
        command = start_command(
            server_url,
            issued.key.gate_id,
            issued.secret,
            target_id,
            camera,
            actuator,
            liveness,
            relay_url,
        )
    return render(request, "key.html", key=issued.key, secret=issued.secret, command=command)


@router.get("/{gate_id}/frame", response_class=HTMLResponse)
def gate_frame(request: Request, principal: Admin, gate_id: str) -> Response:
    """A recent frame from the gate, asked now (administrators only; audited; not stored)."""
    frame = gate_frames.view_gate_frame(context_of(request, principal), gate_id)
    answer = render(
        request,
        "gate_frame.html",
        gate_id=gate_id,
        image=base64.b64encode(frame.data).decode("ascii") if frame is not None else "",
        media_type=frame.media_type if frame is not None else "",
        wait_s=round(gate_frames.FRAME_WAIT_S, 1),
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer
