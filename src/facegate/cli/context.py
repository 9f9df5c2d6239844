"""Settings for one CLI invocation, built from the global options and the environment."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from facegate.config import Settings


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """The global options given on the command line (``None`` when absent)."""

    data_dir: Path | None = None
    db_url: str | None = None
    cache_dir: Path | None = None


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings for this invocation: options given, then the environment, then defaults.

    Args:
        ctx: the command's context (its root holds the :class:`GlobalOptions`).
        **overrides: command-specific settings; ``None`` values are ignored.
    """
    from facegate.config import Settings  # pydantic-settings, only when a command runs

    options = ctx.find_root().obj
    given = asdict(options) if isinstance(options, GlobalOptions) else {}
    given.update(overrides)
    return Settings(**{k: v for k, v in given.items() if v is not None})
