"""The change log: one row per write to a customer, app, billing profile, operator or API token."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db


class Change(db.Model):
    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who: an operator, an API token, or "system" (first start, the command line).
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(26))
    # Copied, so the log still says who it was after an operator is renamed or a token revoked.
    actor_name: Mapped[str] = mapped_column(String(256))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete
    # [{"field": "name", "before": "Acme", "after": "Acme Inc"}, …], only the fields that changed.
    changes: Mapped[list] = mapped_column(JSON, default=list)
    # The background job that made the change (an import), if one did.
    job_id: Mapped[str | None] = mapped_column(String(26))
    # Why, in the operator's words, when they gave one (a bulk change asks).
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_history_entity", "entity_type", "entity_id", "id"),
        Index("ix_history_at_id", "at", "id"),
        Index("ix_history_actor_name", "actor_name"),
        Index("ix_history_job_id", "job_id", "id"),
    )
