"""Domain errors to HTTP answers, in one place (domain errors know nothing of HTTP)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from facegate.domain.errors import (
    AccessRefusedError,
    BadInputError,
    ConflictError,
    FacegateError,
    ImageTooLargeError,
    InvalidImageError,
    NotFoundError,
    PolicyRefusedError,
    ServiceUnavailableError,
    SiteNotInitializedError,
    ValidationError,
)
from facegate.http.deps import CsrfError, NotAuthenticatedError


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
    (CsrfError, 403),
    (PolicyRefusedError, 403),
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


async def json_answer(request: Request, error: Exception) -> JSONResponse:
    """The JSON answer to a :class:`FacegateError` (``error``, ``detail``, ``reason``)."""
    if not isinstance(error, FacegateError):  # registered for FacegateError only
        raise error
    body: dict[str, str] = {"error": error_kind(error), "detail": str(error)}
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        body["reason"] = reason
    return JSONResponse(body, status_code=status_for(error))


def install(app: FastAPI) -> None:
    """Answer every :class:`FacegateError` with its status and a JSON body."""
    app.add_exception_handler(FacegateError, json_answer)
