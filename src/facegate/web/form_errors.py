"""Errors shown in place on every console and portal form: beside the field, values kept.

A form post that fails (a field FastAPI refuses, or a service's ``ValidationError``,
``BadInputError`` or ``ConflictError``) is answered with the page the form is on, drawn
again by its own GET route, with:

- each refused field's message right after the field (``<span class="field-error">``,
  the field marked ``aria-invalid`` and described by it), in the page's language;
- a message the service gave for the whole form at the form's top
  (``<p class="error" id="form-error">``);
- every value the user typed put back into that form (never a password or a file).

The page is the one the browser came from (``Referer``, same site) when it holds the
form, else the post's own path or its parents'. One place does this for every form, so
a new form gets it without template work: :func:`install` registers the handlers and
:func:`facegate.web.render.poster` keeps the posted values in the request's state.
Errors of other kinds (not allowed, not found, stale CSRF token) keep the error page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response

from facegate.domain.errors import (
    BadInputError,
    ConflictError,
    FacegateError,
    NotFoundError,
    ValidationError,
)
from facegate.http.errors import public_detail, status_for, validation_answer
from facegate.web.i18n import LANG_COOKIE, negotiate, translator

FORM_PATHS = ("/console", "/portal")
"""Paths whose form posts get their errors in place."""
POSTED_KEY = "posted_form"
"""Where :func:`facegate.web.render.poster` keeps the posted values (``request.state``)."""
IN_PLACE = (ValidationError, BadInputError, ConflictError, NotFoundError)
"""Service errors that are about what the form said (the rest keep the error page).

A ``NotFoundError`` is one when the form's page still draws (a choice that names no
record; still answered ``404``); when the page's own record is gone, the error page stays.
"""
_MESSAGE_KEYS = {
    "missing": "form.required",
    "string_too_short": "form.required",
    "string_too_long": "form.too_long",
    "string_pattern_mismatch": "form.pattern",
    "enum": "form.choose",
    "literal_error": "form.choose",
    "int_parsing": "form.number",
    "float_parsing": "form.number",
    "greater_than_equal": "form.range",
    "less_than_equal": "form.range",
    "greater_than": "form.range",
    "less_than": "form.range",
    "bool_parsing": "form.choose",
}
"""Message key of each pydantic error type a form field may get (others: ``form.invalid``)."""


@dataclass(frozen=True, slots=True)
class FormProblem:
    """What was wrong with a posted form.

    Attributes:
        fields: message per field name, in the page's language.
        form: a message for the whole form (empty: none).
        values: the posted values per field name (the last one of a repeated name; all
            of a multi-select's in ``chosen``).
        chosen: every posted value per field name.
    """

    fields: dict[str, str] = field(default_factory=dict)
    form: str = ""
    values: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)


def _field_messages(error: RequestValidationError, t: Any) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}
    other = ""
    for problem in error.errors():
        loc = [str(part) for part in problem.get("loc", ())]
        key = _MESSAGE_KEYS.get(str(problem.get("type", "")), "form.invalid")
        ctx = problem.get("ctx") or {}
        message = t(key, max=ctx.get("max_length", ctx.get("le", "")))
        if len(loc) >= 2 and loc[0] == "body":
            fields.setdefault(loc[1], message)
        else:
            other = other or message
    return fields, other


def _posted(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    raw: list[tuple[str, Any]] = getattr(request.state, POSTED_KEY, [])
    values: dict[str, str] = {}
    chosen: dict[str, list[str]] = {}
    for name, value in raw:
        if isinstance(value, str):
            values[name] = value
            chosen.setdefault(name, []).append(value)
    return values, chosen


def _is_form_post(request: Request) -> bool:
    path = request.url.path
    return request.method == "POST" and path.startswith(FORM_PATHS)


async def answer_invalid_form(request: Request, error: Exception) -> Response:
    """The handler of :class:`RequestValidationError`: in place for forms, else JSON 422."""
    if not isinstance(error, RequestValidationError) or not _is_form_post(request):
        return await validation_answer(request, error)
    lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    fields, other = _field_messages(error, translator(lang))
    values, chosen = _posted(request)
    problem = FormProblem(fields, other, values, chosen)
    answer = await in_place(request, problem, 422)
    return answer if answer is not None else await validation_answer(request, error)


async def in_place_error(request: Request, error: FacegateError) -> Response | None:
    """``error`` of a form post shown on the form's page; ``None`` when it is not one."""
    if not isinstance(error, IN_PLACE) or not _is_form_post(request):
        return None
    values, chosen = _posted(request)
    problem = FormProblem({}, public_detail(error), values, chosen)
    return await in_place(request, problem, status_for(error))


def _pages(request: Request) -> list[str]:
    """Where the form may be: the page the browser came from, the post's path, its parents."""
    found: list[str] = []
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc in ("", request.url.netloc) and parts.path.startswith(FORM_PATHS):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    path = request.url.path.rstrip("/")
    while path.startswith(FORM_PATHS) and path not in found:
        found.append(path)
        path = path.rsplit("/", 1)[0]
    return found


async def in_place(request: Request, problem: FormProblem, status: int) -> HTMLResponse | None:
    """The page holding the posted form, drawn again with ``problem`` in it.

    ``None`` when no candidate page (see :func:`_pages`) answers with that form.
    """
    for page in _pages(request):
        drawn = await _get(request, page)
        if drawn is None:
            continue
        marked = mark_form(drawn, request.url.path, problem)
        if marked is not None:
            return HTMLResponse(marked, status_code=status, headers={"Cache-Control": "no-store"})
    return None


async def _get(request: Request, page: str) -> str | None:
    """``page`` as the same user would GET it now (its HTML; ``None`` unless 200)."""
    path, _, query = page.partition("?")
    dropped = (b"content-type", b"content-length")
    scope = {
        **request.scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k, v) for k, v in request.scope["headers"] if k not in dropped],
    }
    for key in ("route", "endpoint", "path_params"):
        scope.pop(key, None)
    status = 0
    body: list[bytes] = []

    async def receive() -> Mapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.append(bytes(message.get("body", b"")))

    await request.app(scope, receive, send)
    return b"".join(body).decode("utf-8", "replace") if status == 200 else None


