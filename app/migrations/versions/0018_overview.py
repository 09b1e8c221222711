"""The overview's figures, computed now and then and kept for every worker to read

Revision ID: 0018_overview
Revises: 0017_imports
Create Date: 2026-12-04

The overview counts live customers by currency as all of them (from the currency index alone) less
the deleted ones: an index of the deleted ones' currencies makes the second count read only them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_overview"
down_revision = "0017_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "overview_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_customers_deleted_currency",
        "customers",
        ["currency"],
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_customers_deleted_currency", "customers")
    op.drop_table("overview_snapshots")
