"""The overview's figures, kept in the database: every web worker on every machine shows the same
ones, and a million customers are counted once every few minutes rather than on every visit."""

from datetime import datetime

from sqlalchemy import JSON, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db

# The table holds one row: the latest figures (older ones are of no use to anyone).
SNAPSHOT_ID = 1


class OverviewSnapshot(db.Model):
    __tablename__ = "overview_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # When the counting started: the figures are as of then.
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    figures: Mapped[dict] = mapped_column(JSON, nullable=False)
