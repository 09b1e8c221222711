"""Billing profiles (SPEC §3) and the constraint that keeps exactly one of them the default.

The database enforces "at most one live default": a partial unique index over the default flag of
live rows, on SQLite and PostgreSQL alike. Making another profile the default demotes the old one
first, in the same transaction; two such transactions racing each other cannot both commit.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.apps.models import InstalledApp
from app.extensions import SortedByName, UTCDateTime, db

LIVE_DEFAULT = text("is_default AND deleted_at IS NULL")


class BillingProfile(SortedByName, db.Model):
    __tablename__ = "billing_profiles"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # "default" is an SQL keyword, hence the prefix.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    supplier_name: Mapped[str] = mapped_column(String(256))
    supplier_tax_code: Mapped[str | None] = mapped_column(String(32))
    supplier_country: Mapped[str] = mapped_column(String(2))
    supplier_postal_code: Mapped[str | None] = mapped_column(String(256))
    supplier_state: Mapped[str | None] = mapped_column(String(256))
    supplier_city: Mapped[str | None] = mapped_column(String(256))
    supplier_line1: Mapped[str | None] = mapped_column(String(256))
    supplier_line2: Mapped[str | None] = mapped_column(String(256))
    supplier_phone_number: Mapped[str | None] = mapped_column(String(64))

    # workflow.collection: `anchored` alignment also has a recurring period (interval and anchor).
    collection_alignment: Mapped[str] = mapped_column(String(16))
    collection_period_interval: Mapped[str | None] = mapped_column(String(64))
    collection_period_anchor: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collection_interval: Mapped[str] = mapped_column(String(64))
    # workflow.invoicing; durations are kept as the ISO 8601 text they were given in.
    invoicing_auto_advance: Mapped[bool] = mapped_column(Boolean)
    invoicing_draft_period: Mapped[str] = mapped_column(String(64))
    invoicing_due_after: Mapped[str] = mapped_column(String(64))
    invoicing_progressive_billing: Mapped[bool] = mapped_column(Boolean)
    invoicing_tax_behavior: Mapped[str | None] = mapped_column(String(16))
    # workflow.payment and workflow.tax
    payment_collection_method: Mapped[str] = mapped_column(String(32))
    tax_enabled: Mapped[bool] = mapped_column(Boolean)
    tax_enforced: Mapped[bool] = mapped_column(Boolean)

    # SPEC §3: one installed app taxes, invoices and collects payment; it never changes.
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking, as for customers: an edit made from a stale copy fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    app: Mapped[InstalledApp] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "ix_billing_profiles_default_live",
            "is_default",
            unique=True,
            sqlite_where=LIVE_DEFAULT,
            postgresql_where=LIVE_DEFAULT,
        ),
        Index("ix_billing_profiles_created_at_id", "created_at", "id"),
        Index("ix_billing_profiles_sort_name_id", "sort_name", "id"),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<BillingProfile {self.id} {self.name!r}{' default' if self.is_default else ''}>"
