"""The customer rules (SPEC §1), in one place for the console and the API.

Plain functions over the session. They take a `CustomerInput`, check every rule, write and commit,
or raise a problem from `app.problems`: `Invalid` (400, each bad field named), `Conflict` (409,
naming the customer that holds a key or subject), `StaleEdit` (409), `NotFound` (404) or
`PreconditionFailed` (412, the customer is deleted). Nothing here knows about requests, forms,
templates or JSON.
"""

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, bindparam, exists, func, literal, select, text, tuple_
from ulid import ULID

from app import history
from app.customers import search
from app.customers.models import Customer, CustomerIdentifier
from app.extensions import db, utcnow
from app.plans.models import Plan, Subscription
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed, refuse_stale
from app.reference import countries, currencies
from app.store import unit_of_work
from app.text_rules import bad_characters, check_text

NAME_MAX = 256
KEY_MAX = 256
SUBJECT_MAX = 256
DESCRIPTION_MAX = 1024
EMAIL_MAX = 320
ADDRESS_PART_MAX = 256
PHONE_MAX = 64
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


@dataclass
class Address:
    country: str | None = None
    postal_code: str | None = None
    state: str | None = None
    city: str | None = None
    line1: str | None = None
    line2: str | None = None
    phone_number: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "") for f in fields(self))


# Where each address part is named in errors (the API's field names, used by both faces).
ADDRESS_FIELDS = {
    "country": "country",
    "postal_code": "postalCode",
    "state": "state",
    "city": "city",
    "line1": "line1",
    "line2": "line2",
    "phone_number": "phoneNumber",
}


@dataclass
class CustomerInput:
    """Everything a customer is made of, as typed: `create` and `replace` check it all."""

    name: str
    key: str | None = None
    description: str | None = None
    primary_email: str | None = None
    currency: str | None = None
    billing_address: Address | None = None
    subject_keys: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Checking input


def _blank_to_none(value: str | None) -> str | None:
    return None if value is None or value.strip() == "" else value


def _normalised(data: CustomerInput) -> CustomerInput:
    """Trim what is safe to trim. Keys and subject keys are compared exactly, so they are kept as given."""
    address = data.billing_address
    if address is not None:
        address = Address(**{f.name: (getattr(address, f.name) or "").strip() or None for f in fields(Address)})
        if address.country:
            address.country = address.country.upper()
        if address.is_empty():
            address = None
    currency = _blank_to_none(data.currency)
    email = _blank_to_none(data.primary_email)
    description = _blank_to_none(data.description)
    return CustomerInput(
        name=(data.name or "").strip(),
        key=data.key,
        description=description.strip() if description else None,
        primary_email=email.strip() if email else None,
        currency=currency.strip().upper() if currency else None,
        billing_address=address,
        subject_keys=list(data.subject_keys),
        metadata=dict(data.metadata),
    )


