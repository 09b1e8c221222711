"""The customer rules (SPEC §1), in one place for the console and the API.

Plain functions over the session. They take a `CustomerInput`, check every rule, write and commit,
or raise a problem from `app.problems`: `Invalid` (400, each bad field named), `Conflict` (409,
naming the customer that holds a key or subject), `StaleEdit` (409), `NotFound` (404) or
`PreconditionFailed` (412, the customer is deleted). Nothing here knows about requests, forms,
templates or JSON.
"""

import unicodedata
from dataclasses import dataclass, field, fields

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from ulid import ULID

from app import history
from app.customers.models import Customer, CustomerIdentifier
from app.extensions import db, utcnow
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed, StaleEdit
from app.reference import countries, currencies

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


def _bad_characters(value: str, multiline: bool = False) -> bool:
    """Control characters and lone surrogates: invisible, and PostgreSQL refuses NUL outright."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value)


def _check_text(
    errors: list[FieldError],
    name: str,
    value: str | None,
    max_len: int,
    *,
    label: str,
    required: bool = False,
    multiline: bool = False,
) -> None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(name, "required", f"{label} is required."))
        return
    if _bad_characters(value, multiline):
        errors.append(FieldError(name, "invalid_characters", f"{label} contains control characters."))
    elif len(value) > max_len:
        errors.append(
            FieldError(name, "too_long", f"{label} must be at most {max_len} characters (it has {len(value)}).")
        )


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
    _check_text(errors, "key", key, KEY_MAX, label="Key")
    if not errors and key != key.strip():
        errors.append(FieldError("key", "whitespace", "Key cannot begin or end with spaces."))
    return errors


def check_subject_keys(subject_keys: list[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, subject in enumerate(subject_keys):
        name = f"usageAttribution.subjectKeys[{i}]"
        before = len(errors)
        _check_text(errors, name, subject, SUBJECT_MAX, label="Subject key", required=True)
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
        _check_text(errors, name, key, METADATA_KEY_MAX, label=f'Metadata key "{key[:40]}"')
        _check_text(errors, name, value, METADATA_VALUE_MAX, label=f'Metadata value for "{key[:40]}"', multiline=True)
    return errors


def _check(data: CustomerInput) -> list[FieldError]:
    errors: list[FieldError] = []
    _check_text(errors, "name", data.name, NAME_MAX, label="Name", required=True)
    errors += check_key(data.key)
    _check_text(errors, "description", data.description, DESCRIPTION_MAX, label="Description", multiline=True)

    if data.primary_email is not None:
        before = len(errors)
        _check_text(errors, "primaryEmail", data.primary_email, EMAIL_MAX, label="Primary email")
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
            _check_text(errors, f"billingAddress.{api_name}", getattr(address, attr), limit, label=label)
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
    wanted = {v for v in [key, *subject_keys] if v and not _bad_characters(v)}
    if not wanted:
        return errors
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
    if key:
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


def _commit_or_conflict(key: str | None, subject_keys: list[str], customer_id: str) -> None:
    """Commit; when a unique index refuses the write, explain which customer won the race."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        errors = find_conflicts(key, subject_keys, customer_id)
        raise Conflict(
            errors or [FieldError("key", "conflict", "Another customer took one of these values meanwhile.")]
        ) from None
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit("This customer was changed by someone else meanwhile; reload it and edit again.") from None


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


def _apply(customer: Customer, data: CustomerInput) -> None:
    customer.name = data.name
    customer.key = data.key
    customer.description = data.description
    customer.primary_email = data.primary_email
    customer.currency = data.currency
    address = data.billing_address or Address()
    for attr in ADDRESS_FIELDS:
        setattr(customer, f"address_{attr}", getattr(address, attr))
    customer.metadata_ = dict(data.metadata)
    _claim_identifiers(customer, data.key, data.subject_keys)


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


def _refuse_bad_input(data: CustomerInput, customer_id: str | None) -> None:
    """Raise Invalid when a field breaks a rule, with any conflicts too so that every problem shows
    at once; raise Conflict when the input is valid but another customer holds a value."""
    errors = _check(data)
    conflicts = find_conflicts(data.key, data.subject_keys, customer_id)
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
    db.session.add(customer)
    history.record("customer", customer.id, "create", {}, snapshot(customer))
    _commit_or_conflict(data.key, data.subject_keys, customer.id)
    return customer


