"""Installed apps (SPEC §2): the sandbox, Stripe and custom invoicing.

Uninstalling is a soft delete: billing profiles that once used an app keep pointing at it.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import UTCDateTime, db

APP_TYPES = ("sandbox", "stripe", "custom_invoicing")


class InstalledApp(db.Model):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    # Stripe only. The secret key is stored for the day this system talks to Stripe; it is never
    # serialised anywhere: readers get `masked_api_key`.
    stripe_secret_api_key: Mapped[str | None] = mapped_column(String(255))
    stripe_livemode: Mapped[bool | None] = mapped_column(Boolean)
    # Custom invoicing only.
    enable_draft_sync_hook: Mapped[bool | None] = mapped_column(Boolean)
    enable_issuing_sync_hook: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("type IN ('sandbox', 'stripe', 'custom_invoicing')", name="ck_apps_type"),
        Index("ix_apps_created_at_id", "created_at", "id"),
    )

    @property
    def masked_api_key(self) -> str | None:
        """The first 8 and last 3 characters of the Stripe key, as OpenMeter shows it: `sk_test_***x9Z`."""
        key = self.stripe_secret_api_key
        return f"{key[:8]}***{key[-3:]}" if key else None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:  # never the key
        return f"<InstalledApp {self.id} {self.type} {self.name!r}>"
