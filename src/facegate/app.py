"""The web application: the JSON API and the pages over one :class:`ServerDeps`.

Composition only: :mod:`facegate.api` and :mod:`facegate.web` never import each other;
both build on :mod:`facegate.http`, and this module puts them side by side.
"""

from __future__ import annotations

from fastapi import FastAPI

from facegate import __version__
from facegate.api.router import api_router
from facegate.http import errors
from facegate.http.deps import ServerDeps
from facegate.http.headers import SecurityHeadersMiddleware
from facegate.http.key_limit import KeyRateMiddleware
from facegate.http.limits import BodyLimitMiddleware, route_limits
from facegate.http.metrics import Metrics, MetricsMiddleware
from facegate.web import pages


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
    app.add_middleware(KeyRateMiddleware, rate=lambda: deps.device_rate)  # before routing
    app.add_middleware(
        BodyLimitMiddleware, table=route_limits(deps.settings.server.max_upload_bytes)
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    errors.install(app)
    app.include_router(api_router())
    pages.install(app)
    return app
