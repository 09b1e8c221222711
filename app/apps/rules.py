"""The app rules (SPEC §2): the marketplace, installing, editing and uninstalling apps, and the
Sandbox app with the default billing profile that exist from the first start.

Plain functions over the session, raising problems from `app.problems`: `Invalid` (400, each bad
field named), `Conflict` (409, uninstalling an app that live billing profiles use, naming them),
`NotFound` (404), `StaleEdit` (409) or `PreconditionFailed` (412, the app is uninstalled). This system never calls
Stripe: a key is checked for its form only.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import history
from app.apps.models import InstalledApp
from app.billing import rules as billing_rules
from app.common import DESCRIPTION_MAX, NAME_MAX, Page, check_metadata
from app.extensions import db, utcnow
from app.ids import new_id
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed
from app.store import get_by_id, refuse_stale, unit_of_work
from app.text_rules import check_text

# ---------------------------------------------------------------------------------------------
# The marketplace: fixed data, as in OpenMeter (its listings live in configuration, not a table).

WITH_API_KEY = "with_api_key"
NO_CREDENTIALS = "no_credentials_required"
BILLING_CAPABILITIES = ("calculateTax", "invoiceCustomers", "collectPayments")


@dataclass(frozen=True)
class Capability:
    type: str
    key: str
    name: str
    description: str


@dataclass(frozen=True)
class Listing:
    type: str
    name: str
    description: str
    capabilities: tuple[Capability, ...]
    install_methods: tuple[str, ...]


def _capabilities(prefix: str, tax: str, invoice: str, collect: str) -> tuple[Capability, ...]:
    return (
        Capability("calculateTax", f"{prefix}_calculate_tax", "Calculate Tax", tax),
        Capability("invoiceCustomers", f"{prefix}_invoice_customers", "Invoice Customers", invoice),
        Capability("collectPayments", f"{prefix}_collect_payments", "Collect Payments", collect),
    )


LISTINGS = {
    "sandbox": Listing(
        "sandbox",
        "Sandbox",
        "Sandbox can be used as a no-op invoicing and payment app: nothing leaves this system.",
        _capabilities("sandbox", "Calculates no tax.", "Issues invoices that go nowhere.", "Marks invoices paid."),
        (NO_CREDENTIALS,),
    ),
    "stripe": Listing(
        "stripe",
        "Stripe",
        "Send invoices, calculate tax and collect payments with Stripe.",
        _capabilities(
            "stripe",
            "Stripe Tax calculates the tax on invoices.",
            "Stripe invoices customers for the amount due.",
            "Stripe collects payment with the customer's default payment method.",
        ),
        (WITH_API_KEY,),
    ),
    "custom_invoicing": Listing(
        "custom_invoicing",
        "Custom Invoicing",
        "Custom Invoicing can be used to interface with any invoicing or payment system.",
        _capabilities(
            "custom_invoicing",
            "Your system calculates the tax.",
            "Your system invoices customers, told through sync hooks.",
            "Your system collects payments and reports their status.",
        ),
        (NO_CREDENTIALS,),
    ),
}


def get_listing(app_type: str) -> Listing:
    """Raises NotFound for a type the marketplace does not have."""
    listing = LISTINGS.get(app_type)
    if listing is None:
        raise NotFound(f'The marketplace has no app of type "{app_type[:40]}" (it has {", ".join(LISTINGS)}).')
    return listing


# ---------------------------------------------------------------------------------------------
# Checking input

# Stripe secret (sk_) and restricted (rk_) keys, in test or live mode. Stripe allows up to 255 characters.
STRIPE_KEY = re.compile(r"(sk|rk)_(test|live)_[0-9A-Za-z]{10,240}")


def check_stripe_key(key: str | None, name: str) -> list[FieldError]:
    if not key:
        return [FieldError(name, "required", "The Stripe app needs a secret API key (sk_… or rk_…).")]
    if STRIPE_KEY.fullmatch(key) is None:
        # Never echo the key, even a malformed one: it may be a real secret pasted into the wrong place.
        return [
            FieldError(
                name,
                "invalid_api_key",
                "That is not a Stripe secret key: it must start with sk_test_, sk_live_, rk_test_ or rk_live_ "
                "followed by letters and digits.",
            )
        ]
    return []


def livemode(key: str) -> bool:
    return key.split("_")[1] == "live"


@dataclass
class AppInput:
    """What a replace (PUT) sets on an installed app."""

    type: str
    name: str
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    secret_api_key: str | None = None  # Stripe: a new key; None keeps the current one
    enable_draft_sync_hook: bool = False  # custom invoicing
    enable_issuing_sync_hook: bool = False


def _check_common(name: str | None, description: str | None, metadata: dict[str, str]) -> list[FieldError]:
    errors: list[FieldError] = []
    check_text(errors, "name", name, NAME_MAX, label="Name", required=True)
    check_text(errors, "description", description, DESCRIPTION_MAX, label="Description", multiline=True)
    errors += check_metadata(metadata)
    return errors


def snapshot(app: InstalledApp) -> dict:
    """The app's fields under the API's names, for the change history. Never the secret key."""
    return {
        "type": app.type,
        "name": app.name,
        "description": app.description,
        "metadata": dict(app.metadata_ or {}),
        "status": app.status,
        "maskedAPIKey": app.masked_api_key,
        "livemode": app.stripe_livemode,
        "enableDraftSyncHook": app.enable_draft_sync_hook,
        "enableIssuingSyncHook": app.enable_issuing_sync_hook,
    }


def _describe(app: InstalledApp) -> str:
    return f'"{app.name}" ({app.id})'


# ---------------------------------------------------------------------------------------------
# The operations


def _new_app(listing: Listing, name: str, api_key: str | None = None) -> InstalledApp:
    now = utcnow()
    app = InstalledApp(
        id=new_id(), type=listing.type, name=name, metadata_={}, status="ready", created_at=now, updated_at=now
    )
    if listing.type == "stripe":
        app.stripe_secret_api_key = api_key
        app.stripe_livemode = livemode(api_key)
    if listing.type == "custom_invoicing":
        app.enable_draft_sync_hook = False
        app.enable_issuing_sync_hook = False
    return app


def install(
    app_type: str, name: str | None = None, api_key: str | None = None, create_billing_profile: bool = True
) -> tuple[InstalledApp, list[str]]:
    """Install an app from the marketplace; Stripe needs `api_key`, the others take none.

    With `create_billing_profile` (OpenMeter's default) a billing profile on the new app is made in
    the same transaction (see billing.rules.add_profile_for_app). Returns the app and the capability
    types it is now the default for. Raises NotFound (no such listing) or Invalid.
    """
    listing = get_listing(app_type)
    name = (name or "").strip() or listing.name
    errors = _check_common(name, None, {})
    if WITH_API_KEY in listing.install_methods:
        errors += check_stripe_key(api_key, "apiKey")
    elif api_key is not None:
        errors.append(FieldError("apiKey", "not_accepted", f"The {listing.name} app is installed without an API key."))
    if errors:
        raise Invalid(errors)

    def attempt() -> tuple[InstalledApp, bool]:
        app = _new_app(listing, name, api_key)
        db.session.add(app)
        db.session.flush()
        history.record("app", app.id, "create", {}, snapshot(app))
        return app, create_billing_profile and billing_rules.add_profile_for_app(app)

    app, made_default = billing_rules.commit_with_one_default(attempt)
    return app, list(BILLING_CAPABILITIES) if made_default else []


def ensure_defaults() -> None:
    """Install the Sandbox app with the default billing profile on it, unless a live default exists.

    Runs on first start (see app/apps/__init__.py) and in the tests after they empty the tables.
    Several processes may run it at once: one transaction commits and the others roll back,
    leaving one sandbox app and one default profile. Once a default exists this
    only reads, so an operator who has since uninstalled the sandbox does not get it back.
    Raises SQLAlchemyError when the database is unreachable or not migrated yet.
    """
    if billing_rules.default_profile() is not None:
        return
    sandbox = _new_app(LISTINGS["sandbox"], LISTINGS["sandbox"].name)
    db.session.add(sandbox)
    history.record("app", sandbox.id, "create", {}, snapshot(sandbox))
    try:
        db.session.flush()
        # add_profile_for_app looks for a default again after waiting for any other process doing
        # the same (SQLite's write lock, PostgreSQL's advisory lock): only ours if there is none.
        # The one-default index is the backstop.
        if billing_rules.add_profile_for_app(sandbox, name="Default billing profile"):
            db.session.commit()
        else:
            db.session.rollback()
    except IntegrityError:
        db.session.rollback()  # another process made them first


def replace(app_id: str, data: AppInput, expected_version: int | None = None) -> InstalledApp:
    """Replace an app's name, description, metadata and type-specific settings.

    `expected_version` is the version the editor read. Raises NotFound, PreconditionFailed
    (uninstalled), StaleEdit or Invalid.
    """
    app = get(app_id)
    if app.is_deleted:
        raise PreconditionFailed(f"App {_describe(app)} is uninstalled and cannot be changed.")
    refuse_stale(f"App {_describe(app)}", expected_version, app.version, ("app", app.id))
    name = (data.name or "").strip()
    description = (data.description or "").strip() or None
    errors = _check_common(name, description, data.metadata)
    if data.type != app.type:
        errors.append(FieldError("type", "type_mismatch", f'This is a {app.type} app: type must be "{app.type}".'))
    new_key = data.secret_api_key if app.type == "stripe" else None
    if new_key is not None:
        key_errors = check_stripe_key(new_key, "secretAPIKey")
        if not key_errors and livemode(new_key) != app.stripe_livemode:
            # Stripe customer ids belong to one mode; a key of the other mode would orphan them all.
            key_errors.append(
                FieldError(
                    "secretAPIKey",
                    "livemode_change",
                    "The new key must be of the same mode (test or live) as the current one; "
                    "install another Stripe app to change mode.",
                )
            )
        errors += key_errors
    if errors:
        raise Invalid(errors)

    before = snapshot(app)
    app.name = name
    app.description = description
    app.metadata_ = dict(data.metadata)
    if new_key is not None:
        app.stripe_secret_api_key = new_key
    if app.type == "custom_invoicing":
        app.enable_draft_sync_hook = bool(data.enable_draft_sync_hook)
        app.enable_issuing_sync_hook = bool(data.enable_issuing_sync_hook)
    app.updated_at = utcnow()
    with unit_of_work(stale=_changed_meanwhile(app)):
        history.record("app", app.id, "update", before, snapshot(app))
    return app


def _changed_meanwhile(app: InstalledApp) -> str:
    """Why a change of the app fails when someone else committed one meanwhile: its UPDATE has the
    version the app was read at in its WHERE."""
    return f"App {_describe(app)} was changed by someone else meanwhile; read it again and retry."


def uninstall(app_id: str, expected_version: int | None = None) -> InstalledApp:
    """Uninstall (soft-delete) an app. Raises NotFound, PreconditionFailed (already uninstalled),
    StaleEdit (not at `expected_version`), or Conflict naming the live billing profiles that use it."""
    app = get(app_id)
    if app.is_deleted:
        raise PreconditionFailed(f"App {_describe(app)} is already uninstalled.")
    refuse_stale(f"App {_describe(app)}", expected_version, app.version, ("app", app.id))
    now = utcnow()
    app.deleted_at = now
    app.updated_at = now
    with unit_of_work(stale=_changed_meanwhile(app)):
        # Write first, then look: this holds the app row (the database, on SQLite) so that a billing
        # profile being created on it meanwhile is either seen here or refused there (billing.rules._hold_app).
        db.session.flush()
        users = billing_rules.live_profiles_using(app.id)
        if users:
            names = ", ".join(f'"{p.name}" ({p.id})' for p in users)
            raise Conflict(
                [
                    FieldError("id", "in_use", f'Billing profile "{p.name}" ({p.id}) uses this app.', p.id)
                    for p in users
                ],
                f"App {_describe(app)} cannot be uninstalled: "
                f"{'billing profile' if len(users) == 1 else 'billing profiles'} {names} "
                f"{'uses' if len(users) == 1 else 'use'} it. "
                "Delete those profiles first (the default one only after another profile is made the default).",
            )
        history.record("app", app.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})
    return app


def get(app_id: str) -> InstalledApp:
    """The app with this id, installed or uninstalled. Raises NotFound."""
    return get_by_id(InstalledApp, app_id, "app")


def list_apps(page: int = 1, page_size: int = 100) -> Page:
    """One page of installed (not uninstalled) apps, oldest first."""
    live = InstalledApp.deleted_at.is_(None)
    total = db.session.scalar(select(func.count()).select_from(InstalledApp).where(live))
    items = db.session.scalars(
        select(InstalledApp)
        .where(live)
        .order_by(InstalledApp.created_at, InstalledApp.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(list(items), total or 0, page, page_size)
