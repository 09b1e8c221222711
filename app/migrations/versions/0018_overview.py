"""The overview's figures, computed now and then and kept for every worker to read

Revision ID: 0018_overview
Revises: 0017_imports
Create Date: 2026-12-04

The overview counts live customers by currency as all of them (from the currency index alone) less
the deleted ones: an index of the deleted ones' currencies makes the second count read only them.

Its "needs attention" checks (app/overview/rules.py) that no other index answers each get a partial
index of the customers they find, in the list's name order: counting them reads only them, and the
customers list filtered by one shows its first page from the first entries. Each index's WHERE is
its check's condition word for word, as the databases must recognise it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_overview"
down_revision = "0017_imports"
branch_labels = None
depends_on = None


LIVE = "deleted_at IS NULL"
ADDRESS_PARTS = ("country", "postal_code", "state", "city", "line1", "line2", "phone_number")
ATTENTION_INDEXES = {
    "ix_customers_attention_no_currency": f"{LIVE} AND currency IS NULL",
    "ix_customers_attention_no_address": " AND ".join([LIVE, *(f"address_{part} IS NULL" for part in ADDRESS_PARTS)]),
    "ix_customers_attention_no_subjects": f"{LIVE} AND subjects_text = ''",
}


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
    for name, where in ATTENTION_INDEXES.items():
        op.create_index(
            name, "customers", ["sort_name", "id"], sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )


def downgrade():
    for name in ATTENTION_INDEXES:
        op.drop_index(name, "customers")
    op.drop_index("ix_customers_deleted_currency", "customers")
    op.drop_table("overview_snapshots")
