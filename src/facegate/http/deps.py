"""What the routers need, wired by the composition root, and per-request dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from facegate.config import ServerSettings, Settings
from facegate.domain.accounts import AccountRole, secret_hash
from facegate.domain.errors import PolicyRefusedError, ServiceUnavailableError
from facegate.http.key_rate import KeyRate
from facegate.http.security import (
    CSRF_HEADER,
    DEVICE_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    LoginLimiter,
    Principal,
    csrf_matches,
)
from facegate.ports import (
    Clock,
    DoorOpener,
    FrameDecider,
    PasswordHasher,
    PhotoDescriber,
    Store,
    TemplateSealer,
)
from facegate.services import accounts
from facegate.services.alarms import AlarmService
from facegate.services.context import ServiceContext
from facegate.services.workers import WorkerPool


@dataclass(slots=True)
class ServerDeps:
    """The adapters a server process runs on (built in :mod:`facegate.bootstrap`).

    Attributes:
        settings: the process's settings.
        store: the site's database.
        clock: the time source.
        hasher: password hashing.
        sealer: the template sealer factory (reads the site key when called).
        describer: the enrollment photo describer factory (loads models when called).
        opener: the remote unlock's actuator; ``None`` when no door driver is set up.
        decider: the gate's decision pipeline for kiosk frames; ``None`` until wired.
        notify: called with a JSON-ready dict for each alert-list notification.
        limiter: login rate limiter.
        alarms: the site's alarm service (MQTT, webhook, console stream); ``None``: none.
        frame_pool: the bounded workers that decide kiosk frames off the event loop.
        device_rate: the device keys' request rate (429 beyond it).
    """

    settings: Settings
    store: Store
    clock: Clock
    hasher: PasswordHasher
    sealer: Callable[[], TemplateSealer]
    describer: Callable[[], PhotoDescriber]
    opener: DoorOpener | None = None
    decider: FrameDecider | None = None
    notify: Callable[[dict[str, str]], None] | None = None
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    alarms: AlarmService | None = None
    frame_pool: WorkerPool = field(default_factory=lambda: WorkerPool(2))
    device_rate: KeyRate = field(default_factory=lambda: KeyRate.of(ServerSettings()))


def server_deps(request: Request) -> ServerDeps:
    """The :class:`ServerDeps` of the app serving ``request``."""
    deps: ServerDeps = request.app.state.deps
    return deps


Deps = Annotated[ServerDeps, Depends(server_deps)]


def _resolve(request: Request, deps: ServerDeps) -> Principal | None:
    context = context_for(deps, None)
    device_secret = request.headers.get(DEVICE_HEADER)
    if device_secret:
        device = accounts.device_for_secret(context, device_secret)
        if device is None:  # its request took a token (http.key_limit): keep no bucket
            deps.device_rate.forget(device_bucket(device_secret))
            return None
        return Principal(device=device)
    token = request.cookies.get(SESSION_COOKIE)
    found = accounts.session_user(context, token) if token else None
    if found is None:
        return None
    user, session = found
    if request.method not in SAFE_METHODS and not csrf_matches(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfError(f"missing or wrong CSRF token (send the {CSRF_HEADER} header)")
    return Principal(user=user, session=session)


def device_bucket(secret: str) -> str:
    """The request-rate bucket of the device key ``secret`` (its hash, as stored)."""
    return secret_hash(secret)


def principal_of(request: Request) -> Principal:
    """Who sent ``request``: a session cookie (with CSRF on unsafe methods) or device key.

    Raises:
        NotAuthenticatedError: no valid session or device key (HTTP 401).
        CsrfError: a session on an unsafe method without its CSRF token (HTTP 403).
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = _resolve(request, server_deps(request))
    if principal is None:
        raise NotAuthenticatedError("log in first (session cookie) or send a device key")
    request.state.principal = principal
    return principal


class CsrfError(PolicyRefusedError):
    """An unsafe request on a session cookie did not echo the CSRF token (HTTP 403)."""


class NotAuthenticatedError(PolicyRefusedError):
    """No valid session or device key came with the request (HTTP 401)."""


def require(*roles: AccountRole) -> Callable[[Request], Principal]:
    """A dependency admitting users of ``roles`` only (devices never).

    Raises:
        NotAuthenticatedError: no session.
        PolicyRefusedError: another role (HTTP 403).
    """

    def check(request: Request) -> Principal:
        principal = principal_of(request)
        if principal.user is None or principal.user.role not in roles:
            raise PolicyRefusedError("your role may not do this")
        return principal

    return check


STAFF = (AccountRole.ADMIN, AccountRole.OPERATOR)
READERS = (AccountRole.ADMIN, AccountRole.OPERATOR, AccountRole.AUDITOR)
AUDITORS = (AccountRole.ADMIN, AccountRole.AUDITOR)

Staff = Annotated[Principal, Depends(require(*STAFF))]
Reader = Annotated[Principal, Depends(require(*READERS))]
Auditor = Annotated[Principal, Depends(require(*AUDITORS))]
Admin = Annotated[Principal, Depends(require(AccountRole.ADMIN))]
Resident = Annotated[Principal, Depends(require(AccountRole.RESIDENT))]
AnyUser = Annotated[Principal, Depends(require(*AccountRole))]


def require_device(request: Request) -> Principal:
    """A dependency admitting gates with a live device key only.

    Raises:
        NotAuthenticatedError: no valid key.
        PolicyRefusedError: a user session instead of a device key.
    """
    principal = principal_of(request)
    if principal.device is None:
        raise PolicyRefusedError("only a gate's device key may do this")
    return principal


Device = Annotated[Principal, Depends(require_device)]


def context_for(deps: ServerDeps, principal: Principal | None) -> ServiceContext:
    """The service context of a request: the store, the clock, and who acts."""
    actor = principal.actor if principal is not None else "web:anonymous"
    return ServiceContext(store=deps.store, clock=deps.clock, actor=actor)


def decider_of(deps: ServerDeps) -> FrameDecider:
    """The frame decider.

    Raises:
        ServiceUnavailableError: the decision pipeline is not wired into this server.
    """
    if deps.decider is None:
        raise ServiceUnavailableError("no decision pipeline is wired into this server yet")
    return deps.decider
