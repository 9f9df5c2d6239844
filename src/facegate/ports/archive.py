"""The port of whole-site backups: every table's rows, backend-neutral."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SiteDump:
    """Every row of a site's database, as JSON-ready values.

    Attributes:
        revision: the schema (Alembic) revision the rows belong to.
        tables: rows per table name, each a mapping of column name to a JSON value
            (times as ISO 8601 text, bytes as base64 text).
    """

    revision: str
    tables: dict[str, list[dict[str, Any]]]

    @property
    def rows(self) -> int:
        """How many rows in all."""
        return sum(len(rows) for rows in self.tables.values())


class TableRepository(Protocol):
    """Every table at once, for backup and restore."""

    def dump(self) -> SiteDump:
        """Every row of every table (inside this unit of work's transaction)."""
        ...

    def is_empty(self) -> bool:
        """Whether no table holds a row."""
        ...

    def load(self, dump: SiteDump) -> int:
        """Insert ``dump``'s rows in dependency order; returns how many.

        Raises:
            ArchiveError: a table or column this schema does not have.
        """
        ...
