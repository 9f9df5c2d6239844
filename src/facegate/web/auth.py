"""Log in and out, the language switch, and the landing redirect by role."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.accounts import AccountRole
from facegate.domain.errors import AccessRefusedError
from facegate.http.deps import server_deps
from facegate.http.security import (
    SESSION_COOKIE,
    Principal,
    client_of,
    set_session_cookie,
    signed_token,
    signed_token_valid,
    signing_key,
)
from facegate.services import accounts
from facegate.services.context import ServiceContext
from facegate.web.i18n import CATALOGUES, LANG_COOKIE
from facegate.web.render import page_principal, poster, redirect, render

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "facegate_login_csrf"
"""Double-submit cookie that guards the login form (there is no session yet); its token is
signed with the session secret, so a cookie planted by someone else (a sibling host, a
plain-HTTP answer on the LAN) is refused."""
_ANY_USER = frozenset(AccountRole)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def home_of(role: AccountRole) -> str:
    """Where a user of ``role`` lands after logging in."""
    if role is AccountRole.RESIDENT:
        return "/portal"
    if role is AccountRole.AUDITOR:
        return "/console/audit"
    return "/console"


@router.get("/")
def home(request: Request) -> Response:
    """The console, the portal or the login page, by who asks."""
    principal = page_principal(request)
    if principal is None or principal.user is None:
        return redirect("/login")
    return redirect(home_of(principal.user.role))


def _login_page(request: Request, target: str, error: str = "", status: int = 200) -> Response:
    token = signed_token(signing_key(server_deps(request).settings.server))
    page = render(
        request, "login.html", status_code=status, login_csrf=token, next=target, error=error
    )
    secure = server_deps(request).settings.server.secure_cookies
    page.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return page


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    """The login form."""
    return _login_page(request, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    login_csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the credentials (rate-limited) and set the session cookie."""
    target = _safe_next(next)
    deps = server_deps(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    key = signing_key(deps.settings.server)
    matches = secrets.compare_digest(cookie.encode(), login_csrf.encode())
    if not (cookie and matches) or not signed_token_valid(key, login_csrf):
        return _login_page(request, target, "login.stale", 403)
    client = client_of(request)
    if not deps.limiter.reserve(client, username):
        return _login_page(request, target, "login.too_many", 429)
    lifetime = timedelta(hours=deps.settings.server.session_hours)
    context = ServiceContext(store=deps.store, clock=deps.clock, actor="web:anonymous")
    try:
        done = accounts.log_in(context, deps.hasher, username, password, lifetime)
    except AccessRefusedError:
        deps.limiter.failed(client, username)  # the reserved attempt stays counted
        return _login_page(request, target, "login.refused", 401)
    deps.limiter.succeeded(client, username)
    response = redirect(target if target != "/" else home_of(done.user.role))
    set_session_cookie(response, done.token, lifetime, deps.settings.server.secure_cookies)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request, principal: Annotated[Principal, Depends(poster(_ANY_USER))]
) -> Response:
    """End the session and go back to the login page."""
    deps = server_deps(request)
    if principal.session is not None:
        context = ServiceContext(store=deps.store, clock=deps.clock, actor=principal.actor)
        accounts.log_out(context, principal.session)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    """Remember the interface language in a cookie and go back."""
    response = redirect(_safe_next(next))
    if code in CATALOGUES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response
