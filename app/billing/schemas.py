"""Billing's JSON shapes (OpenMeter's v1 billing profiles and customer overrides): parsed, serialised
and documented from here (see app/schemas.py).

A profile's workflow as written may leave out any part: what is left out (or null) keeps the default
that the rules give it (SPEC §3), which the document states from the rules' own `Workflow()`.
"""

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from app.apiutil import timestamp
from app.apps.schemas import App, app_of
from app.billing import rules
from app.billing.models import BillingProfile as BillingProfileRow
from app.billing.overrides import Effective
from app.common import DESCRIPTION_MAX, NAME_MAX, Page
from app.customers.schemas import METADATA, Address, Customer
from app.schemas import ID_PATTERN, Paginated, Shape, Timestamp, documented, left_out, text

_DEFAULTS = rules.Workflow()


def _required_by_the_rules(*names: str) -> ConfigDict:
    """A shape's config: the document lists `names` (JSON names) as required and never null, while the
    shape lets them be absent or null, so that the rules name what is missing inside them
    (`supplier.name`, `supplier.addresses[0].country`), with the console's message."""

    def state(schema: dict, _shape: Any) -> None:
        for name in names:
            field = schema["properties"][name]
            field.pop("default", None)
            if "anyOf" in field:
                branches = [b for b in field.pop("anyOf") if b.get("type") != "null"]
                field.update(branches[0] if len(branches) == 1 else {"anyOf": branches})
        schema["required"] = [*schema.get("required", []), *(n for n in names if n not in schema.get("required", []))]

    return ConfigDict(json_schema_extra=state)


def _defaulted(value: Any, **limits: Any) -> Any:
    """An optional field whose default (the rules' own) the document states, with the rules' `limits`."""
    return Field(default=value, json_schema_extra=documented(**limits).json_schema_extra)


# An ISO 8601 duration in ASCII digits (rules.duration_seconds reads it); its bounds are in words.
# Weeks stand alone (PnW), as ISO 8601 has them; numbers are kept to a size that cannot overflow.
_NUMBER = "[0-9]{1,6}(?:[.,][0-9]{1,6})?"
DURATION = {
    "maxLength": rules.DURATION_TEXT_MAX,
    "pattern": (
        f"^P(?:{_NUMBER}W|(?=[0-9T])(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}D)?"
        f"(?:T(?=[0-9])(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?)$"
    ),
    "description": "An ISO 8601 duration, at most P1Y.",
}


# ---------------------------------------------------------------------------------------------
# The supplier


class BillingPartyTaxIdentity(Shape):
    code: str | None = text(rules.TAX_CODE_MAX)


class BillingParty(Shape):
    """The supplier: a name and exactly one address, with a country."""

    model_config = _required_by_the_rules("name", "addresses")

    name: str | None = text(NAME_MAX, min_length=1, kind="name")
    tax_id: BillingPartyTaxIdentity | None = None
    addresses: list[Address] | None = documented(
        minItems=1,
        maxItems=1,
        items={
            "allOf": [
                {"$ref": f"#/components/schemas/{Address.__name__}"},
                {"required": ["country"], "properties": {"country": {"type": "string"}}},
            ]
        },
    )

    def to_input(self) -> rules.Supplier:
        return rules.Supplier(
            name=self.name,
            tax_code=self.tax_id.code if self.tax_id else None,
            addresses=[a.to_input() for a in self.addresses or []],
        )

    @classmethod
    def of(cls, profile: BillingProfileRow) -> "BillingParty":
        code = profile.supplier_tax_code
        return cls(
            name=profile.supplier_name,
            tax_id=BillingPartyTaxIdentity(code=code) if code else None,
            addresses=[Address.of(profile, "supplier_") or Address()],
        )


# ---------------------------------------------------------------------------------------------
# The workflow


class RecurringPeriod(Shape):
    interval: str = documented(
        required=True,
        anyOf=[
            {"enum": list(rules.PERIOD_UNITS)},
            {**DURATION, "description": "An ISO 8601 duration, longer than zero, at most P1Y."},
        ],
    )
    anchor: str = documented(required=True, format="date-time")


class BillingWorkflowCollectionAlignmentSubscription(Shape):
    """Invoices follow each subscription's billing cadence."""

    type: Literal["subscription"]


class BillingWorkflowCollectionAlignmentAnchored(Shape):
    """Invoices follow one recurring period, from its anchor."""

    model_config = _required_by_the_rules("recurringPeriod")

    type: Literal["anchored"]
    recurring_period: RecurringPeriod | None = None


