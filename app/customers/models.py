"""Customer tables and the constraints that keep them right under concurrent writes.

One rule the database enforces for us: an identifier (a customer's key or one of its subject keys)
belongs to at most one live customer. Every live customer claims each of its identifiers once in
`customer_identifiers`, and a partial unique index over the live claims refuses a second owner, on
SQLite and PostgreSQL alike. A customer whose key equals one of its own subjects ("acme" both ways,
the common case) claims that value once, with both flags set.
"""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import SortedByName, UTCDateTime, db

LIVE = text("deleted_at IS NULL")


class Customer(SortedByName, db.Model):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    key: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    primary_email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str | None] = mapped_column(String(3))
    address_country: Mapped[str | None] = mapped_column(String(2))
    address_postal_code: Mapped[str | None] = mapped_column(String(256))
    address_state: Mapped[str | None] = mapped_column(String(256))
    address_city: Mapped[str | None] = mapped_column(String(256))
    address_line1: Mapped[str | None] = mapped_column(String(256))
    address_line2: Mapped[str | None] = mapped_column(String(256))
    address_phone_number: Mapped[str | None] = mapped_column(String(64))
    # The subject keys, one per line: what the search index and the subject filter read, so a
    # search never joins the identifiers (kept by rules._claim_identifiers).
    subjects_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # "metadata" is reserved by SQLAlchemy's declarative base, hence the trailing underscore.
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # Short labels, sorted; customer_tags (and customer_metadata) follow by trigger (migration 0019).
    tags: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: every UPDATE checks and bumps it, so an edit made from a stale copy fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    identifiers: Mapped[list["CustomerIdentifier"]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        order_by="CustomerIdentifier.position",
        lazy="select",  # only writes need the rows; reads use subjects_text
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_customers_key_live", "key", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
        Index("ix_customers_sort_name_id", "sort_name", "id"),
        Index("ix_customers_created_at_id", "created_at", "id"),
        Index("ix_customers_currency", "currency"),
        Index("ix_customers_address_country", "address_country"),
        Index("ix_customers_primary_email", "primary_email"),
    )

    @property
    def subject_keys(self) -> list[str]:
        return split_subjects(self.subjects_text)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name!r}>"


def split_subjects(subjects_text: str) -> list[str]:
    return subjects_text.split("\n") if subjects_text else []


class CustomerSummary(NamedTuple):
    """What a list of customers shows of each: a plain row, read at a fraction of a Customer's cost,
    with its current plan (if any) and the billing profile that bills it."""

    id: str
    name: str
    key: str | None
    subjects_text: str
    currency: str | None
    primary_email: str | None
    created_at: datetime
    deleted_at: datetime | None
    plan_id: str | None
    plan_name: str | None
    billing_profile: str | None  # its name
    pinned: bool  # to that profile, rather than billed by the default
    tags: list[str]
    country: str | None
    updated_at: datetime
    metadata: dict

    @property
    def subject_keys(self) -> list[str]:
        return split_subjects(self.subjects_text)

    @property
    def created_iso(self) -> str:
        # Made here: Jinja calling isoformat() and date() cost half of each list row's rendering.
        return self.created_at.isoformat()


class CustomerIdentifier(db.Model):
    """A value a customer answers to: its key, one of its subject keys, or both."""

    __tablename__ = "customer_identifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(256))
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    is_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    # Keeps the subject keys in the order the operator gave them.
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Copied from the customer on soft delete, so the partial index frees the value at once.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship(back_populates="identifiers")

    __table_args__ = (
        Index("ix_customer_identifiers_value_live", "value", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
    )


class CustomerMetadataEntry(db.Model):
    """One key and value of a customer's metadata, for filtering by them (kept by a trigger)."""

    __tablename__ = "customer_metadata"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_customer_metadata_key_value", "key", "value", "customer_id"),)


class CustomerTag(db.Model):
    """One of a customer's tags, for filtering by it (kept by a trigger)."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)


ONE_DEFAULT = text("is_default")


class SavedView(db.Model):
    """A name for a customers list as an operator left it (search, filters, sort, columns): theirs,
    or shared with everyone; pinned ones are a click away on the list. One shared view may be the
    list's default, which opens when the list is opened without arguments."""

    __tablename__ = "saved_views"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(26))
    owner_name: Mapped[str] = mapped_column(String(64))  # copied, for "shared by"
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    query: Mapped[str] = mapped_column(Text)  # the list's URL arguments, urlencoded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_saved_views_owner_name", "owner_id", "name", unique=True),
        Index(
            "ix_saved_views_default", "is_default", unique=True, sqlite_where=ONE_DEFAULT, postgresql_where=ONE_DEFAULT
        ),
    )
