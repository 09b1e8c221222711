"""A version on every editable row: apps, customer overrides, customer app data, operators

Revision ID: 0012_edit_versions
Revises: 0011_sort_names
Create Date: 2026-12-01

Customers, billing profiles and plans have had a `version` since they were made: every UPDATE
checks and bumps it (SQLAlchemy's version_id_col), so an edit from a stale copy fails. The other
editable rows get one too, so that the API's If-Match and the console's edit forms guard them the
same way. Existing rows start at 1 (the server default, which also serves rows written in plain
SQL); the app chooses the first version of rows it inserts (see app/extensions.py).

Adding a NOT NULL column with a constant default rewrites nothing, on SQLite and on PostgreSQL
(11 and later): instant whatever the number of rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_edit_versions"
down_revision = "0011_sort_names"
branch_labels = None
depends_on = None

TABLES = ("apps", "customer_overrides", "customer_app_data", "operators")


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): batch mode would copy each table, and SQLite
    # refuses to drop `apps` while billing profiles point at it.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
