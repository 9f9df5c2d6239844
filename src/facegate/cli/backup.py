"""``facegate site backup`` and ``facegate site restore``: the encrypted site archive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site

if TYPE_CHECKING:
    from facegate.services.site_admin import ArchiveReport


def register(site_app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``site`` commands."""
    site_app.command("backup")(site_backup)
    site_app.command("restore")(site_restore)


def _payload(report: ArchiveReport, **extra: Any) -> dict[str, Any]:
    return {"revision": report.revision, "rows": report.rows, "tables": report.tables, **extra}


@handles_errors
def site_backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The archive to write (a new file).")],
    as_json: JsonFlag = False,
) -> None:
    """Write the whole site database to an archive encrypted under the site key (audited).

    Keep the site key apart from the archive: without it the archive is useless.
    """
    from facegate.bootstrap import backup_site

    with opened_site(ctx) as (settings, context):
        report = backup_site(settings, context, out)
    if as_json:
        emit_json(_payload(report, file=str(out)))
    else:
        typer.echo(f"{report.rows} rows at schema {report.revision} written to {out}")


@handles_errors
def site_restore(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="An archive from 'site backup'.")],
    as_json: JsonFlag = False,
) -> None:
    """Restore an archive into an empty database (same site key, same facegate schema).

    Refuses (exit 3) a database that holds anything, another site key, an altered or
    truncated archive; nothing is written then.
    """
    from facegate.bootstrap import restore_site

    report = restore_site(settings_from(ctx), archive)
    if as_json:
        emit_json(_payload(report, audit_intact=report.audit_intact))
    else:
        typer.echo(f"{report.rows} rows restored at schema {report.revision}")
