"""Site mode requests: one row per source (operator, hub, fire panel).

Self-contained: it only creates its own table, so it can follow any earlier revision
(chain it by changing ``down_revision`` alone). The mode was an environment variable
read at start (``FACEGATE_GATE__SITE_MODE``); a site starts in ``normal``.

Revision ID: 0007_hwosdp
Revises: 0007_consoleops
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hwosdp"
down_revision = "0007_consoleops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "site_modes",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_site_modes")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("site_modes")
