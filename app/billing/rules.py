"""The billing profile rules (SPEC §3), in one place for the console and the API.

Plain functions over the session. They take a `ProfileInput`, check every rule, write and commit, or
raise a problem from `app.problems`: `Invalid` (400, each bad field named; also for un-setting or
deleting the default, and for deleting a profile that customers are pinned to), `Conflict` (409, two
"make default" requests kept colliding), `StaleEdit` (409), `NotFound` (404) or `PreconditionFailed`
(412, the profile is deleted). Nothing here knows about requests, forms, templates or JSON.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import TypeVar

import isodate
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import history
from app.apps.models import InstalledApp
from app.billing import overrides
from app.billing.models import BillingProfile

# The text rules are the customers' ones (SPEC §3: "as for customers").
from app.common import ADDRESS_FIELDS, DESCRIPTION_MAX, NAME_MAX, Address, Page, check_address, check_metadata
from app.extensions import db, utcnow
from app.ids import is_id, new_id
from app.problems import Conflict, FieldError, Invalid, PreconditionFailed
from app.store import get_by_id, queue_behind, refuse_stale, unit_of_work
from app.text_rules import check_text

TAX_CODE_MAX = 32
DURATION_TEXT_MAX = 64
ALIGNMENTS = ("subscription", "anchored")
PERIOD_UNITS = ("DAY", "WEEK", "MONTH", "YEAR")  # or an ISO 8601 duration
COLLECTION_METHODS = ("charge_automatically", "send_invoice")
TAX_BEHAVIORS = ("inclusive", "exclusive")
APP_ROLES = ("tax", "invoicing", "payment")

# Upper bound for every duration: one year. Years and months vary in length; counting a year as
# 366 days and a month as a twelfth of that makes P1Y, P12M and P366D all exactly the limit.
_DAY = 86400.0
_YEAR = 366 * _DAY
_MONTH = 30.5 * _DAY
MAX_DURATION_SECONDS = _YEAR


@dataclass
class Supplier:
    name: str | None = None
    tax_code: str | None = None
    # OpenMeter's shape is a list; SPEC §3 allows exactly one address.
    addresses: list[Address] = field(default_factory=list)


@dataclass
class Workflow:
    """The billing workflow; every field has the default SPEC §3 gives it."""

    alignment: str = "subscription"
    period_interval: str | None = None  # anchored only: DAY | WEEK | MONTH | YEAR or an ISO 8601 duration
    period_anchor: str | None = None  # anchored only: an RFC 3339 date-time
    collection_interval: str = "PT1H"
    auto_advance: bool = True
    draft_period: str = "P0D"
    due_after: str = "P30D"
    progressive_billing: bool = True
    tax_behavior: str | None = None
    collection_method: str = "charge_automatically"
    tax_enabled: bool = True
    tax_enforced: bool = False


@dataclass
class AppIds:
    tax: str | None = None
    invoicing: str | None = None
    payment: str | None = None


@dataclass
class ProfileInput:
    """Everything a billing profile is made of, as typed: `create` and `replace` check it all."""

    name: str
    supplier: Supplier
    workflow: Workflow = field(default_factory=Workflow)
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    default: bool = False
    # Required by `create`. `replace` cannot change them; when given they must be the profile's own.
    apps: AppIds | None = None


# The supplier of the profile made on first start, and of profiles made for a new app when no
# default profile exists to copy one from.
DEFAULT_SUPPLIER = Supplier(name="Default supplier", addresses=[Address(country="US")])


# ---------------------------------------------------------------------------------------------
# Checking input


def duration_seconds(value: str) -> float | None:
    """The length of an ISO 8601 duration in seconds (years and months at their longest), or None
    when `value` is not one."""
    # isodate accepts a dangling time designator ("PT", "P1DT"); ISO 8601 does not.
    if len(value) > DURATION_TEXT_MAX or value.endswith("T"):
        return None
    try:
        parsed = isodate.parse_duration(value)
    except (ValueError, OverflowError, ArithmeticError):  # ISO8601Error is a ValueError
        return None
    if isinstance(parsed, isodate.Duration):
        return float(parsed.years) * _YEAR + float(parsed.months) * _MONTH + parsed.tdelta.total_seconds()
    return parsed.total_seconds()


def _check_duration(errors: list[FieldError], name: str, value: str | None, label: str, *, positive: bool) -> None:
    if not value:
        errors.append(FieldError(name, "required", f"{label} is required."))
        return
    seconds = duration_seconds(value)
    if seconds is None:
        errors.append(
            FieldError(
                name,
                "invalid_duration",
                f'{label} must be an ISO 8601 duration such as PT1H, P0D or P30D ("{value[:40]}" is not).',
            )
        )
    elif positive and seconds <= 0:
        errors.append(FieldError(name, "out_of_range", f"{label} must be longer than zero."))
    elif seconds < 0:
        errors.append(FieldError(name, "out_of_range", f"{label} cannot be negative."))
    elif seconds > MAX_DURATION_SECONDS:
        errors.append(FieldError(name, "out_of_range", f"{label} can be at most one year (P1Y)."))


def parse_anchor(value: str | None) -> datetime | None:
    """An RFC 3339 date-time with its offset, in UTC; None when `value` is not one, or when it lies
    outside the years 1 to 9999 once in UTC (9999-12-31T23:59:59-14:00 is in year 10000 there)."""
    if not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _check_supplier(errors: list[FieldError], supplier: Supplier) -> None:
    check_text(errors, "supplier.name", supplier.name, NAME_MAX, label="Supplier name", required=True)
    check_text(errors, "supplier.taxId.code", supplier.tax_code, TAX_CODE_MAX, label="Supplier tax id")
    if len(supplier.addresses) > 1:
        errors.append(FieldError("supplier.addresses", "too_many", "A supplier has one address, not several."))
    address = supplier.addresses[0] if supplier.addresses else Address()
    errors += check_address(address, "supplier.addresses[0]", "Supplier", country_required=True)


def _check_workflow(errors: list[FieldError], workflow: Workflow) -> None:
    if workflow.alignment not in ALIGNMENTS:
        errors.append(
            FieldError(
                "workflow.collection.alignment.type",
                "invalid",
                f"Collection alignment must be one of {', '.join(ALIGNMENTS)}.",
            )
        )
    elif workflow.alignment == "anchored":
        period = "workflow.collection.alignment.recurringPeriod"
        if workflow.period_interval not in PERIOD_UNITS:
            _check_duration(
                errors, f"{period}.interval", workflow.period_interval, "Recurring period interval", positive=True
            )
        if not workflow.period_anchor:
            errors.append(FieldError(f"{period}.anchor", "required", "An anchored alignment needs an anchor time."))
        elif parse_anchor(workflow.period_anchor) is None:
            errors.append(
                FieldError(
                    f"{period}.anchor",
                    "invalid",
                    "The anchor must be an RFC 3339 date-time with an offset, e.g. 2025-01-01T00:00:00Z, "
                    "in the years 0001 to 9999 in UTC.",
                )
            )
    _check_duration(
        errors, "workflow.collection.interval", workflow.collection_interval, "Collection interval", positive=True
    )
    _check_duration(errors, "workflow.invoicing.draftPeriod", workflow.draft_period, "Draft period", positive=False)
    _check_duration(errors, "workflow.invoicing.dueAfter", workflow.due_after, "Due after", positive=False)
    if workflow.tax_behavior is not None and workflow.tax_behavior not in TAX_BEHAVIORS:
        errors.append(
            FieldError(
                "workflow.invoicing.defaultTaxConfig.behavior",
                "invalid",
                f"Tax behavior must be one of {', '.join(TAX_BEHAVIORS)}.",
            )
        )
    if workflow.collection_method not in COLLECTION_METHODS:
        errors.append(
            FieldError(
                "workflow.payment.collectionMethod",
                "invalid",
                f"Collection method must be one of {', '.join(COLLECTION_METHODS)}.",
            )
        )
    if workflow.tax_enforced and not workflow.tax_enabled:
        errors.append(
            FieldError("workflow.tax.enforced", "requires_enabled", "Tax can only be enforced when it is enabled.")
        )


def _check(data: ProfileInput) -> list[FieldError]:
    errors: list[FieldError] = []
    check_text(errors, "name", data.name, NAME_MAX, label="Name", required=True)
    check_text(errors, "description", data.description, DESCRIPTION_MAX, label="Description", multiline=True)
    errors += check_metadata(data.metadata)
    _check_supplier(errors, data.supplier)
    _check_workflow(errors, data.workflow)
    return errors


def _live_app(app_id: str | None, lock: bool = False) -> InstalledApp | None:
    if not is_id(app_id):
        return None
    query = select(InstalledApp).where(InstalledApp.id == app_id, InstalledApp.deleted_at.is_(None))
    if lock:
        query = query.with_for_update(read=True)  # FOR SHARE on PostgreSQL; SQLite has no row locks
    return db.session.scalars(query).one_or_none()


def _not_installed(app_id: str) -> FieldError:
    return FieldError("apps", "not_installed", f'No installed app has the id "{app_id[:40]}".')


def _check_apps(apps: AppIds | None) -> list[FieldError]:
    """All three roles name one installed app (SPEC §3)."""
    if apps is None:
        return [FieldError("apps", "required", "Choose the installed app that taxes, invoices and collects payment.")]
    errors = [
        FieldError(f"apps.{role}", "required", f"apps.{role} is required: the id of an installed app.")
        for role in APP_ROLES
        if not getattr(apps, role)
    ]
    if errors:
        return errors
    for role in ("invoicing", "payment"):
        if getattr(apps, role) != apps.tax:
            errors.append(
                FieldError(
                    f"apps.{role}", "same_app", "The tax, invoicing and payment apps must be the same installed app."
                )
            )
    if not errors and _live_app(apps.tax) is None:
        errors.append(_not_installed(apps.tax))
    return errors


def _hold_app(app_id: str) -> None:
    """Check again, holding the app, that it is still installed; the caller's writes come first.

    `apps.rules.uninstall` marks the app uninstalled and only then looks for live profiles using it.
    Here the profile is written (flushed) first and the app read under FOR SHARE afterwards, so
    whichever of the two runs second sees the other: never a live profile on an uninstalled app.
    """
    db.session.flush()  # on SQLite the first write takes the database's write lock
    if _live_app(app_id, lock=True) is None:
        db.session.rollback()
        raise Invalid([_not_installed(app_id)])


def _normalised(data: ProfileInput) -> ProfileInput:
    """Trim what is safe to trim; upper-case country codes and ISO 8601 designators."""

    def trimmed(value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def code(value: str | None) -> str | None:
        return value.strip().upper() if value is not None else None

    addresses = []
    for address in data.supplier.addresses:
        address = Address(**{f.name: trimmed(getattr(address, f.name)) for f in fields(Address)})
        address.country = code(address.country)
        addresses.append(address)
    w = data.workflow
    workflow = Workflow(
        alignment=w.alignment,
        period_interval=code(w.period_interval),
        period_anchor=trimmed(w.period_anchor),
        collection_interval=code(w.collection_interval),
        auto_advance=w.auto_advance,
        draft_period=code(w.draft_period),
        due_after=code(w.due_after),
        progressive_billing=w.progressive_billing,
        tax_behavior=w.tax_behavior,
        collection_method=w.collection_method,
        tax_enabled=w.tax_enabled,
        tax_enforced=w.tax_enforced,
    )
    return ProfileInput(
        name=(data.name or "").strip(),
        supplier=Supplier(
            name=trimmed(data.supplier.name), tax_code=trimmed(data.supplier.tax_code), addresses=addresses
        ),
        workflow=workflow,
        description=trimmed(data.description),
        metadata=dict(data.metadata),
        default=bool(data.default),
        apps=data.apps,
    )


# ---------------------------------------------------------------------------------------------
# Writing


T = TypeVar("T")
_CHANGED_MEANWHILE = "This billing profile was changed by someone else meanwhile; reload it and try again."


def commit_with_one_default(attempt: Callable[[], T]) -> T:
    """Run `attempt` (which writes without committing) and commit, keeping exactly one default.

    Only the one-default index can refuse these writes (apps are never hard-deleted, so the foreign
    keys hold), and only when another transaction made a profile the default after ours read which
    one was. The writes that change the default queue for one another (`_queue_default_changes`,
    and SQLite's single writer), so that is a backstop: should it happen, `attempt` runs once more,
    against the new state, and demotes the newcomer. A second refusal is a 409, never a 500.

    Raises what `attempt` raises, StaleEdit, or Conflict.
    """
    for tries_left in (1, 0):
        try:
            with unit_of_work(stale=_CHANGED_MEANWHILE):  # an IntegrityError comes out as it is, rolled back
                result = attempt()
            return result
        except IntegrityError:
            if not tries_left:
                raise Conflict(
                    [FieldError("default", "conflict", "Another profile was made the default at the same moment.")],
                    "Another billing profile was made the default at the same moment; try again.",
                ) from None
    raise AssertionError("unreachable")


# Any number that no other advisory lock of this database uses.
_DEFAULT_LOCK_KEY = 0x62696C6C  # "bill"


def _queue_default_changes() -> None:
    """Make the writes that may change which profile is the default wait for one another.

    On PostgreSQL, transactions that each demote the old default and promote their own can deadlock
    on each other's row and index locks (three at once do, in the race tests); queued, every read
    after the lock sees what the one before committed. The one-default index remains the guarantee;
    this only keeps the racers orderly.
    """
    queue_behind(_DEFAULT_LOCK_KEY)


def _demote_default(now: datetime, except_id: str | None = None) -> None:
    """Un-set the current default, before the new one is written (the index allows one at a time)."""
    demoted = db.session.scalars(
        select(BillingProfile.id)
        .where(BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None))
        .where(BillingProfile.id != (except_id or ""))
    ).all()
    for profile_id in demoted:
        history.record("billing_profile", profile_id, "update", {"default": True}, {"default": False})
    db.session.execute(
        update(BillingProfile)
        .where(BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None))
        .where(BillingProfile.id != (except_id or ""))
        .values(is_default=False, updated_at=now, version=BillingProfile.version + 1)
        .execution_options(synchronize_session="fetch")
    )


def _apply(profile: BillingProfile, data: ProfileInput) -> None:
    profile.name = data.name
    profile.description = data.description
    profile.metadata_ = dict(data.metadata)
    profile.is_default = data.default
    supplier = data.supplier
    profile.supplier_name = supplier.name
    profile.supplier_tax_code = supplier.tax_code
    address = supplier.addresses[0] if supplier.addresses else Address()
    for attr in ADDRESS_FIELDS:
        setattr(profile, f"supplier_{attr}", getattr(address, attr))
    w = data.workflow
    anchored = w.alignment == "anchored"
    profile.collection_alignment = w.alignment
    profile.collection_period_interval = w.period_interval if anchored else None
    profile.collection_period_anchor = parse_anchor(w.period_anchor) if anchored else None
    profile.collection_interval = w.collection_interval
    profile.invoicing_auto_advance = w.auto_advance
    profile.invoicing_draft_period = w.draft_period
    profile.invoicing_due_after = w.due_after
    profile.invoicing_progressive_billing = w.progressive_billing
    profile.invoicing_tax_behavior = w.tax_behavior
    profile.payment_collection_method = w.collection_method
    profile.tax_enabled = w.tax_enabled
    profile.tax_enforced = w.tax_enforced


def snapshot(profile: BillingProfile) -> dict:
    """The profile's fields under the API's names, for the change history."""
    address = {
        f"supplier.addresses[0].{api}": getattr(profile, f"supplier_{attr}") for attr, api in ADDRESS_FIELDS.items()
    }
    anchor = profile.collection_period_anchor
    return {
        "name": profile.name,
        "description": profile.description,
        "metadata": dict(profile.metadata_ or {}),
        "default": profile.is_default,
        "supplier.name": profile.supplier_name,
        "supplier.taxId.code": profile.supplier_tax_code,
        **address,
        "workflow.collection.alignment.type": profile.collection_alignment,
        "workflow.collection.alignment.recurringPeriod.interval": profile.collection_period_interval,
        "workflow.collection.alignment.recurringPeriod.anchor": anchor.isoformat() if anchor else None,
        "workflow.collection.interval": profile.collection_interval,
        "workflow.invoicing.autoAdvance": profile.invoicing_auto_advance,
        "workflow.invoicing.draftPeriod": profile.invoicing_draft_period,
        "workflow.invoicing.dueAfter": profile.invoicing_due_after,
        "workflow.invoicing.progressiveBilling": profile.invoicing_progressive_billing,
        "workflow.invoicing.defaultTaxConfig.behavior": profile.invoicing_tax_behavior,
        "workflow.payment.collectionMethod": profile.payment_collection_method,
        "workflow.tax.enabled": profile.tax_enabled,
        "workflow.tax.enforced": profile.tax_enforced,
        "apps": profile.app_id,
    }


def _describe(profile: BillingProfile) -> str:
    return f'"{profile.name}" ({profile.id})'


# ---------------------------------------------------------------------------------------------
# The operations


def create(data: ProfileInput) -> BillingProfile:
    """Create a profile; made the default, it demotes the old default. Raises Invalid or Conflict."""
    data = _normalised(data)
    errors = _check(data) + _check_apps(data.apps)
    if errors:
        raise Invalid(errors)
    app_id = data.apps.tax

    def attempt() -> BillingProfile:
        now = utcnow()
        if data.default:
            _queue_default_changes()
            _demote_default(now)
        profile = BillingProfile(id=new_id(), created_at=now, updated_at=now, app_id=app_id)
        _apply(profile, data)
        db.session.add(profile)
        _hold_app(app_id)
        history.record("billing_profile", profile.id, "create", {}, snapshot(profile))
        return profile

    return commit_with_one_default(attempt)


def replace(profile_id: str, data: ProfileInput, expected_version: int | None = None) -> BillingProfile:
    """Replace every field of a profile but its apps (omitted optional fields are cleared).

    Raises NotFound, PreconditionFailed (deleted), StaleEdit, Invalid (also when un-setting the
    default or changing the apps) or Conflict.
    """
    data = _normalised(data)

    def attempt() -> BillingProfile:
        _queue_default_changes()  # before reading whether this profile is the default
        profile = get(profile_id)
        if profile.is_deleted:
            raise PreconditionFailed(f"Billing profile {_describe(profile)} is deleted and cannot be changed.")
        refuse_stale(
            f"Billing profile {_describe(profile)}", expected_version, profile.version, ("billing_profile", profile.id)
        )
        errors = _check(data)
        if data.apps is not None:
            for role in APP_ROLES:
                given = getattr(data.apps, role)
                if given is not None and given != profile.app_id:
                    errors.append(
                        FieldError(
                            f"apps.{role}",
                            "fixed",
                            "A profile's apps cannot change; create a new profile for another app.",
                        )
                    )
        if profile.is_default and not data.default:
            errors.append(
                FieldError(
                    "default",
                    "default_required",
                    "This is the default billing profile; to change that, make another profile the default.",
                )
            )
        if errors:
            raise Invalid(errors)
        now = utcnow()
        before = snapshot(profile)
        if data.default and not profile.is_default:
            _demote_default(now, except_id=profile.id)
        _apply(profile, data)
        profile.updated_at = now
        history.record("billing_profile", profile.id, "update", before, snapshot(profile))
        return profile

    return commit_with_one_default(attempt)


def make_default(profile_id: str) -> BillingProfile:
    """Make this profile the default, demoting the old one in the same transaction (a no-op when it
    already is). Raises NotFound, PreconditionFailed (deleted) or Conflict."""

    def attempt() -> BillingProfile:
        _queue_default_changes()  # before reading which profile is the default
        profile = get(profile_id)
        if profile.is_deleted:
            raise PreconditionFailed(f"Billing profile {_describe(profile)} is deleted and cannot be the default.")
        if not profile.is_default:
            now = utcnow()
            _demote_default(now, except_id=profile.id)
            profile.is_default = True
            profile.updated_at = now
        return profile

    return commit_with_one_default(attempt)


def pinned_counts() -> dict[str, int]:
    """How many live customers are pinned to each profile (profiles without any are left out)."""
    return overrides.pinned_counts()


def pinned_customer_names(profile_id: str) -> list[str]:
    """The names of the live customers pinned to this profile, which keep it from being deleted.

    `delete` calls it after marking the profile deleted (see billing.overrides._hold for why).
    """
    return overrides.pinned_customer_names(profile_id)


def delete(profile_id: str, expected_version: int | None = None) -> BillingProfile:
    """Soft-delete a profile. Raises NotFound, PreconditionFailed (already deleted), StaleEdit (also
    when not at `expected_version`), or Invalid for the default profile or one that live customers
    are pinned to."""
    profile = get(profile_id)
    if profile.is_deleted:
        raise PreconditionFailed(f"Billing profile {_describe(profile)} is already deleted.")
    refuse_stale(
        f"Billing profile {_describe(profile)}", expected_version, profile.version, ("billing_profile", profile.id)
    )
    if profile.is_default:
        raise Invalid(
            [
                FieldError(
                    "default",
                    "is_default",
                    f"Billing profile {_describe(profile)} is the default and cannot be deleted; "
                    "make another profile the default first.",
                )
            ]
        )
    now = utcnow()
    profile.deleted_at = now
    profile.updated_at = now
    with unit_of_work(stale=_CHANGED_MEANWHILE):
        # Write first, then look: a customer being pinned to it meanwhile is either counted here or
        # refused there (billing.overrides._hold).
        db.session.flush()
        pinned = pinned_customer_names(profile.id)
        if pinned:
            shown = ", ".join(f'"{name}"' for name in pinned[:10]) + (
                f" and {len(pinned) - 10} more" if len(pinned) > 10 else ""
            )
            raise Invalid(
                [
                    FieldError(
                        "id",
                        "pinned",
                        f"Billing profile {_describe(profile)} cannot be deleted: "
                        f"{'1 customer is' if len(pinned) == 1 else f'{len(pinned):,} customers are'} "
                        f"pinned to it ({shown}). Move them to another profile first.",
                    )
                ]
            )
        history.record("billing_profile", profile.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})
    return profile


def get(profile_id: str) -> BillingProfile:
    """The profile with this id, live or deleted. Raises NotFound."""
    return get_by_id(BillingProfile, profile_id, "billing profile")


def default_profile() -> BillingProfile | None:
    return db.session.scalars(
        select(BillingProfile).where(BillingProfile.is_default.is_(True), BillingProfile.deleted_at.is_(None))
    ).one_or_none()


# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
_LIVE_PROFILES = (
    select(BillingProfile)
    .where(BillingProfile.deleted_at.is_(None))
    .order_by(BillingProfile.sort_name, BillingProfile.id)
)


def live_profiles() -> list[BillingProfile]:
    """Every live profile by name, in one query: for the console's pickers and filters."""
    return list(db.session.scalars(_LIVE_PROFILES))


def live_profiles_using(app_id: str) -> list[BillingProfile]:
    """The live profiles that bill through this app (which keep it from being uninstalled)."""
    return list(
        db.session.scalars(
            select(BillingProfile)
            .where(BillingProfile.app_id == app_id, BillingProfile.deleted_at.is_(None))
            .order_by(BillingProfile.sort_name, BillingProfile.id)
        )
    )


def supplier_of(profile: BillingProfile) -> Supplier:
    address = Address(**{attr: getattr(profile, f"supplier_{attr}") for attr in ADDRESS_FIELDS})
    return Supplier(name=profile.supplier_name, tax_code=profile.supplier_tax_code, addresses=[address])


def takes_default(app_type: str, current: BillingProfile | None) -> bool:
    """Whether the profile made for a just-installed app of `app_type` becomes the default: when
    there is none (`current`), or when Stripe replaces a default that bills through a sandbox."""
    return current is None or (app_type == "stripe" and current.app.type == "sandbox")


def add_profile_for_app(app: InstalledApp, name: str | None = None) -> bool:
    """Add (without committing) a profile billing through a just-installed app, as OpenMeter does
    when installing with `createBillingProfile`. Returns whether it became the default.

    It copies the default profile's supplier and keeps the workflow defaults. It becomes the default
    when there is none, or when the app is Stripe and the default bills through a sandbox app.
    """
    _queue_default_changes()
    current = default_profile()
    make_default = takes_default(app.type, current)
    data = _normalised(
        ProfileInput(
            name=(name or f"{app.name} billing profile")[:NAME_MAX],
            supplier=supplier_of(current) if current else DEFAULT_SUPPLIER,
            default=make_default,
            apps=AppIds(app.id, app.id, app.id),
        )
    )
    now = utcnow()
    if make_default and current is not None:
        # Demote only when a default was seen: with none seen, a default made meanwhile by another
        # process (two workers' first start) must win, through the index, not be demoted.
        _demote_default(now)
    profile = BillingProfile(id=new_id(), created_at=now, updated_at=now, app_id=app.id)
    _apply(profile, data)
    db.session.add(profile)
    history.record("billing_profile", profile.id, "create", {}, snapshot(profile))
    return make_default


# ---------------------------------------------------------------------------------------------
# Listing


ORDERINGS = {
    "createdAt": BillingProfile.created_at,
    "updatedAt": BillingProfile.updated_at,
    "default": BillingProfile.is_default,
    "name": BillingProfile.sort_name,
}


def list_profiles(
    include_deleted: bool = False,
    page: int = 1,
    page_size: int = 100,
    order_by: str = "createdAt",
    descending: bool = False,
    with_apps: bool = False,
) -> Page:
    """One page of profiles. `order_by` must be a key of ORDERINGS (the callers check their input)."""
    where = [] if include_deleted else [BillingProfile.deleted_at.is_(None)]
    column = ORDERINGS[order_by]
    ordering = [column.desc(), BillingProfile.id.desc()] if descending else [column.asc(), BillingProfile.id.asc()]
    query = select(BillingProfile).where(*where).order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    if with_apps:
        query = query.options(selectinload(BillingProfile.app))
    total = db.session.scalar(select(func.count()).select_from(BillingProfile).where(*where))
    return Page(list(db.session.scalars(query)), total or 0, page, page_size)
