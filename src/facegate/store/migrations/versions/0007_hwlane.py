"""Access rules may bind their floors to one building's lifts.

- ``access_rules.building_id``: the building whose lifts a rule's floors are for;
  ``NULL`` (every existing rule) keeps the old meaning, the floors in every building.

Revision ID: 0007_hwlane
Revises: 0007_hwosdp
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hwlane"
down_revision = "0007_hwosdp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("access_rules") as batch:
        batch.add_column(sa.Column("building_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            "fk_access_rules_building_id",
            "buildings",
            ["building_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("access_rules") as batch:
        batch.drop_constraint("fk_access_rules_building_id", type_="foreignkey")
        batch.drop_column("building_id")
