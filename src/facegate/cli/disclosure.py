"""Commands on disclosures to authorities: ``disclosure add`` and ``disclosure list``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import iso, opened_site
from facegate.domain.disclosure import Disclosure, parse_data_classes
from facegate.domain.errors import ValidationError
from facegate.services import disclosures
from facegate.services.disclosures import DisclosureRequest

disclosure_app = typer.Typer(
    help="Disclosures of data to authorities: record, list.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the disclosure commands to ``app``."""
    app.add_typer(disclosure_app, name="disclosure")


def _day_or_moment(text: str, option: str) -> date | datetime:
    """A date (``2026-03-01``) or a datetime (``2026-03-01T08:00[+01:00]``).

    Raises:
        ValidationError: neither.
    """
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as err:
        raise ValidationError(f"{option} {text!r} is not an ISO 8601 date or time") from err


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    moment = _day_or_moment(text, option)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValidationError(f"{option} {text!r} needs a time and a UTC offset")
    return moment


def disclosure_json(disclosure: Disclosure) -> dict[str, Any]:
    """A disclosure as the commands print it."""
    return {
        "id": disclosure.id,
        "requesting_body": disclosure.requesting_body,
        "legal_basis": disclosure.legal_basis,
        "person_ids": list(disclosure.person_ids),
        "data_classes": sorted(disclosure.data_classes),
        "period_start": iso(disclosure.period_start),
        "period_end": iso(disclosure.period_end),
        "approved_by": disclosure.approved_by,
        "approved_at": iso(disclosure.approved_at),
        "recorded_by": disclosure.recorded_by,
        "recorded_at": iso(disclosure.recorded_at),
    }


@disclosure_app.command("add")
@handles_errors
def disclosure_add(
    ctx: typer.Context,
    body: Annotated[str, typer.Option("--body", help="Who asked (the requesting body).")],
    legal_basis: Annotated[
        str, typer.Option("--legal-basis", help="The law, warrant or case reference.")
    ],
    person: Annotated[list[str], typer.Option("--person", help="A person's id (repeatable).")],
    scope: Annotated[
        str, typer.Option("--scope", help="Data classes handed over: events,credentials,...")
    ],
    start: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD, site time) or ISO time.")
    ],
    end: Annotated[str, typer.Option("--to", help="Last day, inclusive, or ISO end time.")],
    approved_by: Annotated[str, typer.Option("--approved-by", help="Who approved it.")],
    approved_at: Annotated[
        str | None, typer.Option("--approved-at", help="When (ISO 8601 with offset); now.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record data handed to an authority; prints the record's id (audited)."""
    request = DisclosureRequest(
        requesting_body=body,
        legal_basis=legal_basis,
        person_ids=tuple(person),
        data_classes=parse_data_classes(scope),
        start=_day_or_moment(start, "--from"),
        end=_day_or_moment(end, "--to"),
        approved_by=approved_by,
        approved_at=_moment(approved_at, "--approved-at"),
    )
    with opened_site(ctx) as (_, context):
        disclosure = disclosures.record_disclosure(context, request)
    if as_json:
        emit_json(disclosure_json(disclosure))
    else:
        typer.echo(disclosure.id)


@disclosure_app.command("list")
@handles_errors
def disclosure_list(
    ctx: typer.Context,
    person: Annotated[
        str | None, typer.Option("--person", help="Only those about this person.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List disclosures, oldest first (the read is audited)."""
    with opened_site(ctx) as (_, context):
        found = disclosures.list_disclosures(context, person)
    if as_json:
        emit_json({"disclosures": [disclosure_json(d) for d in found]})
        return
    for d in found:
        scope = ",".join(sorted(d.data_classes))
        typer.echo(f"{iso(d.approved_at)}  {d.id}  {d.requesting_body}  [{scope}]")
