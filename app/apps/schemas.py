"""The apps' JSON shapes (OpenMeter's v1 apps, marketplace listings and customer app data): parsed,
serialised and documented from here (see app/schemas.py).

An app, and a customer's data in one, has one shape per app type, told apart by `type`: a tagged
union, which the document states as `oneOf` with a `discriminator` mapping each type to its shape.
"""

from typing import Annotated, Literal

from pydantic import Field, RootModel
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from app.apps import customer_data, rules
from app.apps.models import CustomerAppData as CustomerAppDataRow
from app.apps.models import InstalledApp
from app.common import DESCRIPTION_MAX, NAME_MAX, Page
from app.customers.schemas import METADATA
from app.schemas import ID_PATTERN, Paginated, Shape, Timestamp, documented, left_out, text

AppType = Literal[tuple(rules.LISTINGS)]
CapabilityType = Literal[("reportUsage", "reportEvents", *rules.BILLING_CAPABILITIES)]
BillingCapabilityType = Literal[rules.BILLING_CAPABILITIES]
InstallMethod = Literal[("with_oauth2", rules.WITH_API_KEY, rules.NO_CREDENTIALS)]


_STRIPE_KEY = {
    "pattern": f"^{rules.STRIPE_KEY.pattern}$",
    "writeOnly": True,
    "description": "A Stripe secret or restricted key. Stored, never shown again.",
}


# ---------------------------------------------------------------------------------------------
# The marketplace


class AppCapability(Shape):
    type: CapabilityType
    key: str
    name: str
    description: str


class MarketplaceListing(Shape):
    """An app type that can be installed."""

    type: AppType
    name: str
    description: str
    capabilities: list[AppCapability]
    install_methods: list[InstallMethod]

    @classmethod
    def of(cls, listing: rules.Listing) -> "MarketplaceListing":
        return cls(
            type=listing.type,
            name=listing.name,
            description=listing.description,
            capabilities=[
                AppCapability(type=c.type, key=c.key, name=c.name, description=c.description)
                for c in listing.capabilities
            ],
            install_methods=list(listing.install_methods),
        )


# The listings are fixed data: made into shapes once.
LISTINGS = {app_type: MarketplaceListing.of(listing) for app_type, listing in rules.LISTINGS.items()}


class MarketplaceListingPaginatedResponse(Paginated[MarketplaceListing]):
    @classmethod
    def page_of_all(cls, page: int, page_size: int) -> "MarketplaceListingPaginatedResponse":
        listings = list(LISTINGS.values())
        shown = listings[(page - 1) * page_size : page * page_size]
        return cls.of(Page(shown, len(listings), page, page_size), shown)


class MarketplaceInstallRequestPayload(Shape):
    """Installing an app that needs no credentials. Every field is optional, and so is the body."""

    name: str | None = text(NAME_MAX, description="Defaults to the listing's name.")
    create_billing_profile: bool | None = Field(
        default=True,
        description="Also create a billing profile on the new app. A Stripe app's profile becomes the default "
        "when the current default bills through a sandbox app.",
    )


class MarketplaceApiKeyInstallRequestPayload(MarketplaceInstallRequestPayload):
    """Installing an app with an API key (Stripe)."""

    api_key: str = documented(required=True, **_STRIPE_KEY)


# ---------------------------------------------------------------------------------------------
# Installed apps, as written (PUT replaces one)


class _AppReplaceUpdate(Shape):
    """What every app type's replace has. Another type's settings are ignored, but their form is checked
    as on any app (a 400 names them); the document shows each type its own."""

    name: str = text(NAME_MAX, required=True, min_length=1, kind="name")
    description: str | None = text(DESCRIPTION_MAX, kind="multiline")
    metadata: dict[str, str] | None = METADATA
    secret_api_key: SkipJsonSchema[str | None] = Field(default=None, alias="secretAPIKey")
    enable_draft_sync_hook: SkipJsonSchema[bool | None] = None
    enable_issuing_sync_hook: SkipJsonSchema[bool | None] = None

    def to_input(self) -> rules.AppInput:
        return rules.AppInput(
            type=self.type,
            name=self.name,
            description=self.description,
            metadata=dict(self.metadata or {}),
            secret_api_key=self.secret_api_key,
            enable_draft_sync_hook=bool(self.enable_draft_sync_hook),
            enable_issuing_sync_hook=bool(self.enable_issuing_sync_hook),
        )


class SandboxAppReplaceUpdate(_AppReplaceUpdate):
    type: Literal["sandbox"]


class StripeAppReplaceUpdate(_AppReplaceUpdate):
    type: Literal["stripe"]
    secret_api_key: Annotated[str | None, Field(alias="secretAPIKey")] = documented(
        **{**_STRIPE_KEY, "description": "A new key of the same mode (test or live); without it the key stays."}
    )


