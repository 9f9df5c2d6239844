"""Every table's rows through SQLAlchemy Core, backend-neutral (for backup and restore).

Values leave as JSON: times (:class:`UtcDateTime`) as ISO 8601 UTC text, bytes
(``LargeBinary``: sealed templates, wrapped keys) as base64 text, the rest as they are.
Tables are read and written in foreign-key dependency order (``sorted_tables``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, LargeBinary, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from facegate.domain.errors import ArchiveError
from facegate.ports.archive import SiteDump
from facegate.store.schema import Base, UtcDateTime

_BOOKKEEPING = "site_state"
"""The one-row table the migrations seed (data version, event counter): a new database
already holds it, so it does not count against "empty" and a restore overwrites it."""


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UtcDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value, validate=True)
    return value


def _decoded_rows(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = set(table.columns.keys())
    decoded = []
    for row in rows:
        if set(row) != names:
            raise ArchiveError(f"archive rows of {table.name} do not match its columns")
        try:
            decoded.append({name: _decode(table.columns[name], v) for name, v in row.items()})
        except (TypeError, ValueError, binascii.Error) as err:
            raise ArchiveError(f"archive holds a malformed value in {table.name}") from err
    return decoded


class SqlTableRepository:
    """Every table at once (a :class:`facegate.ports.TableRepository`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def dump(self) -> SiteDump:
        """Every row of every table, in this transaction, with the schema revision."""
        self._session.flush()
        connection = self._session.connection()
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None:
            raise ArchiveError("the database has no schema revision: nothing to back up")
        tables: dict[str, list[dict[str, Any]]] = {}
        for table in _tables():
            query = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [
                {name: _encode(value) for name, value in row.items()}
                for row in connection.execute(query).mappings()
            ]
        return SiteDump(revision, tables)

    def is_empty(self) -> bool:
        """Whether no table holds a row."""
        connection = self._session.connection()
        count = select(func.count())
        tables = [t for t in _tables() if t.name != _BOOKKEEPING]
        return not any(connection.execute(count.select_from(t)).scalar() for t in tables)

    def load(self, dump: SiteDump) -> int:
        """Insert ``dump``'s rows in dependency order; returns how many."""
        known = {table.name: table for table in _tables()}
        unknown = sorted(set(dump.tables) - set(known))
        if unknown:
            raise ArchiveError(f"archive holds tables this schema lacks: {unknown}")
        connection = self._session.connection()
        loaded = 0
        for name, table in known.items():
            rows = _decoded_rows(table, dump.tables.get(name, []))
            if rows and name == _BOOKKEEPING:
                _restore_bookkeeping(self._session, table, rows)
            elif rows:
                connection.execute(insert(table), rows)
            loaded += len(rows)
        return loaded


def _restore_bookkeeping(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Take the archive's event counter, and a data version past both copies' own.

    A gate may hold a snapshot of a version the live database reached after the backup
    was taken; restoring the archive's number could make that gate believe it is current.
    """
    connection = session.connection()
    current = connection.execute(select(table.c.data_version)).scalar() or 0
    archived = max(int(row["data_version"]) for row in rows)
    connection.execute(delete(table))
    version = max(int(current), archived) + 1
    connection.execute(insert(table), [{**row, "data_version": version} for row in rows])
