"""Cards, PINs and visitor passes (with a QR code, shown once)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from facegate.api.schemas import PassCreate, PassPublic
from facegate.http.deps import Deps, Reader, ServerDeps, Staff, context_for
from facegate.http.qr import qr_png, qr_svg
from facegate.http.security import Principal
from facegate.services import activity, credentials

router = APIRouter(tags=["credentials"])


class CardCreate(BaseModel):
    """A card number to give a person."""

    number: str = Field(min_length=1, max_length=64)


class PinSet(BaseModel):
    """A new PIN."""

    pin: str = Field(min_length=1, max_length=32)


class Created(BaseModel):
    """The id of what was created."""

    id: str


class QrRequest(BaseModel):
    """A pass code to draw as a printable PNG (the code is never stored in clear)."""

    code: str = Field(min_length=1, max_length=200)


@router.post("/people/{person_id}/cards", status_code=201)
def add_card(deps: Deps, principal: Staff, person_id: str, body: CardCreate) -> Created:
    """Give a person a card."""
    return Created(id=credentials.add_card(context_for(deps, principal), person_id, body.number).id)


@router.put("/people/{person_id}/pin")
def set_pin(deps: Deps, principal: Staff, person_id: str, body: PinSet) -> Created:
    """Set a person's PIN (stored as a hash)."""
    return Created(id=credentials.set_pin(context_for(deps, principal), person_id, body.pin).id)


def issue_pass(
    deps: ServerDeps, principal: Principal, host_id: str, body: PassCreate
) -> PassPublic:
    """Issue a pass hosted by ``host_id`` and draw its QR code."""
    issued = credentials.create_pass(
        context_for(deps, principal),
        host_id,
        body.visitor_name,
        timedelta(hours=body.hours),
        body.uses,
        body.starts,
    )
    return PassPublic.of(issued.visitor_pass, issued.code, qr_svg(issued.code))


@router.post("/people/{person_id}/passes", status_code=201)
def create_pass(deps: Deps, principal: Staff, person_id: str, body: PassCreate) -> PassPublic:
    """Issue a visitor pass hosted by a person; the code and QR come back once."""
    return issue_pass(deps, principal, person_id, body)


@router.get("/people/{person_id}/passes")
def list_passes(deps: Deps, principal: Reader, person_id: str) -> list[PassPublic]:
    """The passes a person issued (without codes)."""
    return [PassPublic.of(p) for p in activity.passes_of(context_for(deps, principal), person_id)]


@router.post(
    "/passes/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def pass_qr_png(principal: Staff, body: QrRequest) -> Response:
    """A printable PNG of a pass code's QR."""
    return Response(qr_png(body.code), media_type="image/png")
