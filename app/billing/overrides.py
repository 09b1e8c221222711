"""Customer overrides (SPEC §3): which billing profile bills each customer.

A customer is billed by the profile it is pinned to, or by the current default when it is not
pinned (so changing the default moves every unpinned customer). Pinning to a deleted or unknown
profile is refused (400), as is writing to a deleted customer (412). Deleting a profile that live
customers are pinned to is refused by billing.rules.delete, through `pinned_customer_names`.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select

from app import history
from app.billing.models import BillingProfile
from app.billing.overrides_models import CustomerOverride
from app.customers import rules as customer_rules
from app.customers.models import Customer
from app.extensions import db, utcnow
from app.ids import is_id
from app.problems import FieldError, Invalid, PreconditionFailed, StaleEdit
from app.store import refuse_stale, unit_of_work

__all__ = ["CustomerOverride"]


@dataclass
class Effective:
    """A customer's billing: the override row (if any), the profile that bills it, and whether pinned."""

    customer: Customer
    override: CustomerOverride | None
    profile: BillingProfile | None

    @property
    def pinned(self) -> bool:
        return self.override is not None and self.override.billing_profile_id is not None


# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
# A customer, its override row (if any) and the profile that bills it: the pinned one, or else the
# live default (at most one profile is that: a partial unique index says so).
_LIVE_DEFAULT_ID = (
    select(BillingProfile.id)
    .where(BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None))
    .scalar_subquery()
)


def with_billing(*columns):
    """`columns` of customers joined to their override row (if any) and the profile that bills them:
    the one statement of "pinned, else the live default" (the console's list builds on it too)."""
    return (
        select(*columns)
        .select_from(Customer)
        .outerjoin(CustomerOverride, CustomerOverride.customer_id == Customer.id)
        .outerjoin(
            BillingProfile, BillingProfile.id == func.coalesce(CustomerOverride.billing_profile_id, _LIVE_DEFAULT_ID)
        )
    )


_WITH_BILLING = with_billing(Customer, CustomerOverride, BillingProfile).where(Customer.id == bindparam("customer_id"))
_BILLING_OF = with_billing(Customer.id, CustomerOverride, BillingProfile).where(
    Customer.id.in_(bindparam("ids", expanding=True))
)


def effective(customer: Customer) -> Effective:
    """The customer's override row (if any) and the profile that bills it, in one query."""
    _, override, profile = db.session.execute(_WITH_BILLING, {"customer_id": customer.id}).one()
    return Effective(customer, override, profile)


def effective_many(customers: list[Customer]) -> list[Effective]:
    """The effective billing of each of these customers (a page of them), in one query."""
    if not customers:
        return []
    found = {row[0]: row[1:] for row in db.session.execute(_BILLING_OF, {"ids": [c.id for c in customers]})}
    return [Effective(c, *found[c.id]) for c in customers]


def get(customer_id_or_key: str) -> Effective:
    """Raises NotFound. A deleted customer is answered too (its profile is what it was).
    By id, the customer and its billing come in one query (the customer page's)."""
    if is_id(customer_id_or_key):
        row = db.session.execute(_WITH_BILLING, {"customer_id": customer_id_or_key}).first()
        if row is not None:
            return Effective(*row)
    return effective(customer_rules.get(customer_id_or_key))


def check_profile(profile_id: str | None, field: str = "billingProfileId") -> None:
    """Raises Invalid unless `profile_id` is None (follow the default) or a live profile's id."""
    if profile_id is None:
        return
    profile = db.session.get(BillingProfile, profile_id) if is_id(profile_id) else None
    if profile is None or profile.is_deleted:
        state = "is deleted" if profile is not None else "does not exist"
        raise Invalid(
            [FieldError(field, "unknown_profile", f'Billing profile "{profile_id[:40]}" {state}: choose a live one.')]
        )


def hold_live_customer(customer_id: str) -> None:
    """After writing a customer's rows (flushed): check, holding the customer row, that it is still
    live. Its soft delete removes those rows after updating the customer, so the two queue."""
    live_customer = db.session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.deleted_at.is_(None)).with_for_update(read=True)
    )
    if live_customer is None:
        db.session.rollback()
        raise PreconditionFailed("The customer was deleted meanwhile.")


def _hold(customer_id: str, profile_id: str | None) -> None:
    """Check again, holding the rows, after writing: the customer is live and the profile too.

    Our write comes first; then the customer and profile are read FOR SHARE (PostgreSQL; SQLite
    runs one writer at a time). A profile delete marks the profile deleted first and counts pins
    afterwards (billing.rules.delete), so of two racers the second always sees the first.
    """
    db.session.flush()
    hold_live_customer(customer_id)
    if profile_id is not None:
        live = db.session.scalar(
            select(BillingProfile.id)
            .where(BillingProfile.id == profile_id, BillingProfile.deleted_at.is_(None))
            .with_for_update(read=True)
        )
        if live is None:
            db.session.rollback()
            check_profile(profile_id)
            raise Invalid([FieldError("billingProfileId", "unknown_profile", "The billing profile was deleted.")])


