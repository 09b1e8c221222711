"""The customer's JSON shapes (OpenMeter's v1 `Customer`, `CustomerCreate` and their parts): parsed,
serialised and documented from here (see app/schemas.py)."""

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
)
from app.common import Address as AddressInput
from app.customers.models import Customer as CustomerRow
from app.customers.rules import CustomerInput
from app.plans.models import Subscription
from app.schemas import Paginated, Shape, Timestamp, documented

# Metadata as every area has it: string keys and values, within the limits (common.check_metadata).
METADATA = documented(
    maxProperties=METADATA_MAX_KEYS,
    propertyNames={"minLength": 1, "maxLength": METADATA_KEY_MAX},
    additionalProperties={"type": "string", "maxLength": METADATA_VALUE_MAX},
)


class Address(Shape):
    """A postal address (a customer's billing address, a supplier's address)."""

    country: str | None = documented(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")
    postal_code: str | None = documented(maxLength=ADDRESS_PART_MAX)
    state: str | None = documented(maxLength=ADDRESS_PART_MAX)
    city: str | None = documented(maxLength=ADDRESS_PART_MAX)
    line1: str | None = documented(maxLength=ADDRESS_PART_MAX)
    line2: str | None = documented(maxLength=ADDRESS_PART_MAX)
    phone_number: str | None = documented(maxLength=PHONE_MAX)

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
        items={"type": "string", "minLength": 1, "maxLength": SUBJECT_MAX},
        uniqueItems=True,
        maxItems=SUBJECT_KEYS_MAX,
    )


class CustomerCreate(Shape):
    """A customer as written (POST, and PUT, which replaces it whole). At least a key or a subject key."""

    name: str = documented(required=True, minLength=1, maxLength=NAME_MAX)
    key: str | None = documented(minLength=1, maxLength=KEY_MAX)
    description: str | None = documented(maxLength=DESCRIPTION_MAX)
    primary_email: str | None = documented(format="email", maxLength=EMAIL_MAX)
    currency: str | None = documented(pattern="^[A-Z]{3}$", description="ISO 4217 code")
    billing_address: Address | None = None
    usage_attribution: CustomerUsageAttribution | None = None
    metadata: dict[str, str] | None = METADATA

    def to_input(self) -> CustomerInput:
        return CustomerInput(
            name=self.name,
            key=self.key,
            description=self.description,
            primary_email=self.primary_email,
            currency=self.currency,
            billing_address=self.billing_address.to_input() if self.billing_address else None,
            subject_keys=list(self.usage_attribution.subject_keys) if self.usage_attribution else [],
            metadata=dict(self.metadata or {}),
        )


class Customer(CustomerCreate):
    """A customer as read."""

    id: str = documented(required=True, pattern="^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
    usage_attribution: CustomerUsageAttribution
    current_subscription_id: str | None = documented(description="The active subscription, if any.")
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None = None

    @classmethod
    def of(cls, customer: CustomerRow, current_subscription: Subscription | None = None) -> "Customer":
        """The customer; `current_subscription` is its active one, if any (callers load it, for a whole page at once)."""
        return cls(
            id=customer.id,
            name=customer.name,
            key=customer.key,
            description=customer.description,
            primary_email=customer.primary_email,
            currency=customer.currency,
            billing_address=Address.of(customer, "address_"),
            usage_attribution=CustomerUsageAttribution(subject_keys=customer.subject_keys),
            metadata=customer.metadata_ or None,
            current_subscription_id=current_subscription.id if current_subscription else None,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            deleted_at=customer.deleted_at,
        )


class CustomerPaginatedResponse(Paginated[Customer]):
    pass


SHAPES = (Customer, CustomerCreate, CustomerPaginatedResponse)
