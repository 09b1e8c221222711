"""The customer form of the console.

The form only carries what was typed: every rule is checked by `rules.create`/`rules.replace`,
whose problems `show_problem` puts next to the fields they name. Subject keys and metadata are
rows the operator adds and removes; without JavaScript that is a submit button, so the form is
re-rendered with everything typed kept.
"""

import re

from wtforms import FieldList, Form, FormField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField

from app.apps.customer_data import AppDataInput
from app.billing import rules as billing_rules
from app.common import ADDRESS_FIELDS, SUBJECT_KEYS_MAX, TAGS_MAX, Address
from app.customers import rules
from app.formutil import VersionedForm
from app.numbers import whole_number
from app.problems import FieldError
from app.reference import country_choices, currencies


def filled_metadata_rows(entries) -> list[tuple[int, str, str]]:
    """(row index, key, value) of the metadata rows that have something in them."""
    rows = []
    for i, entry in enumerate(entries):
        key, value = entry.form.key.data or "", entry.form.value.data or ""
        if key.strip() or value.strip():
            rows.append((i, key, value))
    return rows


def metadata_row_field(entries, error_field: str):
    """The key field of the metadata row an error names: by row (`metadata-row-N`, a key typed twice)
    or by key (`metadata.<key>`, as the API names it; the last row with that key). None for others."""
    if error_field.startswith("metadata-row-"):
        return entries[int(error_field.removeprefix("metadata-row-"))].form.key
    if error_field.startswith("metadata."):
        rows = {key: i for i, key, _ in reversed(filled_metadata_rows(entries))}
        row = rows.get(error_field.removeprefix("metadata."))
        return entries[row].form.key if row is not None else None
    return None


def metadata_from_rows(rows: list[tuple[int, str, str]]) -> tuple[dict[str, str], list[FieldError]]:
    """The rows as a map, and an error for each key typed again, which only a form can express (a
    JSON object cannot hold the same key twice): it names the row (`metadata-row-N`). The form shows
    these with the rules' own errors (formutil.refusing_with), all at once."""
    metadata: dict[str, str] = {}
    duplicates = []
    for i, key, value in rows:
        if key in metadata:
            duplicates.append(FieldError(f"metadata-row-{i}", "duplicate", f'Metadata key "{key}" is used twice.'))
        metadata[key] = value
    return metadata, duplicates


class MetadataEntry(Form):
    key = StringField("Key")
    value = StringField("Value")


def _currency_choices():
    return [SelectChoice("", "No currency yet")] + [
        SelectChoice(c.code, f"{c.code} — {c.name}") for c in currencies().values()
    ]


def _country_choices():
    return [SelectChoice(code, name) for code, name in country_choices("No country")]


def _billing_profile_choices():
    """ "Default profile (currently: X)" (empty value: follow the default), then each live profile."""
    profiles = billing_rules.live_profiles()
    default = next((p for p in profiles if p.is_default), None)
    first = f"Default profile (currently: {default.name})" if default else "Default profile (none is set)"
    return [SelectChoice("", first)] + [SelectChoice(p.id, p.name) for p in profiles]


# The API's field names (used by the rules' errors) → this form's fields.
FIELD_FOR = {
    "name": "name",
    "key": "key",
    "description": "description",
    "primaryEmail": "primary_email",
    "currency": "currency",
    "billingProfileId": "billing_profile",
    "tags": "tags",
    **{f"tags[{i}]": "tags" for i in range(TAGS_MAX + 1)},
    **{f"billingAddress.{api}": f"address_{attr}" for attr, api in ADDRESS_FIELDS.items()},
}
SUBJECT_ERROR = re.compile(r"usageAttribution\.subjectKeys\[([0-9]+)\]")
# A row's index: ASCII digits, few enough for int() (a posted button value can be anything).
ROW_ACTION = re.compile(r"(add|remove)_(subject|metadata)(?:-([0-9]{1,6}))?")


def typed_tags(text: str | None) -> list[str]:
    """Tags as typed in one field: separated by commas, each as `typed_tag` makes it."""
    return [typed_tag(tag) for tag in (text or "").split(",") if tag.strip()]


def typed_tag(text: str) -> str:
    """A tag as an operator typed it, made lowercase with inner spaces as hyphens ("Key account"
    is key-account); the rules then say what is still not a tag."""
    return " ".join(text.split()).lower().replace(" ", "-")


