"""The console's work: alarms and their acknowledgement, requests, event snapshots.

``alarms``: raised alarms and who acknowledged them. ``subject_requests``: residents'
erasure and export requests. ``event_snapshots``: sealed face crops (opt-in).

Self-contained: it only creates its own tables, so it can follow any earlier revision
(chain it by changing ``down_revision`` alone).

Revision ID: 0007_consoleops
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_consoleops"
down_revision = "0006"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "alarms",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("gate_id", sa.String(length=64), nullable=False),
        sa.Column("door_id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", _UTC, nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("acked_at", _UTC, nullable=True),
        sa.Column("acked_by", sa.String(length=200), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alarms")),
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarms_occurred_at"), ["occurred_at"])
        batch_op.create_index(batch_op.f("ix_alarms_acked_at"), ["acked_at"])
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", _UTC, nullable=False),
        sa.Column("due_at", _UTC, nullable=False),
        sa.Column("handled_at", _UTC, nullable=True),
        sa.Column("handled_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_requests")),
    )
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_requests_person_id"), ["person_id"])
        batch_op.create_index(batch_op.f("ix_subject_requests_state"), ["state"])
        batch_op.create_index(batch_op.f("ix_subject_requests_due_at"), ["due_at"])
    op.create_table(
        "event_snapshots",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("door_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("taken_at", _UTC, nullable=False),
        sa.Column("site_key_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_snapshots")),
    )
    with op.batch_alter_table("event_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_snapshots_event_id"), ["event_id"])
        batch_op.create_index(batch_op.f("ix_event_snapshots_person_id"), ["person_id"])
        batch_op.create_index(batch_op.f("ix_event_snapshots_taken_at"), ["taken_at"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("event_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_snapshots_taken_at"))
        batch_op.drop_index(batch_op.f("ix_event_snapshots_person_id"))
        batch_op.drop_index(batch_op.f("ix_event_snapshots_event_id"))
    op.drop_table("event_snapshots")
    with op.batch_alter_table("subject_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_requests_due_at"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_state"))
        batch_op.drop_index(batch_op.f("ix_subject_requests_person_id"))
    op.drop_table("subject_requests")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_acked_at"))
        batch_op.drop_index(batch_op.f("ix_alarms_occurred_at"))
    op.drop_table("alarms")
