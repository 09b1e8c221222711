"""Placeholder for the overview's cache table (being written; replaced by its real migration)

Revision ID: 0018_overview
Revises: 0017_imports
"""

revision = "0018_overview"
down_revision = "0017_imports"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