BillingWorkflowCollectionAlignment = TypeAliasType(
    "BillingWorkflowCollectionAlignment",
    Annotated[
        BillingWorkflowCollectionAlignmentSubscription | BillingWorkflowCollectionAlignmentAnchored,
        Field(discriminator="type"),
    ],
)
_SUBSCRIPTION = BillingWorkflowCollectionAlignmentSubscription(type="subscription")


class BillingWorkflowCollectionSettings(Shape):
    alignment: BillingWorkflowCollectionAlignment | None = _SUBSCRIPTION
    interval: str | None = _defaulted(
        _DEFAULTS.collection_interval, **{**DURATION, "description": "Longer than zero, at most P1Y."}
    )

    def given(self) -> dict:
        given = {"collection_interval": self.interval}
        if isinstance(self.alignment, BillingWorkflowCollectionAlignmentAnchored):
            period = self.alignment.recurring_period
            given |= {
                "alignment": "anchored",
                "period_interval": period.interval if period else None,
                "period_anchor": period.anchor if period else None,
            }
        elif self.alignment is not None:
            given["alignment"] = self.alignment.type
        return given


class BillingTaxConfig(Shape):
    behavior: str | None = documented(enum=list(rules.TAX_BEHAVIORS))


class BillingWorkflowInvoicingSettings(Shape):
    auto_advance: bool | None = _DEFAULTS.auto_advance
    draft_period: str | None = _defaulted(_DEFAULTS.draft_period, **DURATION)
    due_after: str | None = _defaulted(_DEFAULTS.due_after, **DURATION)
    progressive_billing: bool | None = _DEFAULTS.progressive_billing
    default_tax_config: BillingTaxConfig | None = None

    def given(self) -> dict:
        return {
            "auto_advance": self.auto_advance,
            "draft_period": self.draft_period,
            "due_after": self.due_after,
            "progressive_billing": self.progressive_billing,
            "tax_behavior": self.default_tax_config.behavior if self.default_tax_config else None,
        }


class BillingWorkflowPaymentSettings(Shape):
    collection_method: str | None = _defaulted(_DEFAULTS.collection_method, enum=list(rules.COLLECTION_METHODS))

    def given(self) -> dict:
        return {"collection_method": self.collection_method}


class BillingWorkflowTaxSettings(Shape):
    enabled: bool | None = _DEFAULTS.tax_enabled
    enforced: bool | None = Field(default=_DEFAULTS.tax_enforced, description="Requires `enabled`.")

    def given(self) -> dict:
        return {"tax_enabled": self.enabled, "tax_enforced": self.enforced}


class BillingWorkflow(Shape):
    """How a profile's invoices are made: as written, any part may be left out (or null) for its defaults;
    as read, every part is there."""

    collection: BillingWorkflowCollectionSettings | None = None
    invoicing: BillingWorkflowInvoicingSettings | None = None
    payment: BillingWorkflowPaymentSettings | None = None
    tax: BillingWorkflowTaxSettings | None = None

    def to_input(self) -> rules.Workflow:
        given: dict = {}
        for part in (self.collection, self.invoicing, self.payment, self.tax):
            if part is not None:
                given |= part.given()
        return rules.Workflow(**{k: v for k, v in given.items() if v is not None})

    @classmethod
    def of(cls, profile: BillingProfileRow) -> "BillingWorkflow":
        return _workflow(
            profile.collection_alignment,
            profile.collection_period_interval,
            profile.collection_period_anchor,
            profile.collection_interval,
            profile.invoicing_auto_advance,
            profile.invoicing_draft_period,
            profile.invoicing_due_after,
            profile.invoicing_progressive_billing,
            profile.invoicing_tax_behavior,
            profile.payment_collection_method,
            profile.tax_enabled,
            profile.tax_enforced,
        )


@lru_cache(maxsize=1024)
def _workflow(
    alignment: str,
    period_interval: str | None,
    period_anchor: datetime | None,
    interval: str,
    auto_advance: bool,
    draft_period: str,
    due_after: str,
    progressive_billing: bool,
    tax_behavior: str | None,
    collection_method: str,
    tax_enabled: bool,
    tax_enforced: bool,
) -> BillingWorkflow:
    """A workflow as read, made once for each set of values: most profiles share one (often the defaults),
    and a page of them is answered often. Shapes are never changed once made, so sharing one is safe."""
    if alignment == "anchored":
        period = RecurringPeriod(interval=period_interval, anchor=timestamp(period_anchor))
        collection_alignment = BillingWorkflowCollectionAlignmentAnchored(type="anchored", recurring_period=period)
    else:
        collection_alignment = _SUBSCRIPTION
    return BillingWorkflow(
        collection=BillingWorkflowCollectionSettings(alignment=collection_alignment, interval=interval),
        invoicing=BillingWorkflowInvoicingSettings(
            auto_advance=auto_advance,
            draft_period=draft_period,
            due_after=due_after,
            progressive_billing=progressive_billing,
            default_tax_config=BillingTaxConfig(behavior=tax_behavior) if tax_behavior else None,
        ),
        payment=BillingWorkflowPaymentSettings(collection_method=collection_method),
        tax=BillingWorkflowTaxSettings(enabled=tax_enabled, enforced=tax_enforced),
    )


