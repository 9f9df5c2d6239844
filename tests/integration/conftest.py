"""Databases for the store's integration tests: a SQLite file, and a fresh PostgreSQL
database per test on the server of this machine (dropped afterwards; skipped with the
reason when the server is unreachable). ``TEST_POSTGRES_URL`` names another server.

``db_url`` is an empty database (for the migrations' tests); ``migrated_db_url`` one at
the newest schema, copied from one migrated once per session (see ``tests/migrated.py``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from facegate.store.database import create_db_engine, upgrade
from migrated import migrated_sqlite

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the server's maintenance database."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except OperationalError as err:
        engine.dispose()
        pytest.skip(f"PostgreSQL unreachable at {make_url(url)!r}: {err.orig}")
    yield engine
    engine.dispose()


@contextmanager
def _new_database(admin: Engine, template: str | None = None) -> Iterator[str]:
    """The URL of a new database (a copy of ``template``), dropped with its connections."""
    name = f"facegate_test_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """The URL of a new, empty database, dropped (connections and all) after the test."""
    with _new_database(postgres_admin) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_migrated(postgres_admin: Engine) -> Iterator[str]:
    """The name of a database migrated to the newest schema once, copied by tests."""
    with _new_database(postgres_admin) as url:
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()  # PostgreSQL copies a template only while nobody is connected
        yield str(make_url(url).database)


@pytest.fixture
def migrated_postgres_url(postgres_admin: Engine, postgres_migrated: str) -> Iterator[str]:
    """The URL of a new database at the newest schema, dropped after the test."""
    with _new_database(postgres_admin, postgres_migrated) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'facegate.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``db_url`` at the newest schema: each test that takes it runs on both databases."""
    if request.param == "sqlite":
        path = tmp_path / "facegate.db"
        migrated_sqlite(path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres_url")
    return url
