"""The page of a one-time password reset link (``/reset?token=...``).

An administrator issues the link (``POST /api/v1/users/{id}/reset-link``) and hands it
over when no mail server is set. The token is the only proof asked for: it is random,
single-use and short-lived, so the form needs no session or CSRF cookie. The page is not
cached and sends no referrer, so the token does not leak from it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.accounts import MIN_PASSWORD_LENGTH
from facegate.domain.errors import NotFoundError, ValidationError
from facegate.http.deps import server_deps
from facegate.services import accounts
from facegate.services.context import ServiceContext
from facegate.web.render import render

router = APIRouter(include_in_schema=False)

PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
"""Headers of the reset page: the token in its address must not leak or be cached."""


def _page(
    request: Request, token: str, error: str = "", status: int = 200, done: bool = False
) -> Response:
    here = f"/reset?token={token}" if token else "/reset"
    page = render(
        request,
        "reset.html",
        status_code=status,
        token=token,
        error=error,
        done=done,
        min_length=MIN_PASSWORD_LENGTH,
        path=here,
    )
    page.headers.update(PRIVATE_HEADERS)
    return page


@router.get("/reset", response_class=HTMLResponse)
def reset_form(request: Request, token: str = "") -> Response:
    """The form for a new password (a link without its token says so)."""
    if not token:
        return _page(request, "", "reset.invalid", 400)
    return _page(request, token[:200])


@router.post("/reset", response_class=HTMLResponse)
def reset_password(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set the new password; every session of the account ends. Refusals re-show the form."""
    if not token:
        return _page(request, "", "reset.invalid", 400)
    if password != confirm:
        return _page(request, token, "reset.mismatch", 400)
    deps = server_deps(request)
    context = ServiceContext(store=deps.store, clock=deps.clock, actor="web:reset-link")
    try:
        accounts.reset_password(context, deps.hasher, token, password)
    except ValidationError:
        return _page(request, token, "reset.weak", 400)
    except NotFoundError:
        return _page(request, "", "reset.invalid", 404)
    return _page(request, "", done=True)
