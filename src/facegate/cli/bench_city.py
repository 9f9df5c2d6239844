"""``facegate bench city``: simulated sites, the real uplink, a real hub, three faults."""

from __future__ import annotations

from typing import Annotated

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
"""The PostgreSQL server the scratch database is made on (``--db-url`` overrides)."""


def register(bench_app: typer.Typer) -> None:
    """Add ``city`` to ``facegate bench``."""
    bench_app.command("city")(bench_city)


@handles_errors
def bench_city(
    ctx: typer.Context,
    sites: Annotated[int, typer.Option(min=1, help="Simulated sites.")] = 200,
    processes: Annotated[int, typer.Option(min=1, help="Site processes.")] = 4,
    rate: Annotated[float, typer.Option(min=1, help="Steady events/s over all sites.")] = 230.0,
    steady_s: Annotated[float, typer.Option(min=1, help="Seconds of the steady phase.")] = 30.0,
    burst: Annotated[int, typer.Option(min=1, help="Backlog events per site.")] = 500,
    db_outage_s: Annotated[float, typer.Option(min=1, help="Seconds without database.")] = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Measure the hub: ingest rate, lag, drain after faults, lost and duplicated events."""
    from facegate.citybench.run import CityBenchOptions, run_city_bench

    options = ctx.find_root().obj
    server = getattr(options, "db_url", None) or DEFAULT_SERVER
    chosen = CityBenchOptions(server, sites, processes, rate, steady_s, burst, db_outage_s)
    report = run_city_bench(chosen, lambda line: stderr.print(f"bench city: {line}"))
    if as_json:
        emit_json(report)
    else:
        for key, value in report.items():
            typer.echo(f"{key}: {value}")
