"""Log in and out, who am I, and password reset by a one-time link."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from facegate.domain.accounts import AccountRole, User
from facegate.domain.errors import AccessRefusedError
from facegate.http.deps import AnyUser, Deps, context_for
from facegate.http.errors import TooManyAttemptsError
from facegate.http.metrics import Metrics
from facegate.http.security import SESSION_COOKIE, client_of, set_session_cookie
from facegate.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserPublic(BaseModel):
    """An account as the API shows it (never its hash)."""

    id: str
    username: str
    role: AccountRole
    person_id: str | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        """From the domain record."""
        return cls(id=user.id, username=user.username, role=user.role, person_id=user.person_id)


class LoginAnswer(BaseModel):
    """The logged-in user and the CSRF token unsafe requests must echo."""

    user: UserPublic
    csrf_token: str


class ResetRequest(BaseModel):
    """A new password with the one-time token from the reset link."""

    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


def open_session(request: Request, response: Response, deps: Deps, body: LoginRequest) -> str:
    """Check the credentials under the rate limit and set the session cookie.

    Returns:
        The session's CSRF token.

    Raises:
        TooManyAttemptsError: rate limit reached (HTTP 429).
        AccessRefusedError: wrong credentials (HTTP 401).
    """
    client, limiter = client_of(request), deps.limiter
    counters: Metrics = request.app.state.metrics
    if not limiter.reserve(client, body.username):
        counters.logins_failed += 1
        raise TooManyAttemptsError("too many failed logins: wait a few minutes")
    lifetime = timedelta(hours=deps.settings.server.session_hours)
    try:
        login = accounts.log_in(
            context_for(deps, None), deps.hasher, body.username, body.password, lifetime
        )
    except AccessRefusedError:
        counters.logins_failed += 1
        limiter.failed(client, body.username)  # the reserved attempt stays counted
        raise
    limiter.succeeded(client, body.username)
    set_session_cookie(response, login.token, lifetime, deps.settings.server.secure_cookies)
    request.state.login = login
    return login.session.csrf_token


@router.post("/login")
def login(request: Request, response: Response, deps: Deps, body: LoginRequest) -> LoginAnswer:
    """Log in: sets the session cookie (HttpOnly) and returns the CSRF token."""
    csrf = open_session(request, response, deps, body)
    return LoginAnswer(user=UserPublic.of(request.state.login.user), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(response: Response, deps: Deps, principal: AnyUser) -> None:
    """End this session."""
    if principal.session is not None:
        accounts.log_out(context_for(deps, principal), principal.session)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(principal: AnyUser) -> LoginAnswer:
    """The logged-in user and the session's CSRF token."""
    if principal.user is None or principal.session is None:
        raise AccessRefusedError("not a user session", "unknown_credential")
    return LoginAnswer(user=UserPublic.of(principal.user), csrf_token=principal.session.csrf_token)


@router.post("/reset", status_code=204)
def reset(deps: Deps, body: ResetRequest) -> None:
    """Set a new password with a one-time reset token; all sessions of the user end."""
    accounts.reset_password(context_for(deps, None), deps.hasher, body.token, body.password)
