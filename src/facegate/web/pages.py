"""Mount the pages and their static files on an application (called by ``create_app``)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from facegate.domain.errors import FacegateError
from facegate.web import (
    auth,
    console_disclosures,
    console_floors,
    console_gates,
    console_home,
    console_mode,
    console_people,
    console_site,
    console_work,
    console_zones,
    form_errors,
    portal,
    public,
    reset,
)
from facegate.web.render import answer_error

PAGE_MODULES = (
    auth,
    console_home,
    console_gates,
    console_people,
    console_site,
    console_mode,
    console_zones,
    console_floors,
    console_work,
    console_disclosures,
    portal,
    public,
    reset,
)
"""Every page module, in the order their routes are mounted (the console fuzz walks them)."""


def install(app: FastAPI) -> None:
    """Add the login, reset, console, portal, kiosk and notice pages and ``/static``.

    Pages answer facegate errors with an HTML page (a redirect to the login page when
    nobody is logged in); paths under ``/api/`` keep their JSON answers.
    """
    static = Path(str(files("facegate.web") / "static"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.add_exception_handler(FacegateError, answer_error)
    form_errors.install(app)  # a form's bad input answered on its page, beside the field