def replace(id_or_key: str, data: CustomerInput, expected_version: int | None = None) -> Customer:
    """Replace every field of a customer (omitted optional fields are cleared).

    `expected_version` is the version the editor loaded; a different current version means someone
    saved in between. Raises NotFound, PreconditionFailed (deleted), StaleEdit, Invalid or Conflict.
    """
    customer = get(id_or_key)
    if customer.is_deleted:
        raise PreconditionFailed(f"Customer {_describe(customer)} is deleted and cannot be changed.")
    if expected_version is not None and expected_version != customer.version:
        raise StaleEdit(
            f"Customer {_describe(customer)} was changed by someone else since you opened it; "
            "its current values are shown below."
        )
    data = _normalised(data)
    _refuse_bad_input(data, customer.id)

    before = snapshot(customer)
    _apply(customer, data)
    customer.updated_at = utcnow()
    history.record("customer", customer.id, "update", before, snapshot(customer))
    _commit_or_conflict(data.key, data.subject_keys, customer.id)
    return customer


def delete(id_or_key: str) -> Customer:
    """Soft-delete: the customer stays readable by id, its key and subject keys are free at once.

    Raises NotFound, or PreconditionFailed when it is already deleted.
    """
    customer = get(id_or_key)
    if customer.is_deleted:
        raise PreconditionFailed(f"Customer {_describe(customer)} is already deleted.")
    now = utcnow()
    customer.deleted_at = now
    customer.updated_at = now
    for ident in customer.identifiers:
        ident.deleted_at = now
    history.record("customer", customer.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit("This customer was changed by someone else meanwhile; reload it and try again.") from None
    return customer


def get(id_or_key: str) -> Customer:
    """The customer with this id (live or deleted) or this key (live only). Raises NotFound."""
    customer = None
    if id_or_key and not _bad_characters(id_or_key):
        if len(id_or_key) == 26:
            customer = db.session.get(Customer, id_or_key)
        if customer is None:
            customer = find_by_key(id_or_key)
    if customer is None:
        raise NotFound(f'No customer has the id or key "{id_or_key[:256]}".')
    return customer


def find_by_key(key: str) -> Customer | None:
    """The live customer whose key is exactly `key` (case-sensitive), or None."""
    if not key or _bad_characters(key):
        return None
    return db.session.scalars(select(Customer).where(Customer.key == key, Customer.deleted_at.is_(None))).one_or_none()


# ---------------------------------------------------------------------------------------------
# Listing


ORDERINGS = {
    "name": Customer.name,
    "key": Customer.key,
    "id": Customer.id,
    "createdAt": Customer.created_at,
}
MAX_PAGE_SIZE = 1000


@dataclass
class CustomerFilters:
    key: str | None = None  # exact, case-sensitive
    name: str | None = None  # the rest: case-insensitive substrings
    primary_email: str | None = None
    subject: str | None = None
    search: str | None = None  # name, key, email or any subject key
    currency: str | None = None
    has_subjects: bool | None = None
    include_deleted: bool = False


@dataclass
class Page:
    items: list[Customer]
    total: int
    page: int
    page_size: int

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _subject_matches(condition: ColumnElement) -> ColumnElement:
    return exists().where(CustomerIdentifier.customer_id == Customer.id, CustomerIdentifier.is_subject, condition)


def _conditions(filters: CustomerFilters) -> list[ColumnElement]:
    where: list[ColumnElement] = []
    if not filters.include_deleted:
        where.append(Customer.deleted_at.is_(None))
    if filters.key is not None:
        where.append(Customer.key == filters.key)
    if filters.name:
        where.append(Customer.name.icontains(filters.name, autoescape=True))
    if filters.primary_email:
        where.append(Customer.primary_email.icontains(filters.primary_email, autoescape=True))
    if filters.subject:
        where.append(_subject_matches(CustomerIdentifier.value.icontains(filters.subject, autoescape=True)))
    if filters.search:
        q = filters.search
        where.append(
            or_(
                Customer.name.icontains(q, autoescape=True),
                Customer.key.icontains(q, autoescape=True),
                Customer.primary_email.icontains(q, autoescape=True),
                _subject_matches(CustomerIdentifier.value.icontains(q, autoescape=True)),
            )
        )
    if filters.currency:
        where.append(Customer.currency == filters.currency)
    if filters.has_subjects is not None:
        has = _subject_matches(CustomerIdentifier.id.isnot(None))
        where.append(has if filters.has_subjects else ~has)
    return where


def list_customers(
    filters: CustomerFilters, page: int = 1, page_size: int = 100, order_by: str = "name", descending: bool = False
) -> Page:
    """One page of customers. `order_by` must be a key of ORDERINGS (the callers check their input)."""
    if any(_bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return Page([], 0, page, page_size)  # such a value matches nothing, and PostgreSQL refuses NUL
    where = _conditions(filters)
    column = ORDERINGS[order_by]
    ordering = [column.desc(), Customer.id.desc()] if descending else [column.asc(), Customer.id.asc()]
    total = db.session.scalar(select(func.count()).select_from(Customer).where(*where))
    items = db.session.scalars(
        select(Customer).where(*where).order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(list(items), total or 0, page, page_size)
