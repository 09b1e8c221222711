"""customer overrides (billing profile pins) and customer app data

Revision ID: 0003_customer_billing
Revises: 0002_apps_billing
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_customer_billing"
down_revision = "0002_apps_billing"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_overrides",
        sa.Column("customer_id", sa.String(length=26), nullable=False),
        sa.Column("billing_profile_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["billing_profile_id"], ["billing_profiles.id"]),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index("ix_customer_overrides_billing_profile_id", "customer_overrides", ["billing_profile_id"])
    op.create_table(
        "customer_app_data",
        sa.Column("customer_id", sa.String(length=26), nullable=False),
        sa.Column("app_id", sa.String(length=26), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_default_payment_method_id", sa.String(length=255), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.PrimaryKeyConstraint("customer_id", "app_id"),
    )
    op.create_index(
        "ix_customer_app_data_stripe_customer",
        "customer_app_data",
        ["app_id", "stripe_customer_id"],
        unique=True,
        sqlite_where=sa.text("stripe_customer_id IS NOT NULL"),
        postgresql_where=sa.text("stripe_customer_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_customer_app_data_stripe_customer", table_name="customer_app_data")
    op.drop_table("customer_app_data")
    op.drop_index("ix_customer_overrides_billing_profile_id", table_name="customer_overrides")
    op.drop_table("customer_overrides")
