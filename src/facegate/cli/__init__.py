"""The ``facegate`` command line (Typer): JSON on stdout with ``--json``, logs on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from facegate import __version__
from facegate.cli import (
    bench,
    bench_city,
    data,
    dispense,
    evaluate,
    faces,
    gate,
    hub,
    install,
    liveness,
    osdp,
    server,
    uplink,
)
from facegate.cli.context import GlobalOptions

app = typer.Typer(
    name="facegate",
    help="Face-recognition access control with consent, privacy and honest error rates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"facegate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="FACEGATE_DATA_DIR", help="A site's state: database, keys, calibration."
        ),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(envvar="FACEGATE_DB_URL", help="PostgreSQL URL instead of the SQLite file."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(envvar="FACEGATE_CACHE_DIR", help="Converted models and other caches."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Face-recognition access control with consent, privacy and honest error rates."""
    ctx.obj = GlobalOptions(data_dir=data_dir, db_url=db_url, cache_dir=cache_dir)


faces.register(app)
app.add_typer(evaluate.eval_app, name="eval")
app.command()(evaluate.calibrate)
bench_city.register(bench.bench_app)
app.add_typer(bench.bench_app, name="bench")
app.add_typer(liveness.liveness_app, name="liveness")
data.register(app)
server.register(app)
gate.register(app)
dispense.register(app)
hub.register(app)
uplink.register(app)
install.register(app)
osdp.register(app)


def main() -> None:
    """Entry point of the ``facegate`` script."""
    app()
