"""Background jobs an operator started (exports, imports), with their progress and their files.

The queue that hands a job to a worker is huey's (app/jobs/queue.py); what operators see of a job,
and the file it made, live here, in the console's database, so every web worker on every machine
reads the same state and can serve the same download.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db

STATUSES = ("queued", "running", "succeeded", "failed")


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "export", "import_check", "import"
    title: Mapped[str] = mapped_column(String(256))  # what the Jobs page calls it
    operator_id: Mapped[str] = mapped_column(String(26))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)  # None: not known yet
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Written as the work goes on: a running job whose heartbeat stopped lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_name: Mapped[str | None] = mapped_column(String(128))
    file_type: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    # What the job found or did, for its page (an import's counts and errors).
    result: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_jobs_operator_created", "operator_id", "created_at"),)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


class JobFileChunk(db.Model):
    """A job's result file, in pieces of at most a few hundred kilobytes, in order."""

    __tablename__ = "job_file_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JobInputChunk(db.Model):
    """A file a job reads (an uploaded import), in pieces, in order: in the database, so that a
    worker on any machine can read it."""

    __tablename__ = "job_input_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