_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
_ACTION = re.compile(r'\baction="([^"]*)"')
_FIELD = re.compile(r"<(input|select|textarea)\b([^>]*)>(?:(.*?)</\1>)?", re.S | re.I)
_NAME = re.compile(r'\bname="([^"]*)"')
_TYPE = re.compile(r'\btype="([^"]*)"')
_NOT_ECHOED = frozenset({"password", "file", "hidden", "submit", "button"})


def mark_form(page: str, action: str, problem: FormProblem) -> str | None:
    """``page`` with ``problem`` put into its form posting to ``action`` (``None``: no such form).

    Of several forms posting there, the one whose field names hold most of the posted
    names is marked.
    """
    best: tuple[int, re.Match[str]] | None = None
    for form in _FORM.finditer(page):
        found = _ACTION.search(form.group(0)[: form.group(0).index(">") + 1])
        if found is None or html.unescape(found.group(1)) != action:
            continue
        names = set(_NAME.findall(form.group(0)))
        score = len(names & set(problem.values))
        if best is None or score > best[0]:
            best = (score, form)
    if best is None:
        return None
    form = best[1]
    marked = _mark(form.group(0), problem)
    return page[: form.start()] + marked + page[form.end() :]


def _mark(form: str, problem: FormProblem) -> str:
    placed: set[str] = set()

    def field_html(match: re.Match[str]) -> str:
        tag, attrs, inner = match.group(1).lower(), match.group(2), match.group(3)
        name_found = _NAME.search(attrs)
        if name_found is None:
            return match.group(0)
        name = html.unescape(name_found.group(1))
        typed = _TYPE.search(attrs)
        kind = typed.group(1).lower() if typed else "text"
        drawn = _refill(tag, attrs, inner, kind, name, problem)
        message = problem.fields.get(name)
        if message is None or name in placed or kind == "hidden":
            return drawn
        placed.add(name)
        ident = f"error-{re.sub(r'[^A-Za-z0-9_-]', '-', name)}"
        marks = f'aria-invalid="true" aria-describedby="{ident}"'
        drawn = drawn.replace(f"<{tag}", f"<{tag} {marks}", 1)
        note = f'<span class="field-error" role="alert" id="{ident}">{html.escape(message)}</span>'
        return drawn + note

    body = _FIELD.sub(field_html, form)
    left = [m for n, m in problem.fields.items() if n not in placed]
    top = " ".join([problem.form, *left]).strip()
    if top:
        head_end = body.index(">") + 1
        notice = f'<p class="error" role="alert" id="form-error">{html.escape(top)}</p>'
        body = body[:head_end] + notice + body[head_end:]
    return body


def _refill(
    tag: str, attrs: str, inner: str | None, kind: str, name: str, problem: FormProblem
) -> str:
    """The field's HTML with the posted value put back (never a password or a file)."""
    if name not in problem.values:
        return f"<{tag}{attrs}>" + ("" if inner is None else f"{inner}</{tag}>")
    value = problem.values[name]
    if tag == "textarea":
        return f"<{tag}{attrs}>{html.escape(value)}</{tag}>"
    if tag == "select":
        chosen = set(problem.chosen.get(name, [value]))
        options = re.sub(r"\sselected(=\"[^\"]*\")?", "", inner or "")

        def pick(option: re.Match[str]) -> str:
            raw = html.unescape(option.group(1))
            return option.group(0) + (" selected" if raw in chosen else "")

        options = re.sub(r'<option\b[^>]*?value="([^"]*)"', pick, options)
        return f"<{tag}{attrs}>{options}</{tag}>"
    if kind in _NOT_ECHOED:
        return f"<{tag}{attrs}>"
    if kind in ("checkbox", "radio"):
        own = re.search(r'\bvalue="([^"]*)"', attrs)
        mine = html.unescape(own.group(1)) if own else "on"
        attrs = re.sub(r"\schecked(=\"[^\"]*\")?", "", attrs)
        on = mine in problem.chosen.get(name, [])
        return f"<{tag}{attrs}{' checked' if on else ''}>"
    attrs = re.sub(r'\svalue="[^"]*"', "", attrs)
    return f'<{tag}{attrs} value="{html.escape(value)}">'


def install(app: FastAPI) -> None:
    """Answer failed form posts in place (see the module); the API keeps its JSON 422."""
    app.add_exception_handler(RequestValidationError, answer_invalid_form)
