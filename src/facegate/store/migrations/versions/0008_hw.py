"""Anti-passback zones: zones, doors' places in them, people's presence per zone.

Self-contained: it only creates its own tables, so it can follow any earlier revision
(chain it by changing ``down_revision`` alone). No door is in a zone at first, so
nothing changes for a site until a zone is set up.

Revision ID: 0008_hw
Revises: 0007_hwlane
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_hw"
down_revision = "0007_hwlane"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "zones",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("passback", sa.String(length=8), nullable=False),
        sa.Column("reset_at", sa.String(length=5), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_zones")),
    )
    op.create_table(
        "door_zones",
        sa.Column("door_id", sa.String(length=36), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["door_id"], ["doors.id"], name=op.f("fk_door_zones_door_id_doors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["zone"], ["zones.name"], name=op.f("fk_door_zones_zone_zones"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("door_id", name=op.f("pk_door_zones")),
    )
    op.create_index(op.f("ix_door_zones_zone"), "door_zones", ["zone"], unique=False)
    op.create_table(
        "zone_presence",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("inside", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone"], ["zones.name"], name=op.f("fk_zone_presence_zone_zones"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_zone_presence_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("zone", "person_id", name=op.f("pk_zone_presence")),
    )
    op.create_index(
        op.f("ix_zone_presence_person_id"), "zone_presence", ["person_id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_zone_presence_person_id"), table_name="zone_presence")
    op.drop_table("zone_presence")
    op.drop_index(op.f("ix_door_zones_zone"), table_name="door_zones")
    op.drop_table("door_zones")
    op.drop_table("zones")
