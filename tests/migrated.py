"""Databases at the newest schema without running the migrations for each test.

Alembic's migrations cost about 0.3 s a SQLite database and 0.7 s a PostgreSQL one (more
under load); a copy of a database migrated once costs a millisecond (SQLite) or 0.2 s
(PostgreSQL's ``CREATE DATABASE ... TEMPLATE``). The migrations themselves are tested on
empty databases (``tests/integration/test_store.py``, ``test_site_version.py``,
``test_consoleops_store.py``, ``test_disclosure_store.py``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine, make_url

from facegate.store.database import create_db_engine, upgrade

_template: list[Path] = []
"""The SQLite file migrated to head once per process (made on first use)."""


def migrated_sqlite(path: Path) -> None:
    """Put a SQLite database at the newest schema at ``path`` (a copy of the template)."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="facegate-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "facegate.db"
        engine = create_db_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()  # the last connection checkpoints and removes the WAL file
        assert not template.with_name(template.name + "-wal").exists()
        _template.append(template)
    shutil.copyfile(_template[0], path)


def migrated_engine(url: str) -> Engine:
    """An engine on the database at ``url``, migrated to the newest schema.

    A SQLite file that does not exist yet is a copy of the template; any other database
    is migrated (a no-op at head).
    """
    parsed = make_url(url)
    database = parsed.database or ""
    new_file = database not in ("", ":memory:") and not Path(database).exists()
    if parsed.drivername == "sqlite" and new_file:
        migrated_sqlite(Path(database))
        return create_db_engine(url)
    engine = create_db_engine(url)
    upgrade(engine)
    return engine
