"""CLI plumbing shared by every command: JSON or text output, errors to exit codes, progress.

Exit codes (pinned by the contract): 0 done, 2 usage error (Typer's own), 3 bad input,
4 refused by policy, 5 a needed service or model is unavailable, 1 anything else.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

from facegate.domain.errors import (
    AccessRefusedError,
    BadInputError,
    DuplicateFaceError,
    FacegateError,
    PolicyRefusedError,
    ServiceUnavailableError,
)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_REFUSED = 4
EXIT_UNAVAILABLE = 5
EXIT_OTHER = 1

_EXIT_CODES: tuple[tuple[type[FacegateError], int], ...] = (
    (BadInputError, EXIT_BAD_INPUT),
    (PolicyRefusedError, EXIT_REFUSED),
    (ServiceUnavailableError, EXIT_UNAVAILABLE),
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout for scripts.")]

stderr = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def exit_code_for(error: FacegateError) -> int:
    """The contract's exit code for ``error``."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_OTHER


def error_kind(error: FacegateError) -> str:
    """A stable snake_case name of the error's class for JSON error output."""
    name = type(error).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn facegate errors raised by ``command`` into a message and the contract's exit code.

    With ``--json`` the error is also printed on stdout as ``{"error": {...}}``.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FacegateError as err:
            code = exit_code_for(err)
            if kwargs.get("as_json"):
                details = {"kind": error_kind(err), "message": str(err), "exit_code": code}
                if isinstance(err, AccessRefusedError):
                    details["reason"] = err.reason
                if isinstance(err, DuplicateFaceError):
                    details["duplicate_of"] = err.other_person_id
                    details["distance"] = round(err.distance, 6)
                emit_json({"error": details})
            stderr.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(code) from err

    return wrapper


def emit_json(payload: dict[str, Any]) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


class ConsoleProgress:
    """A progress bar on stderr for long jobs (a :class:`facegate.ports.Progress`)."""

    def __init__(self) -> None:
        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ConsoleProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def start(self, total: int, description: str) -> None:
        """A job of ``total`` items begins."""
        self._task = self._bar.add_task(description, total=total)

    def advance(self) -> None:
        """One item is done."""
        if self._task is not None:
            self._bar.advance(self._task)
