"""The billing profile editor: grouped as Supplier, Collection, Invoicing, Payment, Tax and Apps.

Durations are typed the way people say them, a number and a unit ("30 days"), and stored as the
ISO 8601 duration the rules and the API use ("P30D"). Every rule is checked by the rules; their
problems, named by the API's dotted paths, are shown beside the fields here.
"""

import re

from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField

from app.billing import rules
from app.common import ADDRESS_FIELDS, MAX_PAGE_SIZE, Address
from app.formutil import VersionedForm
from app.numbers import whole_number
from app.problems import FieldError
from app.reference import country_choices

# unit → (ISO 8601 designator, whether it goes after the T)
UNITS = {
    "minutes": ("M", True),
    "hours": ("H", True),
    "days": ("D", False),
    "weeks": ("W", False),
    "months": ("M", False),
    "years": ("Y", False),
}
UNIT_CHOICES = [SelectChoice(u, u) for u in UNITS]
SIMPLE_DURATION = re.compile(r"P(?:([0-9]+)([YMWD])|T([0-9]+)([HM]))")
DURATIONS = {  # form prefix → (rules' Workflow attribute, API path)
    "collection_interval": ("collection_interval", "workflow.collection.interval"),
    "draft_period": ("draft_period", "workflow.invoicing.draftPeriod"),
    "due_after": ("due_after", "workflow.invoicing.dueAfter"),
}


def to_iso(amount: str | None, unit: str | None) -> str | None:
    """ "30", "days" → "P30D"; None when the amount is not a whole number or the unit is unknown."""
    amount = (amount or "").strip()
    number = whole_number(amount) if len(amount) <= 9 else None
    if number is None or unit not in UNITS:
        return None
    designator, is_time = UNITS[unit]
    return f"PT{number}{designator}" if is_time else f"P{number}{designator}"