# ---------------------------------------------------------------------------------------------
# The apps (SPEC §3: one installed app in all three roles)


class AppReference(Shape):
    id: str = documented(required=True, pattern=ID_PATTERN)


def _id_of(value: Any) -> Any:
    """An app written as GET answers it (`{"id": …, …}`) is named by its id."""
    return value.get("id") if isinstance(value, dict) else value


# An app's id, or the app as GET answers it, so that a profile read, edited and put back works.
AppIdInput = Annotated[
    str, BeforeValidator(_id_of, json_schema_input_type=Annotated[str, Field(pattern=ID_PATTERN)] | AppReference)
]


class BillingProfileAppsCreate(Shape):
    """The app of each role: the same installed app in all three."""

    model_config = _required_by_the_rules(*rules.APP_ROLES)

    tax: AppIdInput | None = None
    invoicing: AppIdInput | None = None
    payment: AppIdInput | None = None

    def to_input(self) -> rules.AppIds:
        return rules.AppIds(tax=self.tax, invoicing=self.invoicing, payment=self.payment)


class BillingProfileAppReferences(Shape):
    tax: AppReference
    invoicing: AppReference
    payment: AppReference


class BillingProfileApps(Shape):
    """With `expand=apps`: the apps themselves."""

    tax: App
    invoicing: App
    payment: App


def _apps_of(
    profile: BillingProfileRow, expand: bool, made: dict | None = None
) -> BillingProfileAppReferences | BillingProfileApps:
    """The profile's apps; `made` keeps the apps made by id, for a page of profiles that share a few apps."""
    if expand:
        apps = made.get(profile.app_id) if made is not None else None
        if apps is None:
            app = app_of(profile.app)
            apps = BillingProfileApps(tax=app, invoicing=app, payment=app)
            if made is not None:
                made[profile.app_id] = apps
        return apps
    ref = AppReference(id=profile.app_id)
    return BillingProfileAppReferences(tax=ref, invoicing=ref, payment=ref)


# ---------------------------------------------------------------------------------------------
# Billing profiles


class BillingProfileReplaceUpdateWithWorkflow(Shape):
    """A profile as PUT replaces it: omitted optional fields are cleared. Its apps cannot change: when
    given (as GET answers them, for instance), they must be its own."""

    model_config = _required_by_the_rules("supplier")

    name: str = text(NAME_MAX, required=True, min_length=1, kind="name")
    description: str | None = text(DESCRIPTION_MAX, kind="multiline")
    metadata: dict[str, str] | None = METADATA
    default: bool | None = Field(
        default=False,
        description="true makes this the default and demotes the old one; the default cannot be set to false.",
    )
    supplier: BillingParty | None = None
    workflow: BillingWorkflow | None = None
    apps: BillingProfileAppsCreate | None = None

    def to_input(self) -> rules.ProfileInput:
        return rules.ProfileInput(
            name=self.name,
            description=self.description,
            metadata=dict(self.metadata or {}),
            default=bool(self.default),
            supplier=self.supplier.to_input() if self.supplier else rules.Supplier(),
            workflow=self.workflow.to_input() if self.workflow else rules.Workflow(),
            apps=self.apps.to_input() if self.apps else None,
        )


class BillingProfileCreate(BillingProfileReplaceUpdateWithWorkflow):
    """A new profile (POST)."""

    apps: BillingProfileAppsCreate


