"""Customer app data (SPEC §2): each customer's ids and metadata in the installed apps.

Stripe: `stripeCustomerId` (required, cus_…) and `stripeDefaultPaymentMethodId` (optional, pm_…);
a Stripe customer id belongs to at most one live customer per app, which a unique index decides
under concurrent writes (the conflict names the other customer). Custom invoicing: a metadata map
within the customer metadata limits. Sandbox: no data.

Raises `Invalid` (400), `Conflict` (409), `StaleEdit` (409: changed since the editor read it),
`NotFound` (404) or `PreconditionFailed` (412: deleted customer, or no app of that type in the
customer's effective billing profile).
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app import history
from app.apps.models import APP_TYPES, CustomerAppData, InstalledApp
from app.billing import overrides
from app.common import check_metadata
from app.customers import rules as customer_rules
from app.customers.models import Customer
from app.extensions import db, utcnow
from app.ids import is_id
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed, Problem, StaleEdit
from app.store import refuse_stale, unit_of_work

_DELETED = "is deleted; its app data cannot change"

STRIPE_CUSTOMER_ID = re.compile(r"cus_[0-9A-Za-z]{1,251}")
STRIPE_PAYMENT_METHOD_ID = re.compile(r"pm_[0-9A-Za-z]{1,252}")


@dataclass
class AppDataInput:
    type: str | None
    app_id: str | None = None
    stripe_customer_id: str | None = None
    stripe_default_payment_method_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def list_for(customer_id_or_key: str, app_type: str | None = None) -> tuple[Customer, list[CustomerAppData]]:
    """A customer's app data, oldest app first. Raises NotFound."""
    customer = customer_rules.get(customer_id_or_key)
    query = (
        select(CustomerAppData)
        .join(InstalledApp, InstalledApp.id == CustomerAppData.app_id)
        .where(CustomerAppData.customer_id == customer.id)
        .order_by(InstalledApp.created_at, InstalledApp.id)
    )
    if app_type:
        query = query.where(CustomerAppData.type == app_type)
    return customer, list(db.session.scalars(query))


def _check_item(errors: list[FieldError], prefix: str, item: AppDataInput) -> None:
    if item.type not in APP_TYPES:
        errors.append(FieldError(f"{prefix}type", "invalid", f"type must be one of {', '.join(APP_TYPES)}."))
        return
    if item.type == "stripe":
        if not item.stripe_customer_id:
            errors.append(FieldError(f"{prefix}stripeCustomerId", "required", "A Stripe customer id is required."))
        elif not STRIPE_CUSTOMER_ID.fullmatch(item.stripe_customer_id):
            errors.append(
                FieldError(
                    f"{prefix}stripeCustomerId",
                    "invalid",
                    'A Stripe customer id starts with "cus_" followed by letters and digits, e.g. cus_NffrFeUfNV2Hib.',
                )
            )
        pm = item.stripe_default_payment_method_id
        if pm and not STRIPE_PAYMENT_METHOD_ID.fullmatch(pm):
            errors.append(
                FieldError(
                    f"{prefix}stripeDefaultPaymentMethodId",
                    "invalid",
                    'A Stripe payment method id starts with "pm_" followed by letters and digits.',
                )
            )
    if item.type == "custom_invoicing":
        errors += check_metadata(item.metadata, prefix=f"{prefix}metadata")


def _resolve_app(errors: list[FieldError], prefix: str, item: AppDataInput, customer: Customer) -> InstalledApp | None:
    if item.app_id is None:
        profile = overrides.effective(customer).profile
        if profile is None or profile.app.type != item.type or profile.app.is_deleted:
            name = f'"{profile.name}"' if profile is not None else "none"
            raise PreconditionFailed(
                f"The customer's billing profile ({name}) has no {item.type} app: give the app's id."
            )
        return profile.app
    app = db.session.get(InstalledApp, item.app_id) if is_id(item.app_id) else None
    if app is None or app.is_deleted:
        errors.append(FieldError(f"{prefix}id", "not_installed", f'No installed app has the id "{item.app_id[:40]}".'))
        return None
    if app.type != item.type:
        errors.append(
            FieldError(f"{prefix}type", "type_mismatch", f"App {app.id} is a {app.type} app, not {item.type}.")
        )
        return None
    return app


def _holder_errors(pairs: list[tuple[str, str, str]], customer_id: str) -> list[FieldError]:
    """For (field, app id, Stripe customer id) triples: which other customer holds each id."""
    errors = []
    for name, app_id, stripe_id in pairs:
        holder = db.session.scalars(
            select(Customer)
            .join(CustomerAppData, CustomerAppData.customer_id == Customer.id)
            .where(
                CustomerAppData.app_id == app_id,
                CustomerAppData.stripe_customer_id == stripe_id,
                Customer.id != customer_id,
            )
        ).first()
        if holder is not None:
            errors.append(
                FieldError(
                    name,
                    "conflict",
                    f'Stripe customer id "{stripe_id}" already belongs to customer "{holder.name}" ({holder.id}).',
                    holder.id,
                )
            )
    return errors


def version(row: CustomerAppData | None) -> int:
    """The version of a customer's data in one app; 0 while it has none."""
    return row.version if row is not None else 0


def _what(customer: Customer, app: InstalledApp) -> str:
    return f'The data of customer "{customer.name}" ({customer.id}) in app "{app.name}" ({app.id})'


