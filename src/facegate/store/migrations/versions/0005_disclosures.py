"""Disclosure records: data handed to authorities, and the people each is about.

Self-contained: it only creates its own two tables, so it can follow any earlier
revision (chain it by changing ``down_revision`` alone).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "disclosures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requesting_body", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("data_classes", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosures_approved_at"), ["approved_at"])
    op.create_table(
        "disclosure_subjects",
        sa.Column("disclosure_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["disclosures.id"],
            name=op.f("fk_disclosure_subjects_disclosure_id_disclosures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("disclosure_id", "person_id", name=op.f("pk_disclosure_subjects")),
    )
    with op.batch_alter_table("disclosure_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_subjects_person_id"), ["person_id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("disclosure_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_subjects_person_id"))
    op.drop_table("disclosure_subjects")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosures_approved_at"))
    op.drop_table("disclosures")