class CustomInvoicingAppReplaceUpdate(_AppReplaceUpdate):
    type: Literal["custom_invoicing"]
    enable_draft_sync_hook: bool | None = False
    enable_issuing_sync_hook: bool | None = False


class AppReplaceUpdate(
    RootModel[
        Annotated[
            SandboxAppReplaceUpdate | StripeAppReplaceUpdate | CustomInvoicingAppReplaceUpdate,
            Field(discriminator="type"),
        ]
    ]
):
    """An app as written, in the shape of its type; `type` must be the app's own."""

    def to_input(self) -> rules.AppInput:
        return self.root.to_input()


# ---------------------------------------------------------------------------------------------
# Installed apps, as read


class _App(Shape):
    """What every app type has when read (never its secret key)."""

    id: str = documented(required=True, pattern=ID_PATTERN)
    name: str = text(NAME_MAX, required=True, min_length=1, kind="name")
    description: str | SkipJsonSchema[None] = left_out(text(DESCRIPTION_MAX, kind="multiline"))
    metadata: dict[str, str] | SkipJsonSchema[None] = left_out(METADATA)
    status: Literal["ready", "unauthorized"]
    listing: MarketplaceListing
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | SkipJsonSchema[None] = left_out()

    @staticmethod
    def _fields(app: InstalledApp) -> dict:
        return {
            "id": app.id,
            "type": app.type,
            "name": app.name,
            "description": app.description,
            "metadata": app.metadata_ or None,
            "status": app.status,
            "listing": LISTINGS[app.type],
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "deleted_at": app.deleted_at,
        }


class SandboxApp(_App):
    type: Literal["sandbox"]

    @classmethod
    def of(cls, app: InstalledApp) -> "SandboxApp":
        return cls(**cls._fields(app))


class StripeApp(_App):
    """A Stripe app. The key itself never appears: only `maskedAPIKey`. (OpenMeter also has
    `stripeAccountId`, which only Stripe can tell; this system never calls Stripe, so it is left out.)"""

    type: Literal["stripe"]
    livemode: bool = Field(description="From the key's prefix: sk_live_/rk_live_.")
    masked_api_key: str = Field(
        alias="maskedAPIKey",
        pattern=r"^(sk|rk)_(test|live)_\*\*\*[0-9A-Za-z]{3}$",
        description="The first 8 and last 3 characters of the key.",
    )

    @classmethod
    def of(cls, app: InstalledApp) -> "StripeApp":
        return cls(**cls._fields(app), livemode=app.stripe_livemode, masked_api_key=app.masked_api_key)


class CustomInvoicingApp(_App):
    type: Literal["custom_invoicing"]
    enable_draft_sync_hook: bool
    enable_issuing_sync_hook: bool

    @classmethod
    def of(cls, app: InstalledApp) -> "CustomInvoicingApp":
        return cls(
            **cls._fields(app),
            enable_draft_sync_hook=bool(app.enable_draft_sync_hook),
            enable_issuing_sync_hook=bool(app.enable_issuing_sync_hook),
        )


App = TypeAliasType("App", Annotated[SandboxApp | StripeApp | CustomInvoicingApp, Field(discriminator="type")])

_APPS = {"sandbox": SandboxApp, "stripe": StripeApp, "custom_invoicing": CustomInvoicingApp}


def app_of(app: InstalledApp) -> SandboxApp | StripeApp | CustomInvoicingApp:
    """The app in the shape of its type."""
    return _APPS[app.type].of(app)


class AppPaginatedResponse(Paginated[App]):
    pass


class MarketplaceInstallResponse(Shape):
    app: App
    default_for_capability_types: list[BillingCapabilityType] = Field(
        description="The capabilities the new app is now the default for (its profile became the default billing "
        "profile), or none."
    )


# ---------------------------------------------------------------------------------------------
# Customer app data (SPEC §2), as written: one item per app, in the shape of the app's type


class _CustomerAppDataInput(Shape):
    id: str | None = documented(
        pattern=ID_PATTERN,
        description="The app's id; without it, the app of this type in the customer's billing profile.",
    )

    def to_input(self, **data) -> customer_data.AppDataInput:
        return customer_data.AppDataInput(type=self.type, app_id=self.id, **data)


class SandboxCustomerAppDataInput(_CustomerAppDataInput):
    type: Literal["sandbox"]


_PAYMENT_METHOD_ID = {"pattern": f"^{customer_data.STRIPE_PAYMENT_METHOD_ID.pattern}$"}


