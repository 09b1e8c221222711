"""Background jobs (exports) with their progress and result files, readable by every web worker

Revision ID: 0016_jobs
Revises: 0015_search_finds_anything
Create Date: 2026-12-02

huey keeps its own queue tables (in instance/jobs.sqlite on SQLite, in this database on PostgreSQL)
and makes them itself; these are the console's record of each job.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_jobs"
down_revision = "0015_search_finds_anything"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("operator_id", sa.String(26), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.String(128), nullable=True),
        sa.Column("file_type", sa.String(64), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=False),
    )
    op.create_index("ix_jobs_operator_created", "jobs", ["operator_id", "created_at"])
    op.create_table(
        "job_file_chunks",
        sa.Column("job_id", sa.String(26), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade():
    op.drop_table("job_file_chunks")
    op.drop_table("jobs")