def from_iso(value: str | None) -> tuple[str, str]:
    """ "P30D" → ("30", "days"). A compound duration (e.g. P1DT2H, from the API) is shown in the
    largest unit that divides it exactly."""
    if not value:
        return "", "days"
    if m := SIMPLE_DURATION.fullmatch(value):
        if m.group(1):
            return m.group(1), {"Y": "years", "M": "months", "W": "weeks", "D": "days"}[m.group(2)]
        return m.group(3), {"H": "hours", "M": "minutes"}[m.group(4)]
    seconds = rules.duration_seconds(value)
    if seconds is None:
        return "", "days"
    seconds = int(seconds)
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return str(seconds // size), unit
    return str(max(seconds // 60, 1)), "minutes"


def _country_choices():
    return [SelectChoice(code, name) for code, name in country_choices("Choose a country")]


def _app_choices():
    from app.apps import rules as app_rules

    apps = app_rules.list_apps(page=1, page_size=MAX_PAGE_SIZE).items
    return [SelectChoice("", "Choose an installed app")] + [SelectChoice(a.id, f"{a.name} ({a.type})") for a in apps]


class ProfileForm(VersionedForm):
    FIELD_FOR = {
        "name": "name",
        "description": "description",
        "default": "default",
        "supplier.name": "supplier_name",
        "supplier.taxId.code": "supplier_tax_code",
        "supplier.addresses": "supplier_country",
        **{f"supplier.addresses[0].{api}": f"supplier_{attr}" for attr, api in ADDRESS_FIELDS.items()},
        "workflow.collection.alignment.type": "alignment",
        "workflow.collection.alignment.recurringPeriod.interval": "period_interval",
        "workflow.collection.alignment.recurringPeriod.anchor": "period_anchor",
        **{api: f"{prefix}_amount" for prefix, (_, api) in DURATIONS.items()},
        "workflow.invoicing.defaultTaxConfig.behavior": "tax_behavior",
        "workflow.payment.collectionMethod": "collection_method",
        "workflow.tax.enforced": "tax_enforced",
        "apps": "app_id",
        **{f"apps.{role}": "app_id" for role in rules.APP_ROLES},
    }

    name = StringField("Name")
    description = TextAreaField("Description")
    default = BooleanField(
        "Make this the default profile", description="Customers without a pinned profile are billed through it."
    )

    supplier_name = StringField("Supplier name", description="The billing party named on invoices.")
    supplier_tax_code = StringField("Tax id", description="Up to 32 characters. Optional.")
    supplier_country = SelectField("Country", choices=_country_choices, validate_choice=False)
    supplier_line1 = StringField("Address line 1")
    supplier_line2 = StringField("Address line 2")
    supplier_city = StringField("City")
    supplier_postal_code = StringField("Postal code")
    supplier_state = StringField("State or region")
    supplier_phone_number = StringField("Phone number", render_kw={"type": "tel"})

    alignment = SelectField(
        "Alignment",
        choices=[
            SelectChoice("subscription", "Subscription: with each subscription's billing cycle"),
            SelectChoice("anchored", "Anchored"),
        ],
        validate_choice=False,
    )
    period_interval = SelectField(
        "Anchored period",
        choices=[
            SelectChoice("", "Choose a period"),
            SelectChoice("DAY", "Daily"),
            SelectChoice("WEEK", "Weekly"),
            SelectChoice("MONTH", "Monthly"),
            SelectChoice("YEAR", "Yearly"),
        ],
        validate_choice=False,
        description="Anchored alignment only.",
    )
    period_anchor = StringField(
        "Anchor", description="Anchored alignment only: a date and time with offset, e.g. 2025-01-01T00:00:00Z."
    )
    collection_interval_amount = StringField("Collection interval", render_kw={"inputmode": "numeric"})
    collection_interval_unit = SelectField("Unit", choices=UNIT_CHOICES, default="hours", validate_choice=False)

    auto_advance = BooleanField("Advance invoices automatically", default=True)
    draft_period_amount = StringField("Draft period", render_kw={"inputmode": "numeric"})
    draft_period_unit = SelectField("Unit", choices=UNIT_CHOICES, default="days", validate_choice=False)
    due_after_amount = StringField("Due after", render_kw={"inputmode": "numeric"})
    due_after_unit = SelectField("Unit", choices=UNIT_CHOICES, default="days", validate_choice=False)
    progressive_billing = BooleanField("Progressive billing", default=True)
    tax_behavior = SelectField(
        "Default tax behavior",
        choices=[
            SelectChoice("", "Not set"),
            SelectChoice("inclusive", "Inclusive: prices include tax"),
            SelectChoice("exclusive", "Exclusive"),
        ],
        validate_choice=False,
    )

    collection_method = SelectField(
        "Collection method",
        choices=[
            SelectChoice("charge_automatically", "Charge automatically"),
            SelectChoice("send_invoice", "Send invoice"),
        ],
        validate_choice=False,
    )

    tax_enabled = BooleanField("Calculate tax", default=True)
    tax_enforced = BooleanField("Enforce tax", description="Refuse to invoice when tax cannot be calculated.")

    app_id = SelectField(
        "App",
        choices=_app_choices,
        validate_choice=False,
        description="The installed app that taxes, invoices and collects payment. It cannot change later.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            for prefix in DURATIONS:
                amount = getattr(self, f"{prefix}_amount")
                if amount.data is None:  # a new profile: the rules' defaults
                    default = getattr(rules.Workflow(), DURATIONS[prefix][0])
                    amount.data, getattr(self, f"{prefix}_unit").data = from_iso(default)

    @classmethod
    def for_profile(cls, profile) -> "ProfileForm":
        data = {
            "name": profile.name,
            "description": profile.description or "",
            "default": profile.is_default,
            "supplier_name": profile.supplier_name,
            "supplier_tax_code": profile.supplier_tax_code or "",
            **{f"supplier_{attr}": getattr(profile, f"supplier_{attr}") or "" for attr in ADDRESS_FIELDS},
            "alignment": profile.collection_alignment,
            "period_interval": profile.collection_period_interval or "",
            "period_anchor": profile.collection_period_anchor.isoformat().replace("+00:00", "Z")
            if profile.collection_period_anchor
            else "",
            "auto_advance": profile.invoicing_auto_advance,
            "progressive_billing": profile.invoicing_progressive_billing,
            "tax_behavior": profile.invoicing_tax_behavior or "",
            "collection_method": profile.payment_collection_method,
            "tax_enabled": profile.tax_enabled,
            "tax_enforced": profile.tax_enforced,
            "app_id": profile.app_id,
            "version": str(profile.version),
        }
        for prefix, column in (
            ("collection_interval", profile.collection_interval),
            ("draft_period", profile.invoicing_draft_period),
            ("due_after", profile.invoicing_due_after),
        ):
            data[f"{prefix}_amount"], data[f"{prefix}_unit"] = from_iso(column)
        return cls(data=data)

    def _duration(self, prefix: str) -> str:
        """The ISO 8601 duration typed as a number and a unit; what was typed when it is not a number,
        so that the rules refuse it and say so beside the field."""
        amount = getattr(self, f"{prefix}_amount").data
        return to_iso(amount, getattr(self, f"{prefix}_unit").data) or (amount or "").strip() or ""

    def to_input(self, app_id: str | None = None) -> rules.ProfileInput:
        address = Address(**{attr: getattr(self, f"supplier_{attr}").data for attr in ADDRESS_FIELDS})
        workflow = rules.Workflow(
            alignment=self.alignment.data or "subscription",
            period_interval=self.period_interval.data or None,
            period_anchor=self.period_anchor.data or None,
            collection_interval=self._duration("collection_interval"),
            auto_advance=bool(self.auto_advance.data),
            draft_period=self._duration("draft_period"),
            due_after=self._duration("due_after"),
            progressive_billing=bool(self.progressive_billing.data),
            tax_behavior=self.tax_behavior.data or None,
            collection_method=self.collection_method.data or "charge_automatically",
            tax_enabled=bool(self.tax_enabled.data),
            tax_enforced=bool(self.tax_enforced.data),
        )
        app = app_id if app_id is not None else (self.app_id.data or None)
        return rules.ProfileInput(
            name=self.name.data or "",
            description=self.description.data,
            default=bool(self.default.data),
            supplier=rules.Supplier(
                name=self.supplier_name.data, tax_code=self.supplier_tax_code.data, addresses=[address]
            ),
            workflow=workflow,
            apps=rules.AppIds(app, app, app) if app else None,
        )

    def show_problem(self, problem) -> None:
        """As ProblemForm, but a duration the rules could not read was typed here as a number."""
        duration_paths = {api for _, api in DURATIONS.values()}
        for i, error in enumerate(problem.errors):
            if error.field in duration_paths and error.code == "invalid_duration":
                problem.errors[i] = FieldError(error.field, error.code, "Enter a whole number, e.g. 30, and a unit.")
        super().show_problem(problem)
