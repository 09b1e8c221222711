"""The customer rules (SPEC §1), in one place for the console and the API.

Plain functions over the session. They take a `CustomerInput`, check every rule, write and commit,
or raise a problem from `app.problems`: `Invalid` (400, each bad field named), `Conflict` (409,
naming the customer that holds a key or subject), `StaleEdit` (409), `NotFound` (404) or
`PreconditionFailed` (412, the customer is deleted). Nothing here knows about requests, forms,
templates or JSON, nor about any other area: what a change means for subscriptions, app data and
billing is `app.customers.lifecycle`'s, and listing is `app.customers.listing`'s.
"""

import functools
import re
from dataclasses import dataclass, field, fields
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from pydantic.alias_generators import to_camel
from sqlalchemy import bindparam, insert, select
from ulid import ULID

from app import history
from app.common import (
    ADDRESS_FIELDS,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    KEY_MAX,
    NAME_MAX,
    SUBJECT_KEYS_MAX,
    SUBJECT_MAX,
    TAG_MAX,
    TAG_PATTERN,
    TAGS_MAX,
    Address,
    check_address,
    check_metadata,
)
from app.customers.models import Customer, CustomerIdentifier
from app.extensions import db, utcnow
from app.history.models import Change
from app.problems import Conflict, FieldError, Invalid, NotFound, PreconditionFailed
from app.reference import currencies
from app.store import refuse_stale, unit_of_work
from app.text_rules import bad_characters, check_identifier, check_text, nfc, sort_key


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
    tags: list[str] = field(default_factory=list)


# The fields stored as given, each in the column of its name. A new field of that kind is a line
# above, its check in `_check`, and its line (with the limits the document states) in the API
# shape; saving, history and the conversions to and from the shapes follow from this list.
PLAIN_FIELDS = tuple(
    f.name for f in fields(CustomerInput) if f.name not in ("billing_address", "subject_keys", "metadata", "tags")
)


# ---------------------------------------------------------------------------------------------
# Checking input


