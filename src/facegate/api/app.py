"""The application factory: routers under ``/api/v1``, error mapping, metrics."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from facegate import __version__
from facegate.api import errors
from facegate.api.deps import ServerDeps
from facegate.api.metrics import Metrics, MetricsMiddleware
from facegate.api.routes import (
    alerts,
    audit,
    auth,
    credentials,
    doors,
    enrollment,
    events,
    gates,
    health,
    me,
    people,
    users,
)
from facegate.web import pages

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every resource's router under :data:`API_PREFIX`."""
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        health,
        auth,
        users,
        people,
        enrollment,
        credentials,
        alerts,
        events,
        audit,
        doors,
        gates,
        me,
    ):
        router.include_router(module.router)
    return router


def create_app(deps: ServerDeps) -> FastAPI:
    """The web application over ``deps`` (see :func:`facegate.bootstrap.build_server`).

    The OpenAPI document is at ``/openapi.json``; interactive docs at ``/docs``.
    """
    app = FastAPI(
        title="facegate",
        version=__version__,
        description="Face-recognition access control with consent, privacy and audit.",
    )
    metrics = Metrics()
    app.state.deps = deps
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    errors.install(app)
    app.include_router(api_router())
    pages.install(app)
    return app
