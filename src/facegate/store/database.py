"""Database engines, connection errors, migrations and space reclamation.

SQLite (the default, :attr:`facegate.config.Settings.database_path`) runs in WAL mode with
``PRAGMA secure_delete=ON`` (deleted rows are overwritten with zeros) and foreign keys
on. PostgreSQL is reached with psycopg 3 (``postgresql+psycopg://``). Library errors are
translated here: an unreachable database is :class:`DatabaseUnavailableError`, a unique
constraint hit is :class:`ConflictError`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

from facegate.domain.errors import (
    BadInputError,
    ConflictError,
    DatabaseUnavailableError,
)

CONNECT_TIMEOUT_S = 5
"""How long to wait for a PostgreSQL server before calling it unreachable (seconds)."""
SQLITE_BUSY_TIMEOUT_MS = 30000
"""How long a SQLite writer waits for another's lock (milliseconds); 20 audited reads at
once on a loaded machine waited up to 8.5 s for it before writers of one process queued
(:class:`WriterTurns`)."""
_SIDE_FILES = ("-wal", "-shm", "-journal")
_RECLAIM_TABLES = ("data_keys", "face_templates", "cards", "pins", "people", "alert_entries")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


class WriterTurns:
    """Hands a SQLite database's single write lock to this process's threads in turn.

    SQLite's busy handler polls (at most every 100 ms), so under contention a waiting
    writer can lose to newcomers again and again; threads of one process queue on a lock
    instead and are woken the moment it is released. Other processes still meet SQLite's
    busy timeout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait for this process's turn to write (up to the busy timeout).

        Raises:
            DatabaseUnavailableError: another writer held it for the whole busy timeout.
        """
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise DatabaseUnavailableError(
                f"the database stayed busy for {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s"
            )

    def give_back(self) -> None:
        """End this thread's turn."""
        self._lock.release()


_TURNS: dict[str, WriterTurns] = {}
_TURNS_LOCK = threading.Lock()


def writer_turns(engine: Engine) -> WriterTurns | None:
    """The turns of ``engine``'s SQLite file (one per file in this process); ``None`` else."""
    if engine.dialect.name != "sqlite":
        return None
    with _TURNS_LOCK:
        return _TURNS.setdefault(str(engine.url.database), WriterTurns())


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or a PostgreSQL URL).

    ``postgresql://`` is taken as ``postgresql+psycopg://`` (psycopg 3).

    Raises:
        BadInputError: the URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise BadInputError(f"malformed database URL ({err})") from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql+psycopg":
        return create_engine(
            parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, pool_pre_ping=True
        )
    raise BadInputError(
        f"unsupported database {parsed.drivername!r}: use SQLite (the default) or "
        "postgresql+psycopg://user@host/db"
    )


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), or make it so.

    SQLite gives its ``-wal``, ``-shm`` and ``-journal`` files the database file's mode,
    so they are private too; existing ones are tightened as well.
    """
    if not path.parent.is_dir():
        return  # SQLite itself says the directory is missing
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for member in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
            if member.exists() and member.stat().st_mode & 0o077:
                member.chmod(0o600)
    except OSError:
        return  # not ours to change (another owner, a read-only medium): SQLite decides


def describe(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def describe_url(url: str) -> str:
    """``url`` without its password, for messages (a malformed URL is left out)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(malformed database URL)"


@contextmanager
def translated_errors(engine: Engine) -> Iterator[None]:
    """Translate SQLAlchemy errors raised inside into facegate errors.

    Raises:
        ConflictError: a unique or foreign key constraint was violated.
        BadInputError: a value the database cannot hold (a NUL in a text on PostgreSQL, a
            date without a time zone); the message names no SQL.
        DatabaseUnavailableError: the database cannot be reached or used.
    """
    try:
        yield
    except IntegrityError as err:
        raise ConflictError(f"conflicts with stored data ({err.orig})") from err
    except DataError as err:
        raise BadInputError(f"the database refused a value: {_first_line(err.orig)}") from err
    except StatementError as err:
        if isinstance(err.orig, ValueError | TypeError) and not isinstance(err, DBAPIError):
            raise BadInputError(f"a value cannot be stored or compared: {err.orig}") from err
        raise _unavailable(engine, err) from err
    except SQLAlchemyError as err:
        raise _unavailable(engine, err) from err


def _first_line(cause: object) -> str:
    return (str(cause).splitlines() or [""])[0]


def _unavailable(engine: Engine, err: SQLAlchemyError) -> DatabaseUnavailableError:
    cause = getattr(err, "orig", None) or type(err).__name__
    return DatabaseUnavailableError(
        f"database {describe(engine)} is unreachable or failed: {cause}"
    )


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this facegate."""
    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped with this facegate")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` for an empty database."""
    with translated_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (in one transaction where the backend can)."""
    with translated_errors(engine), engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` drops every table)."""
    with translated_errors(engine), engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def reclaim_erased(engine: Engine) -> None:
    """Make deleted rows unrecoverable from the database's files.

    SQLite: ``secure_delete`` already zeroed them in the main file; a TRUNCATE checkpoint
    copies the WAL into it and empties the WAL. PostgreSQL: ``VACUUM FULL`` rewrites the
    tables that held keys, templates and credentials, dropping their dead row versions.

    Raises:
        DatabaseUnavailableError: the checkpoint could not complete (another process
            holds the database); the erasure stands, run ``facegate purge`` to retry.
    """
    with translated_errors(engine):
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
            if busy:
                raise DatabaseUnavailableError(
                    "the erasure is committed, but another process holds the database so the "
                    "write-ahead log was not checkpointed; run 'facegate purge' when it is idle"
                )
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in _RECLAIM_TABLES:
                connection.exec_driver_sql(f"VACUUM FULL {table}")
