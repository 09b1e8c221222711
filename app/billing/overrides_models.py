"""Customer overrides (SPEC §3): a customer pinned to a billing profile, or following the default.

A row exists once an override was PUT; `billing_profile_id` NULL means "the default, whichever it
is". The foreign keys make a pin name a real profile and customer; that the profile is live is
checked under a lock by the rules (billing.overrides), since profiles are soft-deleted.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db, next_version_of_reborn_row


class CustomerOverride(db.Model):
    __tablename__ = "customer_overrides"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    billing_profile_id: Mapped[str | None] = mapped_column(ForeignKey("billing_profiles.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Optimistic locking. Deleting the override deletes the row, so a new one starts afresh.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": next_version_of_reborn_row}
