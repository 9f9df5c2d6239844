"""The console's people pages: list, add, CSV import, consent, enrollment, cards, passes."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from facegate.domain.accounts import AccountRole
from facegate.domain.errors import ValidationError
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.http.deps import server_deps
from facegate.http.qr import qr_svg
from facegate.http.security import Principal
from facegate.http.uploads import read_bounded
from facegate.services import accounts, credentials, overview, people
from facegate.services.consent import grant_consent, withdraw_consent
from facegate.services.imports import COLUMNS, import_people_csv
from facegate.services.paging import MAX_PAGE, MAX_QUERY
from facegate.web.render import ADMINS, READERS, STAFF, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console/people", include_in_schema=False)

Reader = Annotated[Principal, Depends(viewer(READERS))]
StaffPost = Annotated[Principal, Depends(poster(STAFF))]
AdminPost = Annotated[Principal, Depends(poster(ADMINS))]
CONSENT_TEXT_VERSION = "face-access-v1"
"""The version of the consent text the console and portal show."""
DONE = frozenset({"added", "consent", "withdrawn", "card", "login"})
"""What a person-page form reports done (``?done=...``; message ``done.<code>``)."""
MAX_CSV_BYTES = 2 * 1024 * 1024
"""Largest CSV import in bytes (2 MiB holds tens of thousands of rows)."""


@router.get("", response_class=HTMLResponse)
def list_people(
    request: Request,
    principal: Reader,
    imported: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
) -> Response:
    """A page of people (``PAGE_SIZE`` rows) with consent and enrollment state.

    ``q`` keeps the people whose name holds it (case-insensitive); past the last page the
    list is empty.
    """
    found = overview.people_overview(context_of(request, principal), page, q.strip())
    return render(
        request,
        "people.html",
        people=found.items,
        listing=found,
        q=q.strip(),
        roles=[r.value for r in Role],
        columns=", ".join(COLUMNS),
        imported=imported,
    )


@router.post("")
def add_person(
    request: Request,
    principal: StaffPost,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[Role, Form()] = Role.RESIDENT,
    minor: Annotated[bool, Form()] = False,
) -> Response:
    """Add a person and open their page (the consent step comes next)."""
    person = people.add_person(context_of(request, principal), name, role, minor=minor)
    return redirect(f"/console/people/{person.id}?done=added")


@router.post("/import")
async def import_csv(
    request: Request,
    principal: StaffPost,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import units and people from a CSV file (all rows or none)."""
    data = await read_bounded(file, MAX_CSV_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationError("the CSV file is not UTF-8 text") from err
    context = context_of(request, principal)
    report = await run_in_threadpool(import_people_csv, context, text)  # off the event loop
    summary = f"{report.people}/{report.units}/{report.buildings}"
    return redirect(f"/console/people?imported={summary}")


@router.get("/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    principal: Reader,
    person_id: str,
    done: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """One person: consent first, then enrollment by photo upload, cards and passes.

    ``done`` names what the last form did (one of :data:`DONE`), confirmed on the page.
    """
    detail = overview.person_detail(context_of(request, principal), person_id)
    return render(
        request,
        "person.html",
        detail=detail,
        person=detail.summary.person,
        text_version=CONSENT_TEXT_VERSION,
        methods=[m.value for m in ConsentMethod],
        done=done if done in DONE else "",
    )


@router.post("/{person_id}/consent")
def record_consent(
    request: Request,
    principal: StaffPost,
    person_id: str,
    method: Annotated[ConsentMethod, Form()] = ConsentMethod.WRITTEN,
    guardian: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record the person's face-access consent (before any enrollment)."""
    grant_consent(
        context_of(request, principal),
        person_id,
        ConsentPurpose.FACE_ACCESS,
        CONSENT_TEXT_VERSION,
        method,
        guardian or None,
    )
    return redirect(f"/console/people/{person_id}?done=consent")


@router.post("/{person_id}/consent/withdraw")
def withdraw(request: Request, principal: StaffPost, person_id: str) -> Response:
    """Withdraw the face-access consent; the face data is destroyed at once."""
    withdraw_consent(context_of(request, principal), person_id, ConsentPurpose.FACE_ACCESS)
    return redirect(f"/console/people/{person_id}?done=withdrawn")


@router.post("/{person_id}/cards")
def add_card(
    request: Request,
    principal: StaffPost,
    person_id: str,
    number: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Give the person a card."""
    credentials.add_card(context_of(request, principal), person_id, number)
    return redirect(f"/console/people/{person_id}?done=card")


@router.post("/{person_id}/account")
def create_login(
    request: Request,
    principal: AdminPost,
    person_id: str,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Give the person a resident login for the portal (administrators only).

    Without a password this is an invitation: the login gets a random password nobody
    sees and the page shows a one-time link on which the resident chooses their own.
    """
    hasher = server_deps(request).hasher
    context = context_of(request, principal)
    invited = not password
    chosen = password or secrets.token_urlsafe(24)
    accounts.create_user(context, hasher, username, chosen, AccountRole.RESIDENT, person_id)
    if invited:
        return _link_page(request, accounts.reset_token_for_person(context, person_id))
    return redirect(f"/console/people/{person_id}?done=login")


@router.post("/{person_id}/reset-link", response_class=HTMLResponse)
def reset_link(request: Request, principal: AdminPost, person_id: str) -> Response:
    """Issue a one-time password link for the person's portal login (shown once)."""
    token = accounts.reset_token_for_person(context_of(request, principal), person_id)
    return _link_page(request, token)


def _link_page(request: Request, token: str) -> Response:
    link = f"{str(request.base_url).rstrip('/')}/reset?token={token}"
    return render(request, "reset_link.html", link=link, hours=accounts.RESET_LINK_HOURS)


@router.post("/{person_id}/passes", response_class=HTMLResponse)
def issue_pass(
    request: Request,
    principal: StaffPost,
    person_id: str,
    visitor_name: Annotated[str, Form(min_length=1, max_length=200)],
    hours: Annotated[float, Form(gt=0, le=24 * 90)] = 24.0,
    uses: Annotated[int, Form(ge=1, le=1000)] = 1,
) -> Response:
    """Issue a visitor pass hosted by the person and show its printable QR code once."""
    issued = credentials.create_pass(
        context_of(request, principal), person_id, visitor_name, timedelta(hours=hours), uses
    )
    return pass_page(request, issued)


def pass_page(request: Request, issued: credentials.IssuedPass) -> Response:
    """The printable page of a just-issued pass (its code is not kept, so shown once)."""
    # segno's SVG of a url-safe random code: no user content in it.
    qr = Markup(qr_svg(issued.code))
    return render(request, "pass.html", visit=issued.visitor_pass, code=issued.code, qr=qr)