class CustomerForm(VersionedForm):
    name = StringField("Name", description="How operators and invoices name this customer.")
    key = StringField(
        "Key",
        description="Your own id for this customer, e.g. its id in your CRM. Exact match, case-sensitive. Optional.",
    )
    description = TextAreaField("Description")
    billing_profile = SelectField(
        "Billing profile",
        choices=_billing_profile_choices,
        validate_choice=False,
        description="Which profile invoices this customer. The default one, whichever it is at the time, "
        "or pin the customer to a profile of your choice.",
    )
    primary_email = StringField("Primary email", render_kw={"type": "email", "autocomplete": "off"})
    currency = SelectField("Currency", choices=_currency_choices, validate_choice=False)
    address_country = SelectField("Country", choices=_country_choices, validate_choice=False)
    address_line1 = StringField("Address line 1")
    address_line2 = StringField("Address line 2")
    address_city = StringField("City")
    address_state = StringField("State or region")
    address_postal_code = StringField("Postal code")
    address_phone_number = StringField("Phone number", render_kw={"type": "tel"})
    tags = StringField(
        "Tags",
        description="Short labels to find customers by, separated by commas (e.g. key-account, emea): lowercase "
        "letters, digits and hyphens; capitals are made lowercase and spaces hyphens.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    subject_keys = FieldList(StringField("Subject key"), min_entries=1)
    subject_keys_max = SUBJECT_KEYS_MAX
    metadata = FieldList(FormField(MetadataEntry), min_entries=1)
    # The version of the customer's billing override the editor loaded (0: none), as `version` is the
    # customer's: the billing profile choice is saved through the override.
    billing_version = HiddenField()

    FIELD_FOR = FIELD_FOR
    VERSION_FIELDS = ("version", "billing_version")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.focus_id: str | None = None  # a row just added gets the focus

    # --- from and to a customer ---------------------------------------------------------

    @classmethod
    def for_customer(cls, customer, pinned_profile_id: str | None = None, billing_version: int = 0) -> "CustomerForm":
        form = cls(
            data={
                "name": customer.name,
                "key": customer.key or "",
                "description": customer.description or "",
                "primary_email": customer.primary_email or "",
                "currency": customer.currency or "",
                "billing_profile": pinned_profile_id or "",
                **{f"address_{attr}": getattr(customer, f"address_{attr}") or "" for attr in ADDRESS_FIELDS},
                "subject_keys": customer.subject_keys or [""],
                "metadata": [{"key": k, "value": v} for k, v in customer.metadata_.items()] or [{}],
                "tags": ", ".join(customer.tags or []),
                "version": str(customer.version),
                "billing_version": str(billing_version),
            }
        )
        return form

    def _filled_subjects(self) -> list[tuple[int, str]]:
        """(entry index, value) of the subject rows that have something in them."""
        return [(i, entry.data) for i, entry in enumerate(self.subject_keys.entries) if (entry.data or "").strip()]

    def _filled_metadata(self) -> list[tuple[int, str, str]]:
        return filled_metadata_rows(self.metadata.entries)

    def to_input(self) -> rules.CustomerInput:
        """What was typed, as the rules take it (a metadata key typed twice: see own_errors)."""
        metadata, _ = metadata_from_rows(self._filled_metadata())
        address = Address(**{attr: getattr(self, f"address_{attr}").data for attr in ADDRESS_FIELDS})
        return rules.CustomerInput(
            name=self.name.data or "",
            key=self.key.data if self.key.data and self.key.data.strip() else None,  # empty = no key
            description=self.description.data,
            primary_email=self.primary_email.data,
            currency=self.currency.data,
            billing_address=address,
            subject_keys=[value for _, value in self._filled_subjects()],
            metadata=metadata,
            tags=typed_tags(self.tags.data),
        )

    def own_errors(self) -> list[FieldError]:
        """The errors only this form can make: a metadata key typed twice."""
        return metadata_from_rows(self._filled_metadata())[1]

    @property
    def expected_billing_version(self) -> int | None:
        return whole_number(self.billing_version.data)

    # --- rows ---------------------------------------------------------------------------

    def apply_row_action(self, action: str) -> str | None:
        """Add or remove a subject or metadata row; returns which list changed, or None."""
        match = ROW_ACTION.fullmatch(action or "")
        if not match:
            return None
        verb, what, index = match.groups()
        rows = self.subject_keys if what == "subject" else self.metadata
        if verb == "add":
            entry = rows.append_entry()
            self.focus_id = entry.form.key.id if what == "metadata" else entry.id
        elif index is not None and int(index) < len(rows.entries):
            rows.entries.pop(int(index))
            if not rows.entries:
                rows.append_entry()
        return what

    # --- errors -------------------------------------------------------------------------

    def field_for(self, error: FieldError):
        """Besides the fields of FIELD_FOR: the subject row (counted among the filled ones) or the
        metadata row an error names."""
        if m := SUBJECT_ERROR.fullmatch(error.field):
            subject_rows = [i for i, _ in self._filled_subjects()]
            position = int(m.group(1))
            return self.subject_keys.entries[subject_rows[position]] if position < len(subject_rows) else None
        return metadata_row_field(self.metadata.entries, error.field) or super().field_for(error)


# --- Customer app data (the editors on the customer page) -----------------------------------


class StripeDataForm(VersionedForm):
    """One customer's data in one Stripe app. Prefixed with the app, so each app's fields are its own."""

    FIELD_FOR = {
        "stripeCustomerId": "stripe_customer_id",
        "stripeDefaultPaymentMethodId": "stripe_default_payment_method_id",
    }
    stripe_customer_id = StringField(
        "Stripe customer id",
        description="The customer's id in Stripe, e.g. cus_NffrFeUfNV2Hib.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    stripe_default_payment_method_id = StringField(
        "Default payment method id",
        description="Optional, e.g. pm_1Q0PsIJvEtkwdCNYMSaVuRz6.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    @classmethod
    def for_row(cls, app_id: str, row) -> "StripeDataForm":
        data = {"version": str(row.version if row is not None else 0)}  # 0: no data yet
        if row is not None:
            data |= {
                "stripe_customer_id": row.stripe_customer_id or "",
                "stripe_default_payment_method_id": row.stripe_default_payment_method_id or "",
            }
        return cls(formdata=None, prefix=f"app-{app_id}", data=data)

    def to_input(self, app_id: str):
        return AppDataInput(
            type="stripe",
            app_id=app_id,
            stripe_customer_id=(self.stripe_customer_id.data or "").strip(),
            stripe_default_payment_method_id=(self.stripe_default_payment_method_id.data or "").strip() or None,
        )


class InvoicingDataForm(VersionedForm):
    """One customer's metadata in one custom invoicing app: key and value rows."""

    metadata = FieldList(FormField(MetadataEntry), min_entries=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.focus_id: str | None = None

    @classmethod
    def for_row(cls, app_id: str, row) -> "InvoicingDataForm":
        rows = [{"key": k, "value": v} for k, v in ((row.metadata_ or {}) if row is not None else {}).items()]
        version = str(row.version if row is not None else 0)  # 0: no data yet
        return cls(formdata=None, prefix=f"app-{app_id}", data={"metadata": rows or [{}], "version": version})

    def _filled(self) -> list[tuple[int, str, str]]:
        return filled_metadata_rows(self.metadata.entries)

    def apply_row_action(self, action: str) -> bool:
        """Add or remove a row; returns whether the action was one."""
        match = ROW_ACTION.fullmatch(action or "")
        if not match or match.group(2) != "metadata":
            return False
        verb, _, index = match.groups()
        if verb == "add":
            self.focus_id = self.metadata.append_entry().form.key.id
        elif index is not None and int(index) < len(self.metadata.entries):
            self.metadata.entries.pop(int(index))
            if not self.metadata.entries:
                self.metadata.append_entry()
        return True

    def to_input(self, app_id: str):
        """What was typed (a key typed twice: see own_errors)."""
        return AppDataInput(type="custom_invoicing", app_id=app_id, metadata=metadata_from_rows(self._filled())[0])

    def own_errors(self) -> list[FieldError]:
        """The errors only this form can make: a key typed twice."""
        return metadata_from_rows(self._filled())[1]

    def field_for(self, error: FieldError):
        return metadata_row_field(self.metadata.entries, error.field)
