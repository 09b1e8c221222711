"""The customer's JSON shapes (OpenMeter's v1 `Customer`, `CustomerCreate` and their parts): parsed,
serialised and documented from here (see app/schemas.py)."""

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import ConfigDict

from app.common import (
    ADDRESS_FIELDS,
    ADDRESS_PART_MAX,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    KEY_MAX,
    METADATA_KEY_MAX,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX,
    NAME_MAX,
    PHONE_MAX,
    SUBJECT_KEYS_MAX,
    SUBJECT_MAX,
    TAG_MAX,
    TAG_PATTERN,
    TAGS_MAX,
)
from app.common import Address as AddressInput
from app.customers.models import Customer as CustomerRow
from app.customers.rules import PLAIN_FIELDS, CustomerInput
from app.plans.models import Subscription
from app.schemas import (
    ID_PATTERN,
    CountryCode,
    CurrencyCode,
    Paginated,
    Shape,
    Timestamp,
    documented,
    text,
    text_pattern,
)

# Metadata as every area has it: string keys and values, within the limits (common.check_metadata).
METADATA = documented(
    maxProperties=METADATA_MAX_KEYS,
    propertyNames={"maxLength": METADATA_KEY_MAX, "pattern": text_pattern("identifier")},
    additionalProperties={"type": "string", "maxLength": METADATA_VALUE_MAX, "pattern": text_pattern("multiline")},
)


class Address(Shape):
    """A postal address (a customer's billing address, a supplier's address)."""

    country: CountryCode | None = None
    postal_code: str | None = text(ADDRESS_PART_MAX)
    state: str | None = text(ADDRESS_PART_MAX)
    city: str | None = text(ADDRESS_PART_MAX)
    line1: str | None = text(ADDRESS_PART_MAX)
    line2: str | None = text(ADDRESS_PART_MAX)
    phone_number: str | None = text(PHONE_MAX)

    def to_input(self) -> AddressInput:
        return AddressInput(**{attr: getattr(self, attr) for attr in ADDRESS_FIELDS})

    @classmethod
    def of(cls, row, prefix: str) -> "Address | None":
        """The address kept in `row`'s columns `{prefix}country`, `{prefix}postal_code`, …; None when empty."""
        parts = {attr: getattr(row, f"{prefix}{attr}") for attr in ADDRESS_FIELDS}
        return cls(**parts) if any(v is not None for v in parts.values()) else None


class CustomerUsageAttribution(Shape):
    subject_keys: list[str] = documented(
        required=True,
        items={"type": "string", "maxLength": SUBJECT_MAX, "pattern": text_pattern("identifier")},
        uniqueItems=True,
        maxItems=SUBJECT_KEYS_MAX,
    )


def _key_or_subject_key(schema: dict) -> None:
    """The document says what the rules say: a customer has a key, a subject key, or both."""
    subject_keys = {"type": "object", "required": ["subjectKeys"], "properties": {"subjectKeys": {"minItems": 1}}}
    schema["anyOf"] = [
        {"required": ["key"], "properties": {"key": {"type": "string"}}},
        {"required": ["usageAttribution"], "properties": {"usageAttribution": subject_keys}},
    ]


class CustomerCreate(Shape):
    """A customer as written (POST, and PUT, which replaces it whole). At least a key or a subject key."""

    model_config = ConfigDict(json_schema_extra=_key_or_subject_key)

    name: str = text(NAME_MAX, required=True, kind="name")
    key: str | None = text(KEY_MAX, kind="identifier")
    description: str | None = text(DESCRIPTION_MAX, kind="multiline")
    primary_email: str | None = documented(
        format="email",
        maxLength=EMAIL_MAX,
        # email_validator's refusal of special-use domains (a@b.test, a@localhost), stated.
        pattern=f"^(?!.*@(?:.*\\.)?(?:{'|'.join(SPECIAL_USE_DOMAIN_NAMES)})$)[^@]+@[^@]+$",
        description="A deliverable address: special-use domains (.test, .local, .invalid, localhost…) are refused.",
    )
    currency: CurrencyCode | None = None
    billing_address: Address | None = None
    usage_attribution: CustomerUsageAttribution | None = None
    metadata: dict[str, str] | None = METADATA
    tags: list[str] | None = documented(
        items={"type": "string", "maxLength": TAG_MAX, "pattern": TAG_PATTERN},
        uniqueItems=True,
        maxItems=TAGS_MAX,
        description="Short labels (lowercase letters and digits, single hyphens between them): an extension to "
        "OpenMeter's customer. Left out or null: no tags.",
    )

    def to_input(self) -> CustomerInput:
        return CustomerInput(
            **{name: getattr(self, name) for name in PLAIN_FIELDS},
            billing_address=self.billing_address.to_input() if self.billing_address else None,
            subject_keys=list(self.usage_attribution.subject_keys) if self.usage_attribution else [],
            metadata=dict(self.metadata or {}),
            tags=list(self.tags or []),
        )


class Customer(CustomerCreate):
    """A customer as read."""

    model_config = ConfigDict(json_schema_extra=None)

    id: str = documented(required=True, pattern=ID_PATTERN)
    usage_attribution: CustomerUsageAttribution
    current_subscription_id: str | None = documented(description="The active subscription, if any.")
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None = None

    @classmethod
    def of(cls, customer: CustomerRow, current_subscription: Subscription | None = None) -> "Customer":
        """The customer; `current_subscription` is its active one, if any (callers load it, for a page at once)."""
        return cls(
            id=customer.id,
            **{name: getattr(customer, name) for name in PLAIN_FIELDS},
            billing_address=Address.of(customer, "address_"),
            usage_attribution=CustomerUsageAttribution(subject_keys=customer.subject_keys),
            metadata=customer.metadata_ or None,
            tags=list(customer.tags or []),
            current_subscription_id=current_subscription.id if current_subscription else None,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            deleted_at=customer.deleted_at,
        )


class CustomerPaginatedResponse(Paginated[Customer]):
    pass


SHAPES = (Customer, CustomerCreate, CustomerPaginatedResponse)