class BillingProfile(BillingProfileReplaceUpdateWithWorkflow):
    """A billing profile as read; `apps` are the whole apps with `expand=apps`, else their ids."""

    id: str = documented(required=True, pattern=ID_PATTERN)
    description: str | SkipJsonSchema[None] = left_out(text(DESCRIPTION_MAX, kind="multiline"))
    metadata: dict[str, str] | SkipJsonSchema[None] = left_out(METADATA)
    default: bool
    supplier: BillingParty
    workflow: BillingWorkflow
    apps: BillingProfileAppReferences | BillingProfileApps
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | SkipJsonSchema[None] = left_out()

    @classmethod
    def of(cls, profile: BillingProfileRow, expand_apps: bool = False, apps: dict | None = None) -> "BillingProfile":
        return cls(
            id=profile.id,
            name=profile.name,
            description=profile.description,
            metadata=profile.metadata_ or None,
            default=profile.is_default,
            supplier=BillingParty.of(profile),
            workflow=BillingWorkflow.of(profile),
            apps=_apps_of(profile, expand_apps, apps),
            created_at=profile.created_at,
            updated_at=profile.updated_at,
            deleted_at=profile.deleted_at,
        )


class BillingProfilePaginatedResponse(Paginated[BillingProfile]):
    @classmethod
    def of_profiles(cls, page: Page, expand_apps: bool) -> "BillingProfilePaginatedResponse":
        """A page of profiles; each app (with `expand=apps`) is made once."""
        apps: dict = {}
        return cls.of(page, [BillingProfile.of(p, expand_apps, apps) for p in page.items])


# ---------------------------------------------------------------------------------------------
# Customer overrides (SPEC §3)


class BillingProfileCustomerOverrideCreate(Shape):
    """Pin a customer to a profile; without billingProfileId, to whichever profile is the default."""

    billing_profile_id: str | None = documented(pattern=ID_PATTERN)


class BillingProfileCustomerOverride(Shape):
    customer_id: str = documented(required=True, pattern=ID_PATTERN)
    billing_profile_id: str | SkipJsonSchema[None] = left_out(
        pattern=ID_PATTERN, description="Absent: the customer follows the default profile."
    )
    created_at: Timestamp
    updated_at: Timestamp


class BillingCustomerProfile(Shape):
    """The effective profile's supplier, workflow and apps."""

    supplier: BillingParty
    workflow: BillingWorkflow
    apps: BillingProfileAppReferences | BillingProfileApps


class CustomerOverride(Shape):
    """A customer's billing: its override (when it has one) and the profile that bills it."""

    # Left out only while no live default profile exists (before the first start has made one).
    base_billing_profile_id: str | SkipJsonSchema[None] = documented(
        required=True, pattern=ID_PATTERN, description="The pinned profile, or the current default when none is."
    )
    customer_override: BillingProfileCustomerOverride | SkipJsonSchema[None] = left_out(
        description="Absent while the customer has no override (it follows the default)."
    )
    customer_profile: BillingCustomerProfile | SkipJsonSchema[None] = left_out()
    customer: Customer | SkipJsonSchema[None] = left_out(description="With `expand=customer`.")

    @classmethod
    def of(
        cls, e: Effective, expand_apps: bool = False, expand_customer: bool = False, profiles: dict | None = None
    ) -> "CustomerOverride":
        """`profiles` keeps each profile's part by id, for a page of customers that share a few profiles."""
        override = None
        if e.override is not None:
            override = BillingProfileCustomerOverride(
                customer_id=e.customer.id,
                billing_profile_id=e.override.billing_profile_id,
                created_at=e.override.created_at,
                updated_at=e.override.updated_at,
            )
        profile = None
        if e.profile is not None:
            profile = profiles.get(e.profile.id) if profiles is not None else None
            if profile is None:
                profile = BillingCustomerProfile(
                    supplier=BillingParty.of(e.profile),
                    workflow=BillingWorkflow.of(e.profile),
                    apps=_apps_of(e.profile, expand_apps),
                )
                if profiles is not None:
                    profiles[e.profile.id] = profile
        return cls(
            base_billing_profile_id=e.profile.id if e.profile else None,
            customer_override=override,
            customer_profile=profile,
            customer=Customer.of(e.customer) if expand_customer else None,
        )

    @classmethod
    def many(cls, effectives: list[Effective], expand_apps: bool, expand_customer: bool) -> list["CustomerOverride"]:
        """A page of customers' billing; each profile's part is made once."""
        profiles: dict[str, BillingCustomerProfile] = {}
        return [cls.of(e, expand_apps, expand_customer, profiles) for e in effectives]


class CustomerOverridePaginatedResponse(Paginated[CustomerOverride]):
    pass


SHAPES = (
    BillingProfile,
    BillingProfileCreate,
    BillingProfileReplaceUpdateWithWorkflow,
    BillingProfilePaginatedResponse,
    BillingProfileCustomerOverrideCreate,
    CustomerOverride,
    CustomerOverridePaginatedResponse,
)
