"""Doors get a liveness mode.

- ``doors.liveness``: ``default`` (every existing door: the active check at a kiosk, the
  gate's passive check elsewhere), ``passive`` or ``challenge``
  (:class:`facegate.domain.site.DoorLiveness`).

Revision ID: 0009_challenge
Revises: 0008_hw
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_challenge"
down_revision = "0008_hw"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("doors") as batch:
        batch.add_column(
            sa.Column("liveness", sa.String(length=16), nullable=False, server_default="default")
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("doors") as batch:
        batch.drop_column("liveness")
