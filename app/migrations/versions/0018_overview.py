"""The overview's figures, computed now and then and kept for every worker to read

Revision ID: 0018_overview
Revises: 0017_imports
Create Date: 2026-12-04
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


def downgrade():
    op.drop_table("overview_snapshots")
