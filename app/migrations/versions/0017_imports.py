"""Customer imports: the uploaded file kept for the worker, a job's result, history's source job

Revision ID: 0017_imports
Revises: 0016_jobs
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_imports"
down_revision = "0016_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_input_chunks",
        sa.Column("job_id", sa.String(26), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("job_id", sa.String(26), nullable=True))
    op.create_index("ix_history_job_id", "history", ["job_id", "id"])


def downgrade():
    op.drop_index("ix_history_job_id", "history")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("job_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("result")
    op.drop_table("job_input_chunks")
