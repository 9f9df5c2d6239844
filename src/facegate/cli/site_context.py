"""Opening a site's database for one command, and closing it whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from facegate.cli.context import settings_from

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.services.context import ServiceContext


@contextmanager
def opened_site(
    ctx: typer.Context, *, migrate: bool = False
) -> Iterator[tuple[Settings, ServiceContext]]:
    """The settings and a service context on the site's database, closed on exit.

    Args:
        ctx: the command's context.
        migrate: create and upgrade the database (``site init`` only).
    """
    from facegate.bootstrap import build_store, service_context  # the store, only here

    settings = settings_from(ctx)
    store = build_store(settings, migrate=migrate)
    try:
        yield settings, service_context(settings, store)
    finally:
        store.close()


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601, ``None`` stays ``None``."""
    return None if moment is None else moment.isoformat()
