"""Gates as records, the site data version, and the events' insertion sequence.

- ``gates``: a gate registered for one door or lift; device keys name it in
  ``gate_id``. Existing keys (whose ``gate_id`` was a door id) each get an ``edge`` gate
  of that id serving that door, so running gates keep working; re-issue kiosk keys as
  ``kiosk`` to take their snapshot rights away.
- ``site_state``: one row; ``data_version`` is bumped with every change a decision
  depends on, ``event_seq`` numbers events on SQLite.
- ``events.seq``: insertion sequence (identity on PostgreSQL, a trigger on SQLite),
  existing events numbered in their stored order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from facegate.store.schema import SITE_STATE_SEED, SQLITE_EVENT_SEQ_TRIGGER

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "gates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gates")),
    )
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gates_target_id"), ["target_id"])
    op.execute(
        "INSERT INTO gates (id, target_id, kind, label, created_at) "
        "SELECT gate_id, gate_id, 'edge', 'registered by migration 0006', MIN(created_at) "
        "FROM device_keys GROUP BY gate_id"
    )
    op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_state")),
    )
    op.execute(SITE_STATE_SEED)
    _add_event_seq()


def _add_event_seq() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # The batch rebuilds the table (dropping triggers): the trigger comes after it.
        with op.batch_alter_table("events", schema=None) as batch_op:
            batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
            batch_op.create_unique_constraint(batch_op.f("uq_events_seq"), ["seq"])
        op.execute("UPDATE events SET seq = rowid")
        op.execute("UPDATE site_state SET event_seq = (SELECT COALESCE(MAX(seq), 0) FROM events)")
        op.execute(SQLITE_EVENT_SEQ_TRIGGER)
        return
    op.add_column("events", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_unique_constraint(op.f("uq_events_seq"), "events", ["seq"])


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_seq")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_events_seq"), type_="unique")
        batch_op.drop_column("seq")
    op.drop_table("site_state")
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gates_target_id"))
    op.drop_table("gates")
