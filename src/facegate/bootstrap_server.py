"""Composition root of the web server (kept apart so CLI commands do not import FastAPI)."""

from __future__ import annotations

from fastapi import FastAPI

from facegate.api.app import create_app
from facegate.api.deps import ServerDeps
from facegate.api.security import LoginLimiter
from facegate.bootstrap import (
    SystemClock,
    build_photo_describer,
    build_sealer,
    build_store,
)
from facegate.config import Settings
from facegate.messaging.webhook import WebhookNotifier
from facegate.services.accounts import ensure_admin
from facegate.services.context import ServiceContext
from facegate.store.passwords import Argon2Hasher
from facegate.vision.photos import EnginePhotoDescriber


def _admin_from_settings(settings: Settings, deps: ServerDeps) -> None:
    if settings.admin_user and settings.admin_password is not None:
        context = ServiceContext(store=deps.store, clock=deps.clock, actor="bootstrap")
        password = settings.admin_password.get_secret_value()
        ensure_admin(context, deps.hasher, settings.admin_user, password)


def build_server(settings: Settings) -> ServerDeps:
    """Everything ``facegate serve`` runs on; creates the first administrator if asked.

    The administrator comes from ``FACEGATE_ADMIN_USER`` / ``FACEGATE_ADMIN_PASSWORD``
    (never a default). The face engine is built on the first enrollment, not here.

    Raises:
        BadInputError: default secrets outside development, no site yet, weak password.
    """
    settings.server.check_secrets()
    server = settings.server
    engine: list[EnginePhotoDescriber] = []

    def describer() -> EnginePhotoDescriber:
        if not engine:
            engine.append(build_photo_describer(settings, require_quality=True))
        return engine[0]

    notify = None
    if server.webhook_url:
        notify = WebhookNotifier(server.webhook_url, server.webhook_timeout_s)
    deps = ServerDeps(
        settings=settings,
        store=build_store(settings),
        clock=SystemClock(),
        hasher=Argon2Hasher(),
        sealer=lambda: build_sealer(settings),
        describer=describer,
        notify=notify,
        limiter=LoginLimiter(server.login_attempts, server.login_window_s),
    )
    _admin_from_settings(settings, deps)
    return deps


def build_app(settings: Settings) -> FastAPI:
    """The web application for ``settings`` (see :func:`build_server`)."""
    return create_app(build_server(settings))
