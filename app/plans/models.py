"""Plan and subscription tables, and the constraint that keeps a customer on one plan at a time.

The database enforces "at most one active subscription per customer": a partial unique index over
the subscriptions that have not ended (`active_to IS NULL`), on SQLite and PostgreSQL alike, so two
concurrent subscribe requests can never both win.

Money is held exactly: `amount` is an integer count of the currency's minor units (cents for EUR,
yen for JPY), as ISO 4217 defines them; it is never a float.
"""

import re
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import display
from app.customers.models import LIVE, Customer
from app.extensions import SortedByName, UTCDateTime, db
from app.reference import currencies

ACTIVE = text("active_to IS NULL")

# Billing cadences by their ISO 8601 duration, with the words the console uses for them.
CADENCE_UNITS = (("Y", "year"), ("M", "month"), ("W", "week"), ("D", "day"))
# ISO 8601 durations of whole days or more: P1M, P3M, P1Y, P2W, P1Y6M… ASCII digits only (\d and int()
# would take "١"), at most 9 of them per unit; each unit's number is a group, in CADENCE_UNITS' order.
CADENCE_PATTERN = re.compile(r"P(?:([0-9]{1,9})Y)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})W)?(?:([0-9]{1,9})D)?")


def format_amount(minor_units: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's own number of decimals: 1250 EUR → "12.50"."""
    subunits = currencies()[currency].subunits if currency in currencies() else 0
    if subunits == 0:
        return str(minor_units)
    whole, fraction = divmod(minor_units, 10**subunits)
    return f"{whole}.{fraction:0{subunits}d}"


def describe_cadence(cadence: str) -> str:
    """ "P1M" → "month", "P3M" → "3 months", "P1Y2M" → "1 year 2 months"; anything else as it is."""
    match = CADENCE_PATTERN.fullmatch(cadence)
    if match is None:
        return cadence
    parts = [(int(number), word) for number, (_, word) in zip(match.groups(), CADENCE_UNITS) if number is not None]
    if len(parts) == 1 and parts[0][0] == 1:
        return parts[0][1]
    return " ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts) or cadence


class Plan(SortedByName, db.Model):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    # Key and currency are fixed once the plan exists, as in OpenMeter: subscriptions rely on them.
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of `currency`
    billing_cadence: Mapped[str] = mapped_column(String(32))  # ISO 8601 duration, e.g. P1M
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking, as for customers: an edit from a stale copy fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_plans_key_live", "key", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
        Index("ix_plans_sort_name_id", "sort_name", "id"),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def price_text(self) -> str:
        """ "€12.50 monthly", as the console writes money and cadences everywhere (app.display)."""
        return display.price(self)

    def __repr__(self) -> str:
        return f"<Plan {self.id} {self.key!r}>"


class Subscription(db.Model):
    """A customer on a plan from `active_from` until `active_to` (open while it is active)."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    # The plan's currency when it started; the customer pays in it too.
    currency: Mapped[str] = mapped_column(String(3))
    active_from: Mapped[datetime] = mapped_column(UTCDateTime())
    active_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # The plan is nearly always shown with a subscription; the customer is usually loaded already.
    plan: Mapped[Plan] = relationship(lazy="joined", innerjoin=True)
    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        Index(
            "ix_subscriptions_customer_active",
            "customer_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
    )

    @property
    def is_active(self) -> bool:
        return self.active_to is None

    @property
    def status(self) -> str:
        # OpenMeter's statuses; ours start at once and end at once, so never "scheduled" or "canceled"
        # (which there means "ends at a future date").
        return "active" if self.is_active else "inactive"

    def __repr__(self) -> str:
        return f"<Subscription {self.id} {self.customer_id} {self.plan_id}>"
