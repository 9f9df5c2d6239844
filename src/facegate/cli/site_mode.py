"""``facegate site mode [show|set MODE --reason R [--until T]]``: the site mode at run time.

The mode is the site's (:mod:`facegate.services.site_mode`): gates polling the site learn
a change within their ``sync_interval_s`` (1 s). ``--json`` prints ``mode``, ``source``,
``reason``, ``set_by``, ``set_at``, ``until`` (the request in force, all null in
``normal``) and ``requests`` (every running one).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site
from facegate.domain.errors import ValidationError
from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import ModeSource

mode_app = typer.Typer(
    help="The site mode: normal, lockdown, free_passage, fire (show it, set it).",
    invoke_without_command=True,
)

_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_until(text: str | None, now: datetime) -> datetime | None:
    """``--until``: an ISO 8601 time with its UTC offset, or a duration (``30m``, ``2h``, ``1d``).

    Raises:
        ValidationError: neither, or a time without an offset.
    """
    if text is None:
        return None
    duration = _DURATION.match(text.strip())
    if duration:
        return now + timedelta(**{_UNITS[duration.group(2)]: int(duration.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValidationError(
            f"--until {text!r} is neither an ISO 8601 time nor a duration like 30m, 2h, 1d"
        ) from err
    if moment.tzinfo is None:
        raise ValidationError(f"--until {text!r} needs a UTC offset, e.g. 2026-05-01T18:00+02:00")
    return moment


def _print(state: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(state)
        return
    line = f"site mode: {state['mode']}"
    if state["source"] is not None:
        line += f" (by {state['set_by']} as {state['source']}: {state['reason']}"
        line += f"; until {state['until']})" if state["until"] else ")"
    typer.echo(line)


@mode_app.callback()
def mode_main(ctx: typer.Context) -> None:
    """Show the site mode when no sub-command is given."""
    if ctx.invoked_subcommand is None:
        mode_show(ctx)


@mode_app.command("show")
@handles_errors
def mode_show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the mode in force, who set it, why and until when."""
    from facegate.services.site_mode import show_mode

    with opened_site(ctx) as (_, context):
        state = show_mode(context)
    _print(state.to_json(), as_json)


@mode_app.command("set")
@handles_errors
def mode_set(
    ctx: typer.Context,
    mode: Annotated[SiteMode, typer.Argument(help="normal withdraws this source's request.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited; no personal data).")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="When it ends by itself: ISO 8601 time or 30m, 2h, 1d."),
    ] = None,
    source: Annotated[
        ModeSource, typer.Option("--source", help="Who asks (a fire panel's script: fire_panel).")
    ] = ModeSource.OPERATOR,
    as_json: JsonFlag = False,
) -> None:
    """Ask for a mode (audited); gates learn it within a second. Fire > lockdown > free_passage."""
    from facegate.services.site_mode import set_mode

    with opened_site(ctx) as (_, context):
        ends = parse_until(until, context.clock.now())
        state = set_mode(context, mode, reason, ends, source)
    _print(state.to_json(), as_json)


def register(site_app: typer.Typer) -> None:
    """Add ``mode`` to the ``site`` commands."""
    site_app.add_typer(mode_app, name="mode")
