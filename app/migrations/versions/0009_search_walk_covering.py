"""Live customers in name order with everything search reads, in one index (PostgreSQL)

Revision ID: 0009_search_walk_covering
Revises: 0008_subject_search
Create Date: 2026-11-24

A fragment common enough that its first page is best found by walking the name index (say
"Logistics", in 26,000 names of a million) tests the rows in name order until a page matches. Name
order is not the table's order, so each row tested was a visit to another table page: 2,000 of
them, 3 ms. This index holds the live rows in name order with the key, email and subject keys
beside each, so the walk tests the search text (app/customers/search.py) without reading the table.
At a million customers it is 120 MB and takes a few seconds to build.
SQLite needs nothing new: its search index keeps its rows in name order (0007).
"""

from alembic import op

revision = "0009_search_walk_covering"
down_revision = "0008_subject_search"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_customers_live_name_searchable ON customers (name, id) "
            "INCLUDE (key, primary_email, subjects_text) WHERE deleted_at IS NULL"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_customers_live_name_searchable")
