"""Health and Prometheus metrics (no login needed: they reveal no personal data)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from facegate import __version__
from facegate.http.deps import Deps
from facegate.http.metrics import Metrics

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The server's state."""

    status: str
    version: str
    site: str | None


@router.get("/health")
def health(deps: Deps) -> Health:
    """Whether the server and its database answer."""
    with deps.store.unit_of_work() as uow:
        site = uow.site.get()
    return Health(status="ok", version=__version__, site=None if site is None else site.name)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Counters in Prometheus text format."""
    counters: Metrics = request.app.state.metrics
    return PlainTextResponse(counters.render(), media_type="text/plain; version=0.0.4")
