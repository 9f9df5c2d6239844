"""One event snapshot per event: ``event_snapshots.event_id`` unique.

A gate could post any number of crops for one event key; the console showed one of
them. The crops kept beyond the first (earliest ``taken_at``, then lowest id) of each
event are deleted, then ``ix_event_snapshots_event_id`` becomes a unique index.

Revision ID: 0011_onecrop
Revises: 0010_cold
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0011_onecrop"
down_revision = "0010_cold"
branch_labels = None
depends_on = None

_NAME = "ix_event_snapshots_event_id"
_LATER_CROPS = """
DELETE FROM event_snapshots WHERE EXISTS (
    SELECT 1 FROM event_snapshots AS kept
    WHERE kept.event_id = event_snapshots.event_id
    AND (kept.taken_at < event_snapshots.taken_at
         OR (kept.taken_at = event_snapshots.taken_at AND kept.id < event_snapshots.id))
)
"""


def upgrade() -> None:
    """Apply this revision."""
    op.execute(_LATER_CROPS)
    with op.batch_alter_table("event_snapshots", schema=None) as batch_op:
        batch_op.drop_index(_NAME)
        batch_op.create_index(_NAME, ["event_id"], unique=True)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("event_snapshots", schema=None) as batch_op:
        batch_op.drop_index(_NAME)
        batch_op.create_index(_NAME, ["event_id"], unique=False)
