"""Console sessions kept in the database, so that logging out, a password change, disabling an
operator or an admin's "sign out everywhere" ends them on every worker at once

Revision ID: 0013_console_sessions
Revises: 0012_edit_versions
Create Date: 2026-12-02

Until now a login was only a signed cookie, valid until it expired. Those cookies name no session
row, so after this migration they no longer log anyone in: every operator logs in once more.
"""

import sqlalchemy as sa
from alembic import op


revision = "0013_console_sessions"
down_revision = "0012_edit_versions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("operator_id", sa.String(26), sa.ForeignKey("operators.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(256), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_console_sessions_operator_id", "console_sessions", ["operator_id"])


def downgrade():
    op.drop_table("console_sessions")
