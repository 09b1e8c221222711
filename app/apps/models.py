"""Installed apps (SPEC §2): the sandbox, Stripe and custom invoicing.

Uninstalling is a soft delete: billing profiles that once used an app keep pointing at it.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Encrypted, UTCDateTime, db, next_version_of_reborn_row

APP_TYPES = ("sandbox", "stripe", "custom_invoicing")


class InstalledApp(db.Model):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    # Stripe only. The secret key is stored encrypted (app.vault) for the day this system talks to
    # Stripe; it is never serialised anywhere: readers get `masked_api_key`.
    stripe_secret_api_key: Mapped[str | None] = mapped_column(Encrypted())
    stripe_livemode: Mapped[bool | None] = mapped_column(Boolean)
    # Custom invoicing only.
    enable_draft_sync_hook: Mapped[bool | None] = mapped_column(Boolean)
    enable_issuing_sync_hook: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking, as for customers: an edit made from a stale copy fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
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


STRIPE_ID_TAKEN = text("stripe_customer_id IS NOT NULL")


class CustomerAppData(db.Model):
    """One customer's data in one installed app (SPEC §2): at most one row per (customer, app).

    Rows belong to live customers only: a customer's soft delete removes them, so the unique index
    over (app, Stripe customer id) is "one live customer per Stripe customer id per app".
    """

    __tablename__ = "customer_app_data"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_default_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSON)  # custom invoicing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Optimistic locking. Clearing an app's data deletes the row, so a new one starts afresh.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    app: Mapped[InstalledApp] = relationship()

    __mapper_args__ = {"version_id_col": version, "version_id_generator": next_version_of_reborn_row}

    __table_args__ = (
        Index(
            "ix_customer_app_data_stripe_customer",
            "app_id",
            "stripe_customer_id",
            unique=True,
            sqlite_where=STRIPE_ID_TAKEN,
            postgresql_where=STRIPE_ID_TAKEN,
        ),
    )
