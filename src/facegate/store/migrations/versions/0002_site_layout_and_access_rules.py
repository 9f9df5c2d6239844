"""Site layout and access rules: buildings, units, doors, lifts, access rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    _create_buildings()
    _create_units()
    _create_doors()
    _create_lifts()
    _create_access_rules()


def _create_buildings() -> None:
    op.create_table(
        "buildings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_buildings_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
    )


def _create_units() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("building_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_units_building_id_buildings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_building_id"), ["building_id"], unique=False)


def _create_doors() -> None:
    op.create_table(
        "doors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("accepted", sa.String(length=64), nullable=False),
        sa.Column("building_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_doors_building_id_buildings")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_doors_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doors")),
    )


def _create_lifts() -> None:
    op.create_table(
        "lifts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("building_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("floors", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_lifts_building_id_buildings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifts")),
    )
    with op.batch_alter_table("lifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lifts_building_id"), ["building_id"], unique=False)


def _create_access_rules() -> None:
    op.create_table(
        "access_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("door_ids", sa.Text(), nullable=False),
        sa.Column("floors", sa.Text(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_access_rules_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_rules")),
    )
    with op.batch_alter_table("access_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_rules_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_building_id"))

    op.drop_table("units")
    with op.batch_alter_table("lifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifts_building_id"))

    op.drop_table("lifts")
    op.drop_table("doors")
    with op.batch_alter_table("access_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_rules_person_id"))

    op.drop_table("access_rules")
    op.drop_table("buildings")
