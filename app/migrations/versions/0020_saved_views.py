"""Saved views of the customers list: personal or shared, pinned, one the default

Revision ID: 0020_saved_views
Revises: 0019_tags_and_filters
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_saved_views"
down_revision = "0019_tags_and_filters"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner_id", sa.String(26), nullable=False),
        sa.Column("owner_name", sa.String(64), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saved_views_owner_name", "saved_views", ["owner_id", "name"], unique=True)
    one_default = sa.text("is_default")
    op.create_index(
        "ix_saved_views_default",
        "saved_views",
        ["is_default"],
        unique=True,
        sqlite_where=one_default,
        postgresql_where=one_default,
    )


def downgrade():
    op.drop_table("saved_views")
