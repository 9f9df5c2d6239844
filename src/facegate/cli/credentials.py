"""Commands on non-face credentials and the alert list: card, PIN, visitor pass, alert."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import iso, opened_site
from facegate.domain.errors import ValidationError
from facegate.services import credentials

card_app = typer.Typer(help="Access cards.", no_args_is_help=True)
pin_app = typer.Typer(help="PINs (stored hashed).", no_args_is_help=True)
pass_app = typer.Typer(help="Visitor QR passes.", no_args_is_help=True)
alert_app = typer.Typer(help="The alert list.", no_args_is_help=True)

PersonId = Annotated[str, typer.Argument(help="The person's id.")]


def register(app: typer.Typer) -> None:
    """Add the credential commands to ``app``."""
    app.add_typer(card_app, name="card")
    app.add_typer(pin_app, name="pin")
    app.add_typer(pass_app, name="pass")
    app.add_typer(alert_app, name="alert")


@card_app.command("add")
@handles_errors
def card_add(
    ctx: typer.Context,
    person_id: PersonId,
    number: Annotated[str, typer.Argument(help="The card's number (unique on the site).")],
    as_json: JsonFlag = False,
) -> None:
    """Give a person an access card."""
    with opened_site(ctx) as (_, context):
        card = credentials.add_card(context, person_id, number)
    if as_json:
        emit_json({"id": card.id, "person_id": card.person_id, "number": card.number})
        return
    typer.echo(card.id)


@pin_app.command("set")
@handles_errors
def pin_set(
    ctx: typer.Context,
    person_id: PersonId,
    pin: Annotated[
        str, typer.Option("--pin", prompt=True, hide_input=True, help="At least 4 digits.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Set a person's PIN (asked for when not given; only its scrypt hash is stored)."""
    with opened_site(ctx) as (_, context):
        credential = credentials.set_pin(context, person_id, pin)
    if as_json:
        emit_json({"id": credential.id, "person_id": person_id})
        return
    typer.echo(f"PIN set for {person_id}")


def _parse_start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValidationError(f"--starts {text!r} is not an ISO 8601 time") from err
    if moment.tzinfo is None:
        raise ValidationError(f"--starts {text!r} needs a UTC offset, e.g. 2026-05-01T09:00+02:00")
    return moment


@pass_app.command("create")
@handles_errors
def pass_create(
    ctx: typer.Context,
    host_id: Annotated[str, typer.Argument(help="The resident who invites.")],
    visitor: Annotated[str, typer.Option("--visitor", help="The visitor's name.")],
    hours: Annotated[float, typer.Option("--hours", help="Validity in hours.")] = 24.0,
    uses: Annotated[int, typer.Option("--uses", help="Doors it may open.")] = 1,
    starts: Annotated[
        str | None, typer.Option("--starts", help="Start (ISO 8601 with offset); default now.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a visitor QR pass; its code is shown once and stored only as a hash."""
    start = _parse_start(starts)
    with opened_site(ctx) as (_, context):
        issued = credentials.create_pass(
            context, host_id, visitor, timedelta(hours=hours), uses, start
        )
    visit = issued.visitor_pass
    if as_json:
        emit_json(
            {
                "id": visit.id,
                "host_id": visit.host_id,
                "code": issued.code,
                "valid_from": iso(visit.valid_from),
                "valid_until": iso(visit.valid_until),
                "max_uses": visit.max_uses,
            }
        )
        return
    typer.echo(f"pass {visit.id} until {visit.valid_until:%Y-%m-%d %H:%M} UTC: code {issued.code}")


@pass_app.command("use")
@handles_errors
def pass_use(
    ctx: typer.Context,
    code: Annotated[
        str,
        typer.Argument(
            help="The code printed on the pass (one issued before 2026-11-28 may start"
            " with '-': put '--' before it)."
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Count one use of a visitor pass; exit 4 with the reason when it is refused."""
    with opened_site(ctx) as (_, context):
        visit = credentials.use_pass(context, code)
    if as_json:
        emit_json(
            {"id": visit.id, "reason": "granted", "uses": visit.uses, "max_uses": visit.max_uses}
        )
        return
    typer.echo(f"pass {visit.id}: granted (use {visit.uses} of {visit.max_uses})")


@alert_app.command("add")
@handles_errors
def alert_add(
    ctx: typer.Context,
    person_id: PersonId,
    reason: Annotated[str, typer.Option("--reason", help="Why, in words an auditor can check.")],
    legal_basis: Annotated[
        str, typer.Option("--legal-basis", help="The law or case reference that allows it.")
    ],
    days: Annotated[int, typer.Option("--days", help="Days until the entry lapses.")] = 30,
    as_json: JsonFlag = False,
) -> None:
    """Put a person on the site's alert list for a limited time."""
    with opened_site(ctx) as (_, context):
        entry = credentials.add_alert(context, person_id, reason, legal_basis, timedelta(days=days))
    if as_json:
        emit_json({"id": entry.id, "person_id": person_id, "expires_at": iso(entry.expires_at)})
        return
    typer.echo(entry.id)