def check_key(key: str | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if key is None:
        return errors
    if key == "":
        errors.append(FieldError("key", "empty", "Key cannot be empty: leave it out for no key."))
        return errors
    check_text(errors, "key", key, KEY_MAX, label="Key")
    if not errors and key != key.strip():
        errors.append(FieldError("key", "whitespace", "Key cannot begin or end with spaces."))
    return errors


def check_subject_keys(subject_keys: list[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, subject in enumerate(subject_keys):
        name = f"usageAttribution.subjectKeys[{i}]"
        before = len(errors)
        check_text(errors, name, subject, SUBJECT_MAX, label="Subject key", required=True)
        if len(errors) == before and subject != subject.strip():
            errors.append(FieldError(name, "whitespace", "Subject key cannot begin or end with spaces."))
        if subject in seen:
            errors.append(FieldError(name, "duplicate", f'Subject key "{subject}" is listed twice.'))
        seen.add(subject)
    return errors


def check_metadata(metadata: dict[str, str], prefix: str = "metadata") -> list[FieldError]:
    """The metadata limits (SPEC §1); also used for app metadata, hence the prefix."""
    errors: list[FieldError] = []
    if len(metadata) > METADATA_MAX_KEYS:
        errors.append(
            FieldError(
                prefix, "too_many", f"Metadata can have at most {METADATA_MAX_KEYS} keys ({len(metadata)} given)."
            )
        )
    for key, value in metadata.items():
        name = f"{prefix}.{key}"
        if key == "" or key.strip() != key:
            errors.append(FieldError(name, "invalid_key", "Metadata keys cannot be empty or begin or end with spaces."))
            continue
        check_text(errors, name, key, METADATA_KEY_MAX, label=f'Metadata key "{key[:40]}"')
        check_text(errors, name, value, METADATA_VALUE_MAX, label=f'Metadata value for "{key[:40]}"', multiline=True)
    return errors


def _check(data: CustomerInput) -> list[FieldError]:
    errors: list[FieldError] = []
    check_text(errors, "name", data.name, NAME_MAX, label="Name", required=True)
    errors += check_key(data.key)
    check_text(errors, "description", data.description, DESCRIPTION_MAX, label="Description", multiline=True)

    if data.primary_email is not None:
        before = len(errors)
        check_text(errors, "primaryEmail", data.primary_email, EMAIL_MAX, label="Primary email")
        if len(errors) == before:
            try:
                validate_email(data.primary_email, check_deliverability=False)
            except EmailNotValidError as e:
                errors.append(FieldError("primaryEmail", "invalid_email", f"Primary email is not valid: {e}"))

    if data.currency is not None and data.currency not in currencies():
        errors.append(
            FieldError("currency", "unknown_currency", f'"{data.currency[:20]}" is not an ISO 4217 currency code.')
        )

    if data.billing_address is not None:
        address = data.billing_address
        for attr, api_name in ADDRESS_FIELDS.items():
            limit = PHONE_MAX if attr == "phone_number" else ADDRESS_PART_MAX
            label = "Billing address " + api_name
            check_text(errors, f"billingAddress.{api_name}", getattr(address, attr), limit, label=label)
        if address.country and address.country not in countries():
            errors.append(
                FieldError(
                    "billingAddress.country",
                    "unknown_country",
                    f'"{address.country[:20]}" is not an ISO 3166-1 alpha-2 country code.',
                )
            )

    errors += check_subject_keys(data.subject_keys)
    errors += check_metadata(data.metadata)

    if data.key is None and not data.subject_keys:
        errors.append(FieldError("key", "key_or_subject_required", "Give the customer a key, a subject key, or both."))
    return errors


# ---------------------------------------------------------------------------------------------
# Conflicts with other customers


def _describe(customer: Customer) -> str:
    return f'"{customer.name}" ({customer.id})'


def find_conflicts(key: str | None, subject_keys: list[str], customer_id: str | None = None) -> list[FieldError]:
    """Which of these values another live customer already holds, or that collide with an id.

    Used before writing, for messages that name the holder, and after the database refused a
    write, to say why. The database's unique index is what decides; this only explains.
    """
    errors: list[FieldError] = []
    # Values with control characters are refused by check_text; none is held, and PostgreSQL refuses NUL.
    wanted = {v for v in [key, *subject_keys] if v and not bad_characters(v)}
    if not wanted:
        return errors
    if customer_id is not None and bad_characters(customer_id):
        customer_id = None  # names no customer
    rows = db.session.execute(
        select(CustomerIdentifier, Customer)
        .join(Customer, Customer.id == CustomerIdentifier.customer_id)
        .where(CustomerIdentifier.value.in_(wanted), CustomerIdentifier.deleted_at.is_(None))
        .where(CustomerIdentifier.customer_id != (customer_id or ""))
    ).all()
    holders = {ident.value: (ident, holder) for ident, holder in rows}

    if key and key in holders:
        ident, holder = holders[key]
        role = "the key" if ident.is_key else "a subject key"
        errors.append(
            FieldError("key", "conflict", f'Key "{key}" is already {role} of customer {_describe(holder)}.', holder.id)
        )
    if key in wanted:
        same_as_id = db.session.get(Customer, key) if len(key) == 26 else None
        if same_as_id is not None:
            errors.append(
                FieldError(
                    "key",
                    "conflict",
                    f'Key "{key}" is the id of customer {_describe(same_as_id)}; a key cannot equal a customer id.',
                    same_as_id.id,
                )
            )
    for i, subject in enumerate(subject_keys):
        if subject in holders:
            ident, holder = holders[subject]
            role = "a subject key" if ident.is_subject else "the key"
            errors.append(
                FieldError(
                    f"usageAttribution.subjectKeys[{i}]",
                    "conflict",
                    f'Subject key "{subject}" is already {role} of customer {_describe(holder)}.',
                    holder.id,
                )
            )
    return errors


def _saving(key: str | None, subject_keys: list[str], customer_id: str):
    """The unit of work of a create or replace: when a unique index refuses the write, the Conflict
    says which customer won the race."""
    taken = [FieldError("key", "conflict", "Another customer took one of these values meanwhile.")]
    return unit_of_work(
        stale="This customer was changed by someone else meanwhile; reload it and edit again.",
        conflict=lambda: Conflict(find_conflicts(key, subject_keys, customer_id) or taken),
    )


def _claim_identifiers(customer: Customer, key: str | None, subject_keys: list[str]) -> None:
    """Make `customer.identifiers` exactly {key} ∪ subject_keys, reusing rows for kept values.

    Reusing a row (rather than deleting and re-inserting the same value) matters: within one flush,
    an insert could reach the unique index before the delete of its twin.
    """
    existing = {ident.value: ident for ident in customer.identifiers}
    wanted = ([key] if key is not None else []) + [s for s in subject_keys if s != key]
    kept = []
    for position, value in enumerate(wanted):
        ident = existing.pop(value, None) or CustomerIdentifier(value=value)
        ident.is_key = value == key
        ident.is_subject = value in subject_keys
        ident.position = subject_keys.index(value) if ident.is_subject else -1
        ident.deleted_at = None
        kept.append(ident)
    customer.identifiers = sorted(kept, key=lambda i: i.position)
    customer.subjects_text = "\n".join(subject_keys)


def _apply(customer: Customer, data: CustomerInput) -> None:
    # Identifiers first: loading them flushes pending changes, which would bump the version twice.
    _claim_identifiers(customer, data.key, data.subject_keys)
    customer.name = data.name
    customer.key = data.key
    customer.description = data.description
    customer.primary_email = data.primary_email
    customer.currency = data.currency
    address = data.billing_address or Address()
    for attr in ADDRESS_FIELDS:
        setattr(customer, f"address_{attr}", getattr(address, attr))
    customer.metadata_ = dict(data.metadata)


def snapshot(customer: Customer) -> dict:
    """The customer's fields under the API's names, for the change history."""
    return {
        "name": customer.name,
        "key": customer.key,
        "description": customer.description,
        "primaryEmail": customer.primary_email,
        "currency": customer.currency,
        **{f"billingAddress.{api}": getattr(customer, f"address_{attr}") for attr, api in ADDRESS_FIELDS.items()},
        "usageAttribution.subjectKeys": list(customer.subject_keys),
        "metadata": dict(customer.metadata_ or {}),
    }


def _refuse_bad_input(data: CustomerInput, customer_id: str | None, locked: list[FieldError] | None = None) -> None:
    """Raise Invalid when a field breaks a rule, with any conflicts too so that every problem shows
    at once; raise Conflict when the input is valid but another customer holds a value, or it
    changes what an active subscription holds fixed (`locked`)."""
    errors = _check(data)
    conflicts = find_conflicts(data.key, data.subject_keys, customer_id) + (locked or [])
    if errors:
        raise Invalid(errors + conflicts)
    if conflicts:
        raise Conflict(conflicts)


# ---------------------------------------------------------------------------------------------
# The operations


def create(data: CustomerInput) -> Customer:
    """Create a customer. Raises Invalid or Conflict."""
    data = _normalised(data)
    _refuse_bad_input(data, None)

    now = utcnow()
    customer = Customer(id=str(ULID()), created_at=now, updated_at=now)
    _apply(customer, data)
    with _saving(data.key, data.subject_keys, customer.id):
        db.session.add(customer)
        history.record("customer", customer.id, "create", {}, snapshot(customer))
    return customer


def replace(id_or_key: str, data: CustomerInput, expected_version: int | None = None) -> Customer:
    """Replace every field of a customer (omitted optional fields are cleared).

    `expected_version` is the version the editor loaded; a different current version means someone
    saved in between. Raises NotFound, PreconditionFailed (deleted), StaleEdit, Invalid or Conflict.
    """
    customer = get(id_or_key)
    if customer.is_deleted:
        raise PreconditionFailed(f"Customer {_describe(customer)} is deleted and cannot be changed.")
    refuse_stale(f"Customer {_describe(customer)}", expected_version, customer.version, ("customer", customer.id))
    data = _normalised(data)
    _refuse_bad_input(data, customer.id, _currency_lock(customer, data.currency))

    before = snapshot(customer)
    _apply(customer, data)
    with _saving(data.key, data.subject_keys, customer.id):
        customer.updated_at = utcnow()
        history.record("customer", customer.id, "update", before, snapshot(customer))
    return customer


def _active_subscription(customer_id: str) -> Subscription | None:
    # Deferred import: plans build on customers (app.plans.rules imports this module).
    from app.plans.rules import active_subscription

    return active_subscription(customer_id)


def _currency_lock(customer: Customer, currency: str | None) -> list[FieldError]:
    """SPEC §5: while a subscription is active, the customer's currency cannot change.

    Subscribing writes the customer row too, so a subscription started after this check makes the
    edit fail on its version instead of slipping past the lock.
    """
    if currency == customer.currency:
        return []
    subscription = _active_subscription(customer.id)
    if subscription is None:
        return []
    message = (
        f"The currency cannot change while customer {_describe(customer)} has an active subscription, to plan "
        f'"{subscription.plan.name}" in {subscription.currency} ({subscription.id}); cancel it first.'
    )
    return [FieldError("currency", "locked_by_subscription", message)]


def delete(id_or_key: str, expected_version: int | None = None) -> Customer:
    """Soft-delete: the customer stays readable by id, its key and subject keys are free at once.

    Raises NotFound, PreconditionFailed when it is already deleted, StaleEdit (not at
    `expected_version`), or Conflict while it has an active subscription (SPEC §5).
    """
    customer = get(id_or_key)
    if customer.is_deleted:
        raise PreconditionFailed(f"Customer {_describe(customer)} is already deleted.")
    refuse_stale(f"Customer {_describe(customer)}", expected_version, customer.version, ("customer", customer.id))
    subscription = _active_subscription(customer.id)
    if subscription is not None:
        message = (
            f'Customer {_describe(customer)} has an active subscription, to plan "{subscription.plan.name}" '
            f"({subscription.id}); cancel the subscription before deleting the customer."
        )
        raise Conflict([FieldError("currentSubscriptionId", "active_subscription", message)])
    from app.apps import customer_data  # its app data and pin go with it (SPEC §2), in this transaction

    now = utcnow()
    # No flush before the commit: the version check must fail there, not inside a lookup below.
    stale = "This customer was changed by someone else meanwhile; reload it and try again."
    with unit_of_work(stale=stale), db.session.no_autoflush:
        for ident in customer.identifiers:
            ident.deleted_at = now
        customer.deleted_at = now
        customer.updated_at = now
        customer_data.remove_for_customer(customer.id)
        history.record("customer", customer.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})
    return customer


# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
_BY_ID = select(Customer).where(Customer.id == bindparam("id"))
_LIVE_BY_KEY = select(Customer).where(Customer.key == bindparam("key"), Customer.deleted_at.is_(None))
_BY_IDS = select(Customer).where(Customer.id.in_(bindparam("ids", expanding=True)))
_KEPT_COUNTS = text("SELECT live, deleted FROM customer_counts")


def get(id_or_key: str) -> Customer:
    """The customer with this id (live or deleted) or this key (live only). Raises NotFound."""
    customer = None
    if id_or_key and not bad_characters(id_or_key):
        if len(id_or_key) == 26:
            customer = db.session.scalars(_BY_ID, {"id": id_or_key}).one_or_none()
        if customer is None:
            customer = find_by_key(id_or_key)
    if customer is None:
        raise NotFound(f'No customer has the id or key "{id_or_key[:256]}".')
    return customer


def find_by_key(key: str) -> Customer | None:
    """The live customer whose key is exactly `key` (case-sensitive), or None."""
    if not key or bad_characters(key):
        return None
    return db.session.scalars(_LIVE_BY_KEY, {"key": key}).one_or_none()


# ---------------------------------------------------------------------------------------------
# Listing


ORDERINGS = {
    "name": Customer.sort_name,  # as people sort names (text_rules.sort_key)
    "key": Customer.key,
    "id": Customer.id,
    "createdAt": Customer.created_at,
}
# Orderings on a column that is never NULL page by keyset (a cursor naming the row to continue
# after), which costs the same on page 10,000 as on page 1; the key, often NULL, pages by offset.
KEYSET_ORDERINGS = ("name", "id", "createdAt")
MAX_PAGE_SIZE = 1000
# A filtered list counts its matches up to this many, then says "more than"; the unfiltered list
# reads the exact totals that triggers keep in customer_counts (migration 0005).
COUNT_LIMIT = 10_000
# A text search stops sooner: each match counted is a trip through the trigram index (on PostgreSQL
# a heap row too), and past a thousand matches the operator's next step is a narrower search.
SEARCH_COUNT_LIMIT = 1_000
# A text search the database's planner expects to match this many times the limit is not counted.
SURELY_MORE = 10


@dataclass
class CustomerFilters:
    key: str | None = None  # exact, case-sensitive
    name: str | None = None  # the rest: case-insensitive substrings
    primary_email: str | None = None
    subject: str | None = None
    search: str | None = None  # name, key, email or any subject key
    currency: str | None = None
    has_subjects: bool | None = None
    plan_key: str | None = None  # exact: customers whose active subscription is to the live plan with this key
    include_deleted: bool = False
    billing_profile_id: str | None = None  # billed by it: pinned, or unpinned while it is the default

    def narrows(self) -> bool:
        """Whether any filter but include_deleted is set (then the kept totals do not apply)."""
        return any(v not in (None, "") for k, v in vars(self).items() if k != "include_deleted")


@dataclass
class Page:
    items: list  # Customers, or what list_customers' `load` made of them
    total: int
    page: int
    page_size: int
    # True when `total` is the count limit (COUNT_LIMIT, SEARCH_COUNT_LIMIT) and there are more.
    total_is_lower_bound: bool = False
    # Page number → cursor to reach it by keyset (None for page 1), for the pages near this one.
    cursors: dict[int, str | None] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _has_subjects() -> ColumnElement:
    return exists().where(CustomerIdentifier.customer_id == Customer.id, CustomerIdentifier.is_subject)


def _conditions(filters: CustomerFilters) -> list[ColumnElement]:
    where: list[ColumnElement] = []
    if not filters.include_deleted:
        where.append(Customer.deleted_at.is_(None))
    if filters.key is not None:
        where.append(Customer.key == filters.key)
    if filters.name:
        where.append(search.contains(filters.name, ["name"]))
    if filters.primary_email:
        where.append(search.contains(filters.primary_email, ["primary_email"]))
    if filters.subject:
        where.append(search.contains(filters.subject, ["subjects"]))
    if filters.search:
        where.append(search.contains(filters.search, ["name", "key", "primary_email", "subjects"]))
    if filters.currency:
        where.append(Customer.currency == filters.currency)
    if filters.has_subjects is not None:
        where.append(_has_subjects() if filters.has_subjects else ~_has_subjects())
    if filters.billing_profile_id:
        from app.billing.overrides import billed_by  # which builds on these rules

        where.append(billed_by(filters.billing_profile_id))
    if filters.plan_key is not None:
        where.append(
            exists().where(
                Subscription.customer_id == Customer.id,
                Subscription.active_to.is_(None),
                Subscription.plan_id == Plan.id,
                Plan.key == filters.plan_key,
                Plan.deleted_at.is_(None),
            )
        )
    return where


def _listing(filters: CustomerFilters, order_by: str) -> search.Listing:
    """Where the list's rows come from: the customers table, or on SQLite the search index when the
    list is a text search (then the customers table is read only for the page that is shown)."""
    indexed = search.indexed_listing(filters, order_by, _conditions(_without_text(filters)))
    if indexed is not None:
        return indexed
    # An unfiltered list's conditions hold no values: its shape names it, and its walks are built once.
    shape = None if filters.narrows() else (order_by, filters.include_deleted)
    return search.Listing(Customer.id, ORDERINGS[order_by], Customer, _conditions(filters), shape=shape)


def _without_text(filters: CustomerFilters) -> CustomerFilters:
    """The filters that the main search index does not answer itself: all but its text filters
    and liveness (the subject filter has an index of its own)."""
    return dataclasses.replace(filters, name=None, primary_email=None, search=None, include_deleted=True)


def _count(filters: CustomerFilters, listing: search.Listing) -> tuple[int, bool]:
    """(total, whether it is only a lower bound)."""
    if not filters.narrows():
        live, deleted = db.session.execute(_KEPT_COUNTS).one()
        return (live + deleted if filters.include_deleted else live), False
    source = listing.count_source if listing.count_source is not None else listing.source
    matches = select(literal(1)).select_from(source).where(*listing.where)
    text_search = any(getattr(filters, name) for name in search.TEXT_FILTERS)
    limit = SEARCH_COUNT_LIMIT if text_search else COUNT_LIMIT
    if text_search and search.expects_at_least(matches, SURELY_MORE * limit):
        return limit, True  # PostgreSQL: see search.expects_at_least
    found = db.session.scalar(select(func.count()).select_from(matches.limit(limit + 1).subquery())) or 0
    return min(found, limit), found > limit


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: `offset` rows after the row at `position` (before it, when negative).

    `position` is that row's (sort value, id) in the list's order, or None for the end of the list.
    A page's links all count from its own first row, so making them reads nothing."""

    position: tuple | None
    offset: int = 1


def encode_cursor(value, customer_id: str | None, offset: int = 1) -> str:
    """An opaque cursor for "the page starting `offset` rows after (value, customer_id)"."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, customer_id, offset] if offset != 1 else [value, customer_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, order_by: str) -> Cursor | None:
    """The Cursor a cursor string names, or None for a missing or mangled one."""
    if not cursor or order_by not in KEYSET_ORDERINGS:
        return None
    try:
        value, customer_id, *rest = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = rest[0] if rest else 1
        if type(offset) is not int or offset == 0 or abs(offset) > 2 * MAX_PAGE_SIZE or len(rest) > 1:
            return None
        if value is None and customer_id is None and offset < 0:
            return Cursor(None, offset)  # counted back from the end
        if order_by == "createdAt":
            value = datetime.fromisoformat(value).astimezone(UTC)  # OverflowError past year 9999 in UTC
        if not isinstance(customer_id, str) or not isinstance(value, (str, datetime)):
            return None
        if bad_characters(str(value)) or bad_characters(customer_id):  # PostgreSQL refuses NUL
            return None
        return Cursor((value, customer_id), offset)
    # Anyone can write a cursor: bad base64, bad JSON, JSON nested too deep, absurd dates.
    except (ValueError, TypeError, binascii.Error, RecursionError, OverflowError):
        return None


def _beyond(listing: search.Listing, position: tuple, descending: bool) -> ColumnElement:
    """Rows after `position` in the list's order (the order is always the sort column, then id).
    Its values are the parameters `after_value` and `after_id`: a walk built once takes others."""
    ours = tuple_(listing.sort_column, listing.id_column)
    theirs = tuple_(
        bindparam("after_value", position[0], type_=listing.sort_column.type), bindparam("after_id", position[1])
    )
    return ours < theirs if descending else ours > theirs


# The walks of unfiltered lists, by their listing's shape, direction and start: built once, like
# the statements above (each takes its limit, offset and position as parameters).
_BUILT_WALKS: dict[tuple, Select] = {}


def _walk(listing: search.Listing, descending: bool, limit: int, position: tuple | None = None, skip: int = 0) -> list:
    """(id, sort value) of up to `limit` rows in this order, after `position` (or from the start)
    and after skipping `skip` rows."""
    built = (listing.shape, descending, position is not None)
    query = _BUILT_WALKS.get(built) if listing.shape else None
    if query is None:
        order = [listing.sort_column, listing.id_column]
        where = [*listing.where]
        if position is not None:
            where.append(_beyond(listing, position, descending))
        if listing.window is not None:
            where = listing.window(where, descending, skip + limit, position)
        query = (
            select(listing.id_column, listing.sort_column)
            .select_from(listing.source)
            .where(*where)
            .order_by(*(c.desc() if descending else c.asc() for c in order))
            .limit(bindparam("limit"))
            .offset(bindparam("skip"))
        )
        if listing.shape:
            _BUILT_WALKS[built] = query
    parameters = {"limit": limit, "skip": skip}
    if position is not None:
        parameters |= {"after_value": position[0], "after_id": position[1]}
    return db.session.execute(query, parameters).all()


def _walk_to(listing: search.Listing, descending: bool, size: int, cursor: Cursor) -> list | None:
    """The rows of the page that `cursor` starts; None when fewer rows than it counts back over
    lie before its position now (customers were deleted since the link was made)."""
    if cursor.offset > 0:
        return _walk(listing, descending, size, cursor.position, cursor.offset - 1)
    back = _walk(listing, not descending, -cursor.offset, cursor.position)
    if len(back) < -cursor.offset:
        return None
    return back[::-1][:size]


def _nearby_cursors(anchor: tuple, page: Page) -> dict:
    """Cursors for the two pages either side of this one and for the last, all counted from this
    page's first row, at `anchor` (its sort value and id), or, for the last page, back from the end."""
    more = page.total_is_lower_bound and len(page.items) == page.page_size
    cursors: dict[int, str | None] = {1: None}
    for step in (-2, -1, 1, 2):
        target = page.page + step
        if 1 < target and (target <= page.pages or more):
            cursors[target] = encode_cursor(*anchor, step * page.page_size)
    if not page.total_is_lower_bound and page.pages > page.page + 2:
        on_last = page.total - (page.pages - 1) * page.page_size
        cursors[page.pages] = encode_cursor(None, None, -on_last)
    return cursors


def list_customers(
    filters: CustomerFilters,
    page: int = 1,
    page_size: int = 100,
    order_by: str = "name",
    descending: bool = False,
    after: str | None = None,
    load: Callable[[list[str]], dict] | None = None,
) -> Page:
    """One page of customers, in `order_by` (a key of ORDERINGS; the callers check their input).
    `load` reads the page's customers from their ids (id → item, in one query): the console's list
    reads plain rows of what it shows; by default, the items are Customers.

    `after`, a cursor from a previous Page's `cursors`, reaches `page` by keyset instead of by
    offset; a missing or mangled cursor falls back to the offset, so any page number works.
    """
    if any(bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return Page([], 0, page, page_size)  # such a value matches nothing, and PostgreSQL refuses NUL
    if filters.key is not None and not filters.include_deleted and page == 1:
        # A key names at most one live customer: it is the whole first page, with nothing to walk or count.
        items = list(db.session.scalars(select(Customer).where(*_conditions(filters))))
        if items and load is not None:
            items = list(load([items[0].id]).values())
        return Page(items, len(items), page, page_size)
    listing = _listing(filters, order_by)
    keyset = order_by in KEYSET_ORDERINGS
    # One walk over the matches finds the page's ids (by keyset from a cursor's row, or by offset
    # when there is none); the customers themselves are then loaded by id.
    cursor = _decode_cursor(after, order_by) if page > 1 else None
    walked = _walk_to(listing, descending, page_size, cursor) if cursor else None
    if walked is None:
        walked = _walk(listing, descending, page_size, skip=(page - 1) * page_size)
    ids = [customer_id for customer_id, _ in walked]
    if not ids:
        loaded = {}
    elif load is not None:
        loaded = load(ids)
    else:
        loaded = {c.id: c for c in db.session.scalars(_BY_IDS, {"ids": ids})}
    items = [loaded[customer_id] for customer_id in ids]
    if page == 1 and len(items) < page_size:
        total, lower_bound = len(items), False  # everything is on this page: nothing more to count
    else:
        total, lower_bound = _count(filters, listing)
    result = Page(items, total, page, page_size, lower_bound)
    if items and keyset:
        first_id, first_value = walked[0]
        result.cursors = _nearby_cursors((first_value, first_id), result)
    return result