class StripeCustomerAppDataBase(Shape):
    """A customer's Stripe ids (the body of PUT …/stripe, which names no app: the profile's is meant)."""

    stripe_customer_id: str = documented(required=True, pattern=f"^{customer_data.STRIPE_CUSTOMER_ID.pattern}$")
    stripe_default_payment_method_id: str | None = documented(**_PAYMENT_METHOD_ID)

    def to_input(self, app_id: str | None = None) -> customer_data.AppDataInput:
        return customer_data.AppDataInput(
            type="stripe",
            app_id=app_id,
            stripe_customer_id=self.stripe_customer_id,
            stripe_default_payment_method_id=self.stripe_default_payment_method_id,
        )


class StripeCustomerAppDataInput(_CustomerAppDataInput, StripeCustomerAppDataBase):
    type: Literal["stripe"]

    def to_input(self) -> customer_data.AppDataInput:
        return StripeCustomerAppDataBase.to_input(self, self.id)


class CustomInvoicingCustomerAppDataInput(_CustomerAppDataInput):
    type: Literal["custom_invoicing"]
    metadata: dict[str, str] | None = METADATA

    def to_input(self) -> customer_data.AppDataInput:
        return super().to_input(metadata=dict(self.metadata or {}))


CustomerAppDataInput = TypeAliasType(
    "CustomerAppDataInput",
    Annotated[
        SandboxCustomerAppDataInput | StripeCustomerAppDataInput | CustomInvoicingCustomerAppDataInput,
        Field(discriminator="type"),
    ],
)


class CustomerAppDataInputList(RootModel[list[CustomerAppDataInput]]):
    """The body of PUT /customers/{customerIdOrKey}/apps: the data of some apps (the others keep theirs)."""

    def to_input(self) -> list[customer_data.AppDataInput]:
        return [item.to_input() for item in self.root]


# ---------------------------------------------------------------------------------------------
# Customer app data, as read


class _CustomerAppData(Shape):
    id: str = documented(required=True, pattern=ID_PATTERN, description="The app's id.")
    app: App


class SandboxCustomerAppData(_CustomerAppData, SandboxCustomerAppDataInput):
    @classmethod
    def of(cls, row: CustomerAppDataRow) -> "SandboxCustomerAppData":
        return cls(id=row.app_id, type=row.type, app=app_of(row.app))


class StripeCustomerAppData(_CustomerAppData, StripeCustomerAppDataInput):
    stripe_default_payment_method_id: str | SkipJsonSchema[None] = left_out(**_PAYMENT_METHOD_ID)

    @classmethod
    def of(cls, row: CustomerAppDataRow) -> "StripeCustomerAppData":
        return cls(
            id=row.app_id,
            type=row.type,
            app=app_of(row.app),
            stripe_customer_id=row.stripe_customer_id,
            stripe_default_payment_method_id=row.stripe_default_payment_method_id,
        )


class CustomInvoicingCustomerAppData(_CustomerAppData, CustomInvoicingCustomerAppDataInput):
    metadata: dict[str, str] | SkipJsonSchema[None] = left_out(METADATA)

    @classmethod
    def of(cls, row: CustomerAppDataRow) -> "CustomInvoicingCustomerAppData":
        return cls(id=row.app_id, type=row.type, app=app_of(row.app), metadata=row.metadata_ or None)


CustomerAppData = TypeAliasType(
    "CustomerAppData",
    Annotated[
        SandboxCustomerAppData | StripeCustomerAppData | CustomInvoicingCustomerAppData, Field(discriminator="type")
    ],
)

_CUSTOMER_APP_DATA = {
    "sandbox": SandboxCustomerAppData,
    "stripe": StripeCustomerAppData,
    "custom_invoicing": CustomInvoicingCustomerAppData,
}


def customer_app_data_of(
    row: CustomerAppDataRow,
) -> SandboxCustomerAppData | StripeCustomerAppData | CustomInvoicingCustomerAppData:
    """A customer's data in one app, in the shape of the app's type."""
    return _CUSTOMER_APP_DATA[row.type].of(row)


class CustomerAppDataList(RootModel[list[CustomerAppData]]):
    """The answer of PUT /customers/{customerIdOrKey}/apps: the data of the apps it set."""


class CustomerAppDataPaginatedResponse(Paginated[CustomerAppData]):
    pass


# App and CustomerAppData (type aliases, not models) come with the shapes that hold them.
SHAPES = (
    AppReplaceUpdate,
    AppPaginatedResponse,
    MarketplaceListing,
    MarketplaceListingPaginatedResponse,
    MarketplaceInstallRequestPayload,
    MarketplaceApiKeyInstallRequestPayload,
    MarketplaceInstallResponse,
    CustomerAppDataInputList,
    CustomerAppDataList,
    CustomerAppDataPaginatedResponse,
    StripeCustomerAppDataBase,
)
