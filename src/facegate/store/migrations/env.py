"""Alembic environment: facegate runs migrations programmatically on a given connection."""

from __future__ import annotations

from alembic import context

from facegate.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "facegate's migrations run from facegate itself (facegate site init), not the alembic CLI"
    )
context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
