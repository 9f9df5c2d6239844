"""Health and Prometheus metrics (no login needed: they reveal no personal data)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from facegate import __version__
from facegate.http.deps import Deps, ServerDeps
from facegate.http.metrics import Metrics
from facegate.services.context import ServiceContext
from facegate.services.gate_health import GateHealth, gate_health, metrics_lines
from facegate.services.workers import frame_metrics_lines

router = APIRouter(tags=["health"])


class GatePublic(BaseModel):
    """A registered gate and what it last reported when it polled its snapshot.

    ``last_seen`` is when the server last heard from it (an edge gate's poll or event
    delivery, a kiosk's frame or credential), ``null`` when not since the server started;
    ``backlog`` is its outbox's waiting events (-1 unknown); ``camera`` ``ok``,
    ``failed`` or ``unknown``; ``last_sync`` its own last successful sync; ``liveness``
    the liveness mode it decides with (``""`` when it did not say); ``door`` its door
    contact, ``open``, ``closed`` or ``unknown``.
    """

    id: str
    target: str
    kind: str
    last_seen: datetime | None
    last_sync: datetime | None
    version: str
    backlog: int
    camera: str
    liveness: str = ""
    door: str = "unknown"

    @classmethod
    def of(cls, item: GateHealth) -> GatePublic:
        """From the service's record."""
        report = item.report
        return cls(
            id=item.gate_id,
            target=item.target_id,
            kind=item.kind.value,
            last_seen=item.last_seen,
            last_sync=report.last_sync,
            version=report.version,
            backlog=report.backlog,
            camera=report.camera,
            liveness=report.liveness,
            door=report.door,
        )


class Health(BaseModel):
    """The server's state, and its gates' (see :class:`GatePublic`)."""

    status: str
    version: str
    site: str | None
    gates: list[GatePublic] = []


def _context(deps: ServerDeps) -> ServiceContext:
    return ServiceContext(deps.store, deps.clock, "system:health")


@router.get("/health")
def health(deps: Deps) -> Health:
    """Whether the server and its database answer, and when each gate was last heard."""
    with deps.store.unit_of_work() as uow:
        site = uow.site.get()
    gates = [GatePublic.of(g) for g in gate_health(_context(deps))]
    name = None if site is None else site.name
    return Health(status="ok", version=__version__, site=name, gates=gates)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, deps: Deps) -> PlainTextResponse:
    """Counters in Prometheus text format, with each gate's health and the frame workers'."""
    counters: Metrics = request.app.state.metrics
    lines = metrics_lines(gate_health(_context(deps)), deps.clock.now())
    lines += frame_metrics_lines(deps.frame_pool)
    text = counters.render() + "\n".join(lines) + "\n"
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