def version(override: CustomerOverride | None) -> int:
    """The version of a customer's override; 0 while it has none."""
    return override.version if override is not None else 0


def _changed_meanwhile(what: str) -> str:
    return f"{what} was changed by someone else meanwhile; read it again and retry."


def pin(customer_id_or_key: str, profile_id: str | None, expected_version: int | None = None) -> Effective:
    """Create or replace a customer's override: pinned to `profile_id`, or following the default
    when None. `expected_version` is the version the editor read (0: it had none). Raises NotFound,
    PreconditionFailed (deleted customer), StaleEdit or Invalid (bad profile)."""
    customer = customer_rules.live(customer_id_or_key, deleted="is deleted")
    check_profile(profile_id)
    now = utcnow()
    override = db.session.get(CustomerOverride, customer.id)
    what = f'The billing override of customer "{customer.name}" ({customer.id})'
    refuse_stale(what, expected_version, version(override))
    before = override.billing_profile_id if override is not None else None
    if override is None:
        override = CustomerOverride(customer_id=customer.id, created_at=now)
        db.session.add(override)
    override.billing_profile_id = profile_id
    override.updated_at = now
    history.record("customer", customer.id, "update", {"billingProfileId": before}, {"billingProfileId": profile_id})
    # The UPDATE may find another version, or the INSERT another override made meanwhile.
    changed = _changed_meanwhile(what)
    with unit_of_work(stale=changed, conflict=lambda: StaleEdit(changed)):
        _hold(customer.id, profile_id)
    return effective(customer)


def choose(customer_id: str, profile_id: str | None, expected_version: int | None = None) -> None:
    """Bill the customer by `profile_id`, or by the default when None: pin or unpin, and write
    nothing when that is already so. Raises as `pin` and `unpin` do."""
    current = effective(customer_rules.live(customer_id, deleted="is deleted"))
    if profile_id is None and current.override is not None:
        unpin(customer_id, expected_version=expected_version)
    elif profile_id is not None and (not current.pinned or current.override.billing_profile_id != profile_id):
        pin(customer_id, profile_id, expected_version=expected_version)


def unpin(customer_id_or_key: str, expected_version: int | None = None) -> None:
    """Delete a customer's override: it follows the default again. Raises NotFound,
    PreconditionFailed (deleted customer) or StaleEdit (not at `expected_version`)."""
    customer = customer_rules.live(customer_id_or_key, deleted="is deleted")
    override = db.session.get(CustomerOverride, customer.id)
    what = f'The billing override of customer "{customer.name}" ({customer.id})'
    refuse_stale(what, expected_version, version(override))
    if override is not None:
        history.record(
            "customer",
            customer.id,
            "update",
            {"billingProfileId": override.billing_profile_id},
            {"billingProfileId": None},
        )
        with unit_of_work(stale=_changed_meanwhile(what)):
            db.session.delete(override)  # the DELETE has the version in its WHERE too


def remove_for_customer(customer_id: str) -> None:
    """Part of a customer's soft delete (same transaction, no commit): it pins nothing any more."""
    db.session.execute(CustomerOverride.__table__.delete().where(CustomerOverride.customer_id == customer_id))


# ---------------------------------------------------------------------------------------------
# Who is pinned where


def pinned_customer_names(profile_id: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Customer.name)
            .join(CustomerOverride, CustomerOverride.customer_id == Customer.id)
            .where(CustomerOverride.billing_profile_id == profile_id, Customer.deleted_at.is_(None))
            .order_by(Customer.sort_name, Customer.id)
        )
    )


def pinned_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(CustomerOverride.billing_profile_id, func.count())
        .join(Customer, Customer.id == CustomerOverride.customer_id)
        .where(CustomerOverride.billing_profile_id.isnot(None), Customer.deleted_at.is_(None))
        .group_by(CustomerOverride.billing_profile_id)
    ).all()
    return {profile_id: count for profile_id, count in rows}


def _pinned_to(profile_id: str | None = None) -> ColumnElement:
    condition = [CustomerOverride.customer_id == Customer.id, CustomerOverride.billing_profile_id.isnot(None)]
    if profile_id is not None:
        condition.append(CustomerOverride.billing_profile_id == profile_id)
    return exists().where(*condition)


def billed_by(profile_id: str) -> ColumnElement:
    """Customers whose effective profile is `profile_id`: pinned to it, or unpinned while it is the default."""
    is_default = exists().where(
        BillingProfile.id == profile_id, BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None)
    )
    return or_(_pinned_to(profile_id), and_(~_pinned_to(), is_default))


def without_pin() -> ColumnElement:
    return ~_pinned_to()


def following_default_count() -> int:
    """How many live customers follow the default (none pinned): a new default bills them all."""
    query = select(func.count()).select_from(Customer).where(Customer.deleted_at.is_(None), without_pin())
    return db.session.scalar(query) or 0


ORDERINGS = {
    "Id": Customer.id,
    "Name": Customer.sort_name,
    "Key": Customer.key,
    "PrimaryEmail": Customer.primary_email,
    "CreatedAt": Customer.created_at,
}
