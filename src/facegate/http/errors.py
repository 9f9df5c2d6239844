"""Domain errors to HTTP answers, in one place (domain errors know nothing of HTTP)."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from facegate.domain.errors import (
    AccessRefusedError,
    BadInputError,
    ConflictError,
    DatabaseUnavailableError,
    FacegateError,
    ImageTooLargeError,
    InvalidImageError,
    NotFoundError,
    PolicyRefusedError,
    ServiceBusyError,
    ServiceUnavailableError,
    SiteNotInitializedError,
    ValidationError,
)
from facegate.http.deps import CsrfError, NotAuthenticatedError
from facegate.http.key_rate import RateLimitedError

_log = logging.getLogger(__name__)
_MAX_PROBLEMS = 20
"""Most validation problems one answer lists."""


class TooManyAttemptsError(PolicyRefusedError):
    """Too many failed logins from this client for this username (HTTP 429)."""


class PayloadTooLargeError(ImageTooLargeError):
    """An upload over the server's byte limit (HTTP 413)."""


# First match wins: subclasses before their families.
_STATUS: tuple[tuple[type[FacegateError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (SiteNotInitializedError, 409),
    (ImageTooLargeError, 413),
    (InvalidImageError, 415),
    (ValidationError, 422),
    (BadInputError, 422),
    (NotAuthenticatedError, 401),
    (AccessRefusedError, 401),
    (TooManyAttemptsError, 429),
    (RateLimitedError, 429),
    (CsrfError, 403),
    (PolicyRefusedError, 403),
    (ServiceBusyError, 503),
    (ServiceUnavailableError, 503),
)


def status_for(error: FacegateError) -> int:
    """The HTTP status that answers ``error`` (500 for an unexpected facegate fault)."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_kind(error: FacegateError) -> str:
    """A stable snake_case name of the error's class (``not_found``, ``consent_required``)."""
    name = type(error).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def public_detail(error: FacegateError) -> str:
    """What an answer may say of ``error``: never a database's message or statement.

    A :class:`DatabaseUnavailableError` is logged in full and answered with a fixed text.
    """
    if isinstance(error, DatabaseUnavailableError):
        _log.error("database failure: %s", error)
        return "the database is unavailable or failed; try again later"
    return str(error)


async def json_answer(request: Request, error: Exception) -> JSONResponse:
    """The JSON answer to a :class:`FacegateError` (``error``, ``detail``, ``reason``)."""
    if not isinstance(error, FacegateError):  # registered for FacegateError only
        raise error
    body: dict[str, str] = {"error": error_kind(error), "detail": public_detail(error)}
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        body["reason"] = reason
    headers = {}
    if isinstance(error, ServiceBusyError):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_s)))
    return JSONResponse(body, status_code=status_for(error), headers=headers)


def validation_problems(error: RequestValidationError) -> list[dict[str, object]]:
    """The request's validation errors without the values sent (never echoed back).

    Only where (``loc``), what (``msg``) and the error ``type`` are kept: echoing the input
    would return a 20 MB body to its sender, or fail to encode a ``NaN`` or a surrogate.
    """
    return [
        {
            "type": str(problem.get("type", "invalid")),
            "loc": [str(part) for part in problem.get("loc", ())],
            "msg": str(problem.get("msg", "invalid value")),
        }
        for problem in error.errors()[:_MAX_PROBLEMS]
    ]


async def validation_answer(request: Request, error: Exception) -> JSONResponse:
    """The 422 answer to a request that fails validation (FastAPI's shape, no input)."""
    if not isinstance(error, RequestValidationError):  # registered for it only
        raise error
    return JSONResponse({"detail": validation_problems(error)}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer facegate errors with their status, failed validation with a bare 422.

    A :class:`FacegateError` gets its status and a JSON body; a request that fails
    validation gets 422 without its input echoed.
    """
    app.add_exception_handler(FacegateError, json_answer)
    app.add_exception_handler(RequestValidationError, validation_answer)