def _trimmed(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _normalised(data: CustomerInput) -> CustomerInput:
    """Trim what is safe to trim; a blank optional field is no value. Keys, subject keys and
    metadata keys are compared exactly, so they are kept as given, but in Unicode's composed form
    (NFC): what looks the same is the same."""
    address = data.billing_address
    if address is not None:
        address = Address(**{attr: _trimmed(getattr(address, attr)) for attr in ADDRESS_FIELDS})
        if address.country:
            address.country = address.country.upper()
        if address.is_empty():
            address = None
    plain = {name: _trimmed(getattr(data, name)) for name in PLAIN_FIELDS}
    plain["name"] = (data.name or "").strip()
    plain["key"] = nfc(data.key)
    if plain["currency"]:
        plain["currency"] = plain["currency"].upper()
    return CustomerInput(
        **plain,
        billing_address=address,
        subject_keys=[nfc(s) for s in data.subject_keys],
        metadata={nfc(k): v for k, v in data.metadata.items()},
        tags=list(data.tags),
    )


def check_key(key: str | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if key == "":
        errors.append(FieldError("key", "empty", "Key cannot be empty: leave it out for no key."))
    elif key is not None:
        check_identifier(errors, "key", key, KEY_MAX, label="Key")
    return errors


def check_subject_keys(subject_keys: list[str]) -> list[FieldError]:
    if len(subject_keys) > SUBJECT_KEYS_MAX:  # refused before any other work on them
        message = f"A customer can have at most {SUBJECT_KEYS_MAX:,} subject keys ({len(subject_keys):,} given)."
        return [FieldError("usageAttribution.subjectKeys", "too_many", message)]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, subject in enumerate(subject_keys):
        name = f"usageAttribution.subjectKeys[{i}]"
        check_identifier(errors, name, subject, SUBJECT_MAX, label="Subject key", required=True)
        if subject in seen:
            errors.append(FieldError(name, "duplicate", f'Subject key "{subject}" is listed twice.'))
        seen.add(subject)
    return errors


_TAG = re.compile(TAG_PATTERN)


def check_tags(tags: list[str]) -> list[FieldError]:
    """Tags are lowercase slugs, each once, at most TAGS_MAX of them."""
    if len(tags) > TAGS_MAX:
        return [FieldError("tags", "too_many", f"A customer can have at most {TAGS_MAX} tags ({len(tags)} given).")]
    errors: list[FieldError] = []
    for i, tag in enumerate(tags):
        name = f"tags[{i}]"
        if not isinstance(tag, str) or not _TAG.fullmatch(tag) or len(tag) > TAG_MAX:
            shown = str(tag)[:40]
            hint = f' (did you mean "{slug(shown)}"?)' if slug(shown) and slug(shown) != shown else ""
            message = (
                f'Tag "{shown}" is not a tag: lowercase letters and digits, with single hyphens between them, '
                f"at most {TAG_MAX} characters{hint}."
            )
            errors.append(FieldError(name, "invalid_tag", message))
        elif tag in tags[:i]:
            errors.append(FieldError(name, "duplicate", f'Tag "{tag}" is listed twice.'))
    return errors


def slug(text: str) -> str:
    """The tag closest to `text`: lowercase, runs of anything else as one hyphen ("Key Account" →
    "key-account"). The console's tag field makes its tags so; the API is told of it."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:TAG_MAX].strip("-")


def check_email(email: str) -> list[FieldError]:
    """The primary email's rule (also the console's live check): text limits, then a valid address
    (its domain is not looked up)."""
    errors: list[FieldError] = []
    check_text(errors, "primaryEmail", email, EMAIL_MAX, label="Primary email")
    if not errors and not _plainly_valid(email):
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as e:
            errors.append(FieldError("primaryEmail", "invalid_email", f"Primary email is not valid: {e}"))
    return errors


# RFC 5322's dot-atom in ASCII: a local part email_validator accepts whatever the domain.
_PLAIN_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


def _plainly_valid(email: str) -> bool:
    """A plain local part (at most 64 characters, 254 in all, email_validator's limits) at a domain
    email_validator accepted: valid, without validating the whole address again. An import checks
    up to a million addresses, most of them at a few domains."""
    local, at, domain = email.rpartition("@")
    return bool(at and len(local) <= 64 and len(email) <= 254 and _PLAIN_LOCAL_PART.match(local)) and _valid_domain(
        domain
    )


@functools.lru_cache(maxsize=4096)
def _valid_domain(domain: str) -> bool:
    try:
        validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _check(data: CustomerInput) -> list[FieldError]:
    errors: list[FieldError] = []
    check_text(errors, "name", data.name, NAME_MAX, label="Name", required=True)
    errors += check_key(data.key)
    check_text(errors, "description", data.description, DESCRIPTION_MAX, label="Description", multiline=True)

    if data.primary_email is not None:
        errors += check_email(data.primary_email)

    if data.currency is not None and data.currency not in currencies():
        errors.append(
            FieldError("currency", "unknown_currency", f'"{data.currency[:20]}" is not an ISO 4217 currency code.')
        )

    if data.billing_address is not None:
        errors += check_address(data.billing_address, "billingAddress", "Billing address")

    errors += check_subject_keys(data.subject_keys)
    errors += check_metadata(data.metadata)
    errors += check_tags(data.tags)

    if data.key is None and not data.subject_keys:
        errors.append(FieldError("key", "key_or_subject_required", "Give the customer a key, a subject key, or both."))
    return errors


# ---------------------------------------------------------------------------------------------
# Conflicts with other customers


def describe(customer: Customer) -> str:
    return f'"{customer.name}" ({customer.id})'


Holders = dict[str, tuple[CustomerIdentifier, Customer]]


def holders(values) -> Holders:
    """The live customers that hold these values (as key or subject key), by value: one query."""
    # Values with control characters are refused by check_text; none is held, and PostgreSQL refuses NUL.
    wanted = {v for v in values if v and not bad_characters(v)}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(CustomerIdentifier, Customer)
        .join(Customer, Customer.id == CustomerIdentifier.customer_id)
        .where(CustomerIdentifier.value.in_(wanted), CustomerIdentifier.deleted_at.is_(None))
    ).all()
    return {ident.value: (ident, holder) for ident, holder in rows}


def find_conflicts(
    key: str | None, subject_keys: list[str], customer_id: str | None = None, held: Holders | None = None
) -> list[FieldError]:
    """Which of these values another live customer already holds, or that collide with an id.

    Used before writing, for messages that name the holder, and after the database refused a
    write, to say why. The database's unique index is what decides; this only explains. `held` is
    `holders` of these values and maybe more, read beforehand (an import reads a batch's at once).
    """
    errors: list[FieldError] = []
    if held is None:
        held = holders([key, *subject_keys])
    held = {value: found for value, found in held.items() if found[1].id != customer_id}

    if key and key in held:
        ident, holder = held[key]
        role = "the key" if ident.is_key else "a subject key"
        errors.append(
            FieldError("key", "conflict", f'Key "{key}" is already {role} of customer {describe(holder)}.', holder.id)
        )
    if key and len(key) == 26 and not bad_characters(key):
        same_as_id = db.session.get(Customer, key)
        if same_as_id is not None:
            errors.append(
                FieldError(
                    "key",
                    "conflict",
                    f'Key "{key}" is the id of customer {describe(same_as_id)}; a key cannot equal a customer id.',
                    same_as_id.id,
                )
            )
    for i, subject in enumerate(subject_keys):
        if subject in held:
            ident, holder = held[subject]
            role = "a subject key" if ident.is_subject else "the key"
            errors.append(
                FieldError(
                    f"usageAttribution.subjectKeys[{i}]",
                    "conflict",
                    f'Subject key "{subject}" is already {role} of customer {describe(holder)}.',
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


def _identities(key: str | None, subject_keys: list[str]) -> list[dict]:
    """The identifier rows that {key} ∪ subject_keys make, in the subject keys' order (the key first
    when it is no subject key)."""
    positions = {value: position for position, value in enumerate(subject_keys)}
    wanted = ([key] if key is not None else []) + [s for s in subject_keys if s != key]
    return [
        {"value": v, "is_key": v == key, "is_subject": v in positions, "position": positions.get(v, -1)} for v in wanted
    ]


def _claim_identifiers(customer: Customer, key: str | None, subject_keys: list[str]) -> None:
    """Make `customer.identifiers` exactly {key} ∪ subject_keys, reusing rows for kept values.

    Reusing a row (rather than deleting and re-inserting the same value) matters: within one flush,
    an insert could reach the unique index before the delete of its twin.
    """
    existing = {ident.value: ident for ident in customer.identifiers}
    kept = []
    for wanted in _identities(key, subject_keys):
        ident = existing.pop(wanted["value"], None) or CustomerIdentifier(value=wanted["value"])
        for name, value in wanted.items():
            setattr(ident, name, value)
        ident.deleted_at = None
        kept.append(ident)
    customer.identifiers = sorted(kept, key=lambda i: i.position)


def _stored(data: CustomerInput) -> dict:
    """The customer's own columns (by attribute name) for checked input: what `_apply` sets."""
    address = data.billing_address or Address()
    return {
        **{name: getattr(data, name) for name in PLAIN_FIELDS},
        **{f"address_{attr}": getattr(address, attr) for attr in ADDRESS_FIELDS},
        "subjects_text": "\n".join(data.subject_keys),
        "metadata_": dict(data.metadata),
        "tags": sorted(data.tags),
    }


def _apply(customer: Customer, data: CustomerInput) -> None:
    # Identifiers first: loading them flushes pending changes, which would bump the version twice.
    _claim_identifiers(customer, data.key, data.subject_keys)
    for name, value in _stored(data).items():
        setattr(customer, name, value)


def snapshot(customer: Customer) -> dict:
    """The customer's fields under the API's names, for the change history."""
    return _snapshot(input_of(customer))


_PLAIN_API_NAMES = {name: to_camel(name) for name in PLAIN_FIELDS}
_ADDRESS_API_NAMES = {attr: f"billingAddress.{api}" for attr, api in ADDRESS_FIELDS.items()}


def _snapshot(data: CustomerInput) -> dict:
    address = data.billing_address or Address()
    return {
        **{api: getattr(data, name) for name, api in _PLAIN_API_NAMES.items()},
        **{api: getattr(address, attr) for attr, api in _ADDRESS_API_NAMES.items()},
        "usageAttribution.subjectKeys": list(data.subject_keys),
        "metadata": dict(data.metadata),
        "tags": sorted(data.tags),
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
    with _saving(data.key, data.subject_keys, None):
        return add(data)


def add(data: CustomerInput) -> Customer:
    """Add a new customer made of checked, normalised input (see `checked`) to the session, with its
    history; the caller commits (create, or an import's batch)."""
    now = utcnow()
    customer = Customer(id=str(ULID()), created_at=now, updated_at=now)
    _apply(customer, data)
    db.session.add(customer)
    history.record("customer", customer.id, "create", {}, snapshot(customer))
    return customer


def add_many(items: list[CustomerInput]) -> None:
    """`add` for many new customers at once (an import's batch): the same rows, built as plain
    values (no ORM object: at a million rows, objects cost more than the database's writing) and
    written by one statement per table. The caller commits."""
    now = utcnow()
    customers, identifiers, changes = [], [], []
    for data in items:
        customer_id = str(ULID())
        stored = _stored(data)
        customers.append(
            stored
            | {"id": customer_id, "sort_name": sort_key(data.name), "created_at": now, "updated_at": now, "version": 1}
        )
        identifiers += [row | {"customer_id": customer_id} for row in _identities(data.key, data.subject_keys)]
        changes.append(history.row("customer", customer_id, "create", {}, _snapshot(data)))
    for model, rows in ((Customer, customers), (CustomerIdentifier, identifiers), (Change, changes)):
        if rows:
            db.session.execute(insert(model), rows)


def overwrite(customer: Customer, data: CustomerInput) -> None:
    """Replace the customer's fields with checked, normalised input, with its history; the caller
    commits (replace, or an import's batch)."""
    before = snapshot(customer)
    _apply(customer, data)
    customer.updated_at = utcnow()
    history.record("customer", customer.id, "update", before, snapshot(customer))


def checked(data: CustomerInput) -> tuple[CustomerInput, list[FieldError]]:
    """The input as it would be stored, and every rule it breaks (conflicts with other customers
    are `find_conflicts`'): for an import, which checks many rows before it writes any."""
    data = _normalised(data)
    return data, _check(data)


def input_of(customer: Customer) -> CustomerInput:
    """The customer as input: what a replace that changes nothing would give."""
    address = Address(**{attr: getattr(customer, f"address_{attr}") for attr in ADDRESS_FIELDS})
    return CustomerInput(
        **{name: getattr(customer, name) for name in PLAIN_FIELDS},
        billing_address=None if address.is_empty() else address,
        subject_keys=list(customer.subject_keys),
        metadata=dict(customer.metadata_ or {}),
        tags=list(customer.tags or []),
    )


def normalised_currency(currency: str | None) -> str | None:
    """The currency as `replace` will store it (for the lifecycle's currency lock)."""
    return _normalised(CustomerInput(name="", currency=currency)).currency


def replace(
    id_or_key: str, data: CustomerInput, expected_version: int | None = None, locked: list[FieldError] | None = None
) -> Customer:
    """Replace every field of a customer (omitted optional fields are cleared).

    `expected_version` is the version the editor loaded; a different current version means someone
    saved in between. `locked` are refusals of other areas (the currency while subscribed), shown
    with this input's own errors. Raises NotFound, PreconditionFailed (deleted), StaleEdit, Invalid
    or Conflict.
    """
    customer = live(id_or_key, expected_version, deleted="is deleted and cannot be changed")
    data = _normalised(data)
    _refuse_bad_input(data, customer.id, locked)

    with _saving(data.key, data.subject_keys, customer.id):
        overwrite(customer, data)
    return customer


def live(id_or_key: str, expected_version: int | None = None, *, deleted: str = "is already deleted") -> Customer:
    """The live customer, at `expected_version` when one is given: what every change to a customer
    or its parts starts from. Raises NotFound, PreconditionFailed (saying the customer `deleted`)
    or StaleEdit."""
    customer = get(id_or_key)
    if customer.is_deleted:
        raise PreconditionFailed(f"Customer {describe(customer)} {deleted}.")
    refuse_stale(f"Customer {describe(customer)}", expected_version, customer.version, ("customer", customer.id))
    return customer


def mark_deleted(customer: Customer, now: datetime) -> None:
    """The customer's own part of a soft delete (`lifecycle.delete` commits it with the rest): it
    stays readable by id, and its key and subject keys are free at once. No flush happens here, so
    that the version check fails at the commit."""
    for ident in customer.identifiers:
        ident.deleted_at = now
    customer.deleted_at = now
    customer.updated_at = now
    history.record("customer", customer.id, "delete", {"deletedAt": None}, {"deletedAt": now.isoformat()})


def restore(id_or_key: str) -> Customer:
    """Bring a soft-deleted customer back (the undo of a bulk delete), with its key and subject
    keys, while no other customer has taken them: then Conflict names who did. Its app data and
    billing profile pin went with the delete and stay gone."""
    customer = get(id_or_key)
    if not customer.is_deleted:
        return customer
    taken = find_conflicts(customer.key, customer.subject_keys, customer.id)
    if taken:
        raise Conflict(taken)
    with _saving(customer.key, customer.subject_keys, customer.id):
        for ident in customer.identifiers:
            ident.deleted_at = None
        deleted_at, customer.deleted_at = customer.deleted_at, None
        customer.updated_at = utcnow()
        history.record("customer", customer.id, "restore", {"deletedAt": deleted_at.isoformat()}, {"deletedAt": None})
    return customer


# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
_BY_ID = select(Customer).where(Customer.id == bindparam("id"))
_LIVE_BY_KEY = select(Customer).where(Customer.key == bindparam("key"), Customer.deleted_at.is_(None))


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
