"""``facegate purge``: once, or every DURATION until SIGTERM or SIGINT (``--every``).

With ``--every`` each run prints one line (one compact JSON object with ``--json``); a
run that finds the database unreachable is reported on stderr and the loop goes on to
the next run; any other error ends the command with its exit code.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated, Any

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr
from facegate.cli.site_context import opened_site
from facegate.domain.errors import ServiceUnavailableError
from facegate.services import retention
from facegate.services.periodic import parse_duration, repeat


def _purge_once(ctx: typer.Context) -> dict[str, Any]:
    with opened_site(ctx) as (settings, context):
        report = retention.purge(context, settings.retention)
    return {"deleted": report.counts, "total": report.total}


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while inside; the old handlers come back after."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _scheduled_run(ctx: typer.Context, as_json: bool) -> None:
    started = datetime.now(UTC).isoformat()
    try:
        payload = {"started_at": started, **_purge_once(ctx)}
    except ServiceUnavailableError as err:
        stderr.print(f"[bold red]purge failed, retrying at the next run:[/] {err}")
        payload = {"started_at": started, "error": str(err)}
    text = f"{started}: {payload.get('total', payload.get('error'))} deleted"
    line = json.dumps(payload, separators=(",", ":")) if as_json else text
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@handles_errors
def purge(
    ctx: typer.Context,
    every: Annotated[
        str | None,
        typer.Option("--every", help="Run again every DURATION (90s, 15m, 24h, 7d) until stopped."),
    ] = None,
    runs: Annotated[
        int | None, typer.Option("--runs", min=1, help="With --every: stop after N runs.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete what is past its retention period (FACEGATE_RETENTION__*_DAYS); audited."""
    if every is None:
        if runs is not None:
            raise typer.BadParameter("--runs needs --every", param_hint="--runs")
        payload = _purge_once(ctx)
        if as_json:
            emit_json(payload)
        else:
            typer.echo(f"{payload['total']} deleted")
        return
    interval_s = parse_duration(every)
    with _stop_on_signals() as stop:
        repeat(lambda: _scheduled_run(ctx, as_json), interval_s, stop, runs)