def upsert(
    customer_id_or_key: str,
    items: list[AppDataInput],
    indexed: bool = True,
    expected_versions: dict[str, int] | None = None,
) -> list[CustomerAppData]:
    """Set the data of the apps the items name (others keep theirs); answers the resulting data.

    `indexed` names fields `[i].stripeCustomerId` (the API's array); the console sends one item
    and gets the bare names. `expected_versions` holds, by app id, the version of the data the
    editor read (0: none yet); data of an app it does not name is refused too (StaleEdit), as it
    was not read. None expects nothing: the last write wins.
    """
    customer = customer_rules.live(customer_id_or_key, deleted=_DELETED)
    errors: list[FieldError] = []
    resolved: list[tuple[str, AppDataInput, InstalledApp]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        prefix = f"[{i}]." if indexed else ""
        before = len(errors)
        _check_item(errors, prefix, item)
        if len(errors) > before:
            continue
        app = _resolve_app(errors, prefix, item, customer)
        if app is None:
            continue
        if app.id in seen:
            errors.append(FieldError(f"{prefix}id", "duplicate", f"App {app.id} is given twice."))
            continue
        seen.add(app.id)
        resolved.append((prefix, item, app))
    if errors:
        raise Invalid(errors)
    stripe_pairs = [
        (f"{prefix}stripeCustomerId", app.id, item.stripe_customer_id)
        for prefix, item, app in resolved
        if item.type == "stripe"
    ]
    conflicts = _holder_errors(stripe_pairs, customer.id)
    if conflicts:
        raise Conflict(conflicts)

    rows = {app.id: db.session.get(CustomerAppData, (customer.id, app.id)) for _, _, app in resolved}
    if expected_versions is not None:  # all checked before anything is written
        for _, _, app in resolved:
            if app.id not in expected_versions:
                raise StaleEdit(f"{_what(customer, app)} is not among the versions you read; read it and retry.")
            refuse_stale(_what(customer, app), expected_versions[app.id], version(rows[app.id]))

    now = utcnow()
    for _, item, app in resolved:
        row = rows[app.id]
        before = _snapshot(row)
        if row is None:
            row = CustomerAppData(customer_id=customer.id, app_id=app.id, type=app.type, created_at=now)
            db.session.add(row)
        row.stripe_customer_id = item.stripe_customer_id if app.type == "stripe" else None
        row.stripe_default_payment_method_id = (
            (item.stripe_default_payment_method_id or None) if app.type == "stripe" else None
        )
        row.metadata_ = dict(item.metadata) if app.type == "custom_invoicing" else None
        row.updated_at = now
        history.record(
            "customer", customer.id, "update", {f"apps.{app.id}": before}, {f"apps.{app.id}": _snapshot(row)}
        )
    described = "; ".join(_what(customer, app) for _, _, app in resolved)

    def refused() -> Problem:
        holders = _holder_errors(stripe_pairs, customer.id)
        if not holders:  # no other customer has the id: this customer's data in the app was made meanwhile
            return StaleEdit(f"{described}: made by someone else meanwhile; read it again and retry.")
        return Conflict(holders)

    # Stale: an UPDATE found the row at another version than it was read at.
    changed = f"{described}: changed by someone else meanwhile; read it again and retry."
    with unit_of_work(stale=changed, conflict=refused):
        db.session.flush()
        overrides.hold_live_customer(customer.id)
    by_app = {app.id for _, _, app in resolved}
    return [row for row in list_for(customer.id)[1] if row.app_id in by_app]


def delete(customer_id_or_key: str, app_id: str, expected_version: int | None = None) -> None:
    """Remove a customer's data in one app. Raises NotFound (no such data), PreconditionFailed or
    StaleEdit (not at `expected_version`, the version the editor read)."""
    customer = customer_rules.live(customer_id_or_key, deleted=_DELETED)
    row = db.session.get(CustomerAppData, (customer.id, app_id)) if is_id(app_id) else None
    if row is None:
        raise NotFound(f'Customer "{customer.name}" has no data in an app with the id "{app_id[:40]}".')
    what = _what(customer, row.app)
    refuse_stale(what, expected_version, row.version)
    history.record("customer", customer.id, "update", {f"apps.{app_id}": _snapshot(row)}, {f"apps.{app_id}": None})
    with unit_of_work(stale=f"{what} was changed by someone else meanwhile; read it again and retry."):
        db.session.delete(row)  # the DELETE has the version in its WHERE


def _snapshot(row: CustomerAppData | None) -> dict | None:
    """A customer's data in one app, for the change history."""
    if row is None:
        return None
    data = {
        "type": row.type,
        "stripeCustomerId": row.stripe_customer_id,
        "stripeDefaultPaymentMethodId": row.stripe_default_payment_method_id,
        "metadata": row.metadata_,
    }
    return {k: v for k, v in data.items() if v is not None}


def remove_for_customer(customer_id: str) -> None:
    """Part of a customer's soft delete (same transaction, no commit): its app data goes, and its
    Stripe customer ids are free for other customers at once."""
    db.session.execute(CustomerAppData.__table__.delete().where(CustomerAppData.customer_id == customer_id))


def stripe_app_of(customer: Customer) -> InstalledApp:
    """The Stripe app of the customer's effective billing profile. Raises PreconditionFailed."""
    profile = overrides.effective(customer).profile
    if profile is None or profile.app.type != "stripe":
        name = f'"{profile.name}"' if profile is not None else "none"
        raise PreconditionFailed(f"The customer's billing profile ({name}) does not bill through a Stripe app.")
    return profile.app
