r"""Bounds on request bodies, per route, and a strict reading of JSON bodies.

A small ASGI middleware, ahead of every route: a body over its route's limit is refused
with 413 from its ``Content-Length`` before a byte is read, or as soon as the streamed
bytes pass the limit (chunked uploads have no length). JSON bodies, small by their
limits, are read here once and refused with 422 when they hold what no route accepts and
what later breaks a store or an answer: ``NaN``/``Infinity``, a lone UTF-16 surrogate
(``"\ud800"`` in the JSON text), a NUL character, invalid UTF-8.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
"""One kibibyte, in bytes."""
LOGIN_MAX_BYTES = 4 * KIB
"""Largest body of a login or password reset (a username, a password, a token)."""
JSON_MAX_BYTES = 64 * KIB
"""Largest body of any route not listed otherwise (JSON and form posts)."""
GATE_EVENTS_MAX_BYTES = 4 * KIB * KIB
"""Largest batch of events one gate posts at once."""
CSV_MAX_BYTES = 2 * KIB * KIB + 64 * KIB
"""Largest console CSV import request (the file's 2 MiB and the form around it)."""


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The largest body, in bytes, of requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    max_bytes: int


def route_limits(max_upload_bytes: int) -> tuple[BodyLimit, ...]:
    """The per-route table: first match wins, :data:`JSON_MAX_BYTES` for the rest.

    Args:
        max_upload_bytes: the configured largest multipart upload (photos, frames).
    """
    table = (
        (r"/api/v1/auth/(login|reset)|/(login|reset)", LOGIN_MAX_BYTES),
        (r"/api/v1/people/[^/]+/(photos/check|enrollment)", max_upload_bytes),
        (r"/api/v1/doors/[^/]+/frames", max_upload_bytes),
        (r"/console/people/import", CSV_MAX_BYTES),
        (r"/api/v1/gates/[^/]+/events", GATE_EVENTS_MAX_BYTES),
    )
    return tuple(BodyLimit(re.compile(pattern), size) for pattern, size in table)


def limit_for(path: str, table: Iterable[BodyLimit]) -> int:
    """The body limit of ``path`` in bytes (:data:`JSON_MAX_BYTES` when none matches)."""
    for entry in table:
        if entry.pattern.fullmatch(path):
            return entry.max_bytes
    return JSON_MAX_BYTES


class _BodyTooLargeError(Exception):
    """Raised inside ``receive`` when the streamed body passes its limit."""


def strict_json_problem(body: bytes) -> str | None:
    """Why ``body`` is no acceptable JSON document, or ``None`` when it is one.

    Malformed JSON itself is left to the route (FastAPI answers it with 422).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not valid UTF-8"
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except _ConstantError:
        return "NaN and Infinity are not JSON numbers"
    except RecursionError:
        return "the JSON document is nested too deeply"
    except ValueError:
        return None
    return _string_problem(document)


class _ConstantError(ValueError):
    pass


def _refuse_constant(name: str) -> object:
    raise _ConstantError(name)


def _string_problem(document: object) -> str | None:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "a string holds a NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds a lone UTF-16 surrogate"
    return None


async def _answer(send: Send, status: int, body: dict[str, object]) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _too_large(limit: int) -> dict[str, object]:
    return {
        "error": "payload_too_large",
        "detail": f"the request body is over this route's limit of {limit} bytes",
    }


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would read the body as JSON (it does when no type is given)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return scope["method"] not in ("GET", "HEAD")


class BodyLimitMiddleware:
    """Refuses bodies over their route's limit (413) and unacceptable JSON (422).

    Args:
        app: the wrapped ASGI app.
        table: the per-route limits (see :func:`route_limits`).
    """

    def __init__(self, app: ASGIApp, table: tuple[BodyLimit, ...]) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body's size as it arrives; read and check a JSON body first."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.table)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, 413, _too_large(limit))
            return
        counted = _counting(receive, limit)
        if _is_json(scope):
            await self._json(scope, counted, send, limit)
            return
        await self._guarded(scope, counted, send, limit)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        try:
            body, tail = await _read_all(receive)
        except _BodyTooLargeError:
            await _answer(send, 413, _too_large(limit))
            return
        problem = strict_json_problem(body)
        if problem is not None:
            await _answer(send, 422, {"error": "invalid_json", "detail": problem})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await tail()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        overflow, started = False, False

        async def watching(message: Message) -> None:
            nonlocal started
            if overflow:
                return  # the route's own answer to a cut body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def guarded_receive() -> Message:
            nonlocal overflow
            try:
                return await receive()
            except _BodyTooLargeError:
                overflow = True
                raise

        try:
            await self.app(scope, guarded_receive, watching)
        except _BodyTooLargeError:
            overflow = True
        except Exception:
            if not overflow:
                raise
        if overflow and not started:
            await _answer(send, 413, _too_large(limit))


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLargeError
        return message

    return counted


async def _read_all(receive: Receive) -> tuple[bytes, Receive]:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), _always(message)
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts), receive


def _always(message: Message) -> Receive:
    async def again() -> Message:
        return message

    return again
