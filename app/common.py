"""What every area may import: field limits, the postal address, metadata checks and a page of results.

No area's rules are the base of another's: what two areas share lives here, below all of them.
"""

from dataclasses import dataclass, field, fields

from app.problems import FieldError
from app.reference import countries
from app.text_rules import check_identifier, check_text

NAME_MAX = 256
KEY_MAX = 256
SUBJECT_MAX = 256
# OpenMeter sets no limit; a real customer has a handful, and claiming them is one request's work.
SUBJECT_KEYS_MAX = 1000
DESCRIPTION_MAX = 1024
EMAIL_MAX = 320
ADDRESS_PART_MAX = 256
PHONE_MAX = 64
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
MAX_PAGE_SIZE = 1000
TAGS_MAX = 20
TAG_MAX = 32
# A tag is a lowercase slug: letters and digits, with single hyphens between them ("key-account").
TAG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"


@dataclass
class Address:
    """A postal address: a customer's billing address, a billing profile's supplier address."""

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


def check_address(address: Address, prefix: str, label: str, country_required: bool = False) -> list[FieldError]:
    """Each part's length and characters, and the country an ISO 3166-1 alpha-2 code; errors are
    named `prefix.postalCode` and so on, and read "`label` postalCode …"."""
    errors: list[FieldError] = []
    for attr, api_name in ADDRESS_FIELDS.items():
        limit = PHONE_MAX if attr == "phone_number" else ADDRESS_PART_MAX
        required = country_required and attr == "country"
        check_text(
            errors,
            f"{prefix}.{api_name}",
            getattr(address, attr),
            limit,
            label=f"{label} {api_name}",
            required=required,
        )
    if address.country and address.country not in countries():
        message = f'"{address.country[:20]}" is not an ISO 3166-1 alpha-2 country code.'
        errors.append(FieldError(f"{prefix}.country", "unknown_country", message))
    return errors


def check_metadata(metadata: dict[str, str], prefix: str = "metadata") -> list[FieldError]:
    """The metadata limits (SPEC §1), for customers, billing profiles and app data alike."""
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
        check_identifier(errors, name, key, METADATA_KEY_MAX, label=f'Metadata key "{key[:40]}"')
        check_text(errors, name, value, METADATA_VALUE_MAX, label=f'Metadata value for "{key[:40]}"', multiline=True)
    return errors


@dataclass
class Page:
    """One page of a list: its items and where it stands in the whole."""

    items: list
    total: int
    page: int
    page_size: int
    # True when `total` is a count limit and there are more.
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
