"""Rendering pages and knowing who asks: Jinja2 (autoescaped), sessions, CSRF in forms."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from facegate.domain.accounts import AccountRole
from facegate.domain.errors import FacegateError, PolicyRefusedError
from facegate.http.deps import CsrfError, ServerDeps, context_for, server_deps
from facegate.http.errors import json_answer, public_detail, status_for
from facegate.http.security import CSRF_FIELD, SESSION_COOKIE, Principal, csrf_matches
from facegate.services import accounts
from facegate.services.context import ServiceContext
from facegate.web.form_errors import POSTED_KEY, in_place_error
from facegate.web.i18n import LANG_COOKIE, negotiate, translator
from facegate.web.labels import enum_label

STAFF = frozenset({AccountRole.ADMIN, AccountRole.OPERATOR})
READERS = STAFF | {AccountRole.AUDITOR}
AUDITORS = frozenset({AccountRole.ADMIN, AccountRole.AUDITOR})
ADMINS = frozenset({AccountRole.ADMIN})
RESIDENTS = frozenset({AccountRole.RESIDENT})


class LoginRequiredError(PolicyRefusedError):
    """A page needs a logged-in user (answered by a redirect to the login page)."""


@functools.cache
def environment() -> Environment:
    """The Jinja2 environment over the package's templates (built on first use)."""
    return Environment(
        loader=PackageLoader("facegate.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: Request) -> str:
    """The interface language of ``request`` (see :func:`facegate.web.i18n.negotiate`)."""
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def page_principal(request: Request) -> Principal | None:
    """The logged-in user of a page request (``None`` when there is no valid session)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = accounts.session_user(context_for(server_deps(request), None), token)
    if found is None:
        return None
    principal = Principal(user=found[0], session=found[1])
    request.state.principal = principal
    return principal


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render template ``name`` with the request's language, user and CSRF token.

    ``path`` among ``values`` replaces the request's path as where the language switch
    comes back to (a page whose address carries a query it needs, such as a reset link).
    """
    lang = language(request)
    here = str(values.pop("path", request.url.path))
    principal = page_principal(request)
    session = principal.session if principal else None
    t = translator(lang)
    html = (
        environment()
        .get_template(name)
        .render(
            t=t,
            e=enum_label(t),
            lang=lang,
            user=principal.user if principal else None,
            csrf=session.csrf_token if session else "",
            csrf_field=CSRF_FIELD,
            path=here,
            **values,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    """A 303 See Other to ``url`` (after a form post)."""
    return RedirectResponse(url, status_code=303)


def _check(request: Request, roles: frozenset[AccountRole]) -> Principal:
    principal = page_principal(request)
    if principal is None or principal.user is None:
        raise LoginRequiredError("log in first")
    if principal.user.role not in roles:
        raise PolicyRefusedError("your role may not see this page")
    return principal


def viewer(roles: frozenset[AccountRole]) -> Callable[[Request], Principal]:
    """A dependency for GET pages admitting users of ``roles``."""

    def check(request: Request) -> Principal:
        return _check(request, roles)

    return check


def poster(roles: frozenset[AccountRole]) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency for form posts: users of ``roles`` whose form echoes the CSRF token.

    Raises:
        CsrfError: the form's ``csrf_token`` field is missing or wrong (HTTP 403).
    """

    async def check(request: Request) -> Principal:
        principal = _check(request, roles)
        form = await request.form()
        setattr(request.state, POSTED_KEY, list(form.multi_items()))  # for errors in place
        presented = form.get(CSRF_FIELD)
        session = principal.session
        if session is None or not csrf_matches(session, str(presented) if presented else None):
            raise CsrfError("this form is stale or forged: reload the page and try again")
        return principal

    return check


def context_of(request: Request, principal: Principal) -> ServiceContext:
    """The service context of a page request."""
    deps: ServerDeps = server_deps(request)
    return context_for(deps, principal)


async def answer_error(request: Request, error: Exception) -> Response:
    """Pages get an HTML error page (or the login page); the API keeps its JSON answers."""
    if request.url.path.startswith("/api/") or not isinstance(error, FacegateError):
        return await json_answer(request, error)
    if isinstance(error, LoginRequiredError):
        return redirect(f"/login?next={request.url.path}")
    shown = await in_place_error(request, error)
    if shown is not None:  # a form's bad input: on the form's own page
        return shown
    status = status_for(error)
    return render(
        request, "error.html", status_code=status, message=public_detail(error), status=status
    )
