"""The apps and marketplace part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.apps import rules
from app.common import DESCRIPTION_MAX, MAX_PAGE_SIZE, NAME_MAX
from app.meta.openapi_parts import ERRORS, PAGE, STRING_MAP, conditional, json_response, paginated, problem, ref, tagged

ID = {"type": "string", "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}$", "description": "A ULID."}
TIMESTAMP = {"type": "string", "format": "date-time"}


def query(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    return param


PAGING = [
    PAGE,
    query("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 100}),
]


def _path_param(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


APP_ID = _path_param("id", "The app's id.")
APP_TYPE = _path_param("type", "The app type.", {"type": "string", "enum": list(rules.LISTINGS)})

_COMMON_INPUT = {
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
    "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
    "metadata": STRING_MAP,
}


def _app_schema(app_type: str, extra: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "required": ["id", "type", "name", "status", "listing", "createdAt", "updatedAt", *required],
        "properties": {
            "id": ID,
            "type": {"const": app_type},
            **_COMMON_INPUT,
            "status": {"type": "string", "enum": ["ready", "unauthorized"]},
            "listing": ref("MarketplaceListing"),
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "deletedAt": TIMESTAMP,
            **extra,
        },
    }


def _update_schema(app_type: str, extra: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "name"],
        "properties": {"type": {"const": app_type}, **_COMMON_INPUT, **extra},
    }


_STRIPE_KEY = {
    "type": "string",
    "pattern": "^(sk|rk)_(test|live)_[0-9A-Za-z]{10,240}$",
    "writeOnly": True,
    "description": "A Stripe secret or restricted key. Stored, never shown again.",
}
_HOOKS = {"enableDraftSyncHook": {"type": "boolean"}, "enableIssuingSyncHook": {"type": "boolean"}}
_INSTALL_PAYLOAD = {
    "name": {"type": "string", "maxLength": NAME_MAX, "description": "Defaults to the listing's name."},
    "createBillingProfile": {
        "type": "boolean",
        "default": True,
        "description": "Also create a billing profile on the new app. A Stripe app's profile becomes the "
        "default when the current default bills through a sandbox app.",
    },
}
_INSTALL_RESPONSES = {
    "200": json_response(ref("MarketplaceInstallResponse"), "The installed app."),
    **ERRORS,
    "404": problem("The marketplace has no such app type."),
}


PATHS = {
    "/api/v1/apps": {
        "get": {
            "operationId": "listApps",
            "summary": "List installed apps (uninstalled ones are left out)",
            "parameters": PAGING,
            "responses": {"200": json_response(ref("AppPaginatedResponse"), "A page of apps."), **ERRORS},
        }
    },
    "/api/v1/apps/{id}": {
        "parameters": [APP_ID],
        "get": {
            "operationId": "getApp",
            "summary": "Get an app, installed or uninstalled",
            "responses": {
                "200": tagged(json_response(ref("App"), "The app.")),
                **ERRORS,
                "404": problem("No such app."),
            },
        },
        "put": conditional(
            {
                "operationId": "updateApp",
                "summary": "Replace an app's name, description, metadata and settings",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("AppReplaceUpdate")}}},
                "responses": {
                    "200": tagged(json_response(ref("App"), "The app as replaced.")),
                    **ERRORS,
                    "404": problem("No such app."),
                    "412": problem("The app is uninstalled."),
                },
            }
        ),
        "delete": conditional(
            {
                "operationId": "uninstallApp",
                "summary": "Uninstall (soft-delete) an app",
                "responses": {
                    "204": {"description": "Uninstalled."},
                    **ERRORS,
                    "404": problem("No such app."),
                    "409": problem("Live billing profiles use the app; they are named."),
                    "412": problem("The app is already uninstalled."),
                },
            }
        ),
    },
    "/api/v1/marketplace/listings": {
        "get": {
            "operationId": "listMarketplaceListings",
            "summary": "List the app types that can be installed",
            "parameters": PAGING,
            "responses": {
                "200": json_response(ref("MarketplaceListingPaginatedResponse"), "A page of listings."),
                **ERRORS,
            },
        }
    },
    "/api/v1/marketplace/listings/{type}": {
        "parameters": [APP_TYPE],
        "get": {
            "operationId": "getMarketplaceListing",
            "summary": "Get one app type's listing",
            "responses": {
                "200": json_response(ref("MarketplaceListing"), "The listing."),
                **ERRORS,
                "404": problem("No such app type."),
            },
        },
    },
    "/api/v1/marketplace/listings/{type}/install": {
        "parameters": [APP_TYPE],
        "post": {
            "operationId": "marketplaceAppInstall",
            "summary": "Install an app that needs no credentials (sandbox, custom_invoicing)",
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": ref("MarketplaceInstallRequestPayload")}},
            },
            "responses": _INSTALL_RESPONSES,
        },
    },
    "/api/v1/marketplace/listings/{type}/install/apikey": {
        "parameters": [APP_TYPE],
        "post": {
            "operationId": "marketplaceAppAPIKeyInstall",
            "summary": "Install an app with an API key (stripe)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("MarketplaceApiKeyInstallRequestPayload")}},
            },
            "responses": _INSTALL_RESPONSES,
        },
    },
}

SCHEMAS = {
    "App": {
        "oneOf": [ref("SandboxApp"), ref("StripeApp"), ref("CustomInvoicingApp")],
        "discriminator": {"propertyName": "type"},
    },
    "SandboxApp": _app_schema("sandbox", {}, []),
    "StripeApp": _app_schema(
        "stripe",
        {
            "livemode": {"type": "boolean", "description": "From the key's prefix: sk_live_/rk_live_."},
            "maskedAPIKey": {
                "type": "string",
                "description": "The first 8 and last 3 characters of the key.",
                "pattern": r"^(sk|rk)_(test|live)_\*\*\*[0-9A-Za-z]{3}$",
            },
        },
        ["livemode", "maskedAPIKey"],
    ),
    "CustomInvoicingApp": _app_schema("custom_invoicing", _HOOKS, list(_HOOKS)),
    "AppReplaceUpdate": {
        "oneOf": [
            ref("SandboxAppReplaceUpdate"),
            ref("StripeAppReplaceUpdate"),
            ref("CustomInvoicingAppReplaceUpdate"),
        ],
        "discriminator": {"propertyName": "type"},
    },
    "SandboxAppReplaceUpdate": _update_schema("sandbox", {}),
    "StripeAppReplaceUpdate": _update_schema("stripe", {"secretAPIKey": _STRIPE_KEY}),
    "CustomInvoicingAppReplaceUpdate": _update_schema("custom_invoicing", _HOOKS),
    "AppPaginatedResponse": paginated("App"),
    "AppCapability": {
        "type": "object",
        "required": ["type", "key", "name", "description"],
        "properties": {
            "type": {"type": "string", "enum": ["reportUsage", "reportEvents", *rules.BILLING_CAPABILITIES]},
            "key": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
        },
    },
    "MarketplaceListing": {
        "type": "object",
        "required": ["type", "name", "description", "capabilities", "installMethods"],
        "properties": {
            "type": {"type": "string", "enum": list(rules.LISTINGS)},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "capabilities": {"type": "array", "items": ref("AppCapability")},
            "installMethods": {
                "type": "array",
                "items": {"type": "string", "enum": ["with_oauth2", rules.WITH_API_KEY, rules.NO_CREDENTIALS]},
            },
        },
    },
    "MarketplaceListingPaginatedResponse": paginated("MarketplaceListing"),
    "MarketplaceInstallRequestPayload": {"type": "object", "properties": _INSTALL_PAYLOAD},
    "MarketplaceApiKeyInstallRequestPayload": {
        "type": "object",
        "required": ["apiKey"],
        "properties": {**_INSTALL_PAYLOAD, "apiKey": _STRIPE_KEY},
    },
    "MarketplaceInstallResponse": {
        "type": "object",
        "required": ["app", "defaultForCapabilityTypes"],
        "properties": {
            "app": ref("App"),
            "defaultForCapabilityTypes": {
                "type": "array",
                "items": {"type": "string", "enum": list(rules.BILLING_CAPABILITIES)},
                "description": "The capabilities the new app is now the default for (its profile became the "
                "default billing profile), or none.",
            },
        },
    },
}


# ---------------------------------------------------------------------------------------------
# Customer app data (SPEC §2)

CUSTOMER = _path_param("customerIdOrKey", "The customer's id, or the key of a live customer.", {"type": "string"})
_STRIPE_DATA = {
    "stripeCustomerId": {"type": "string", "pattern": "^cus_[0-9A-Za-z]+$"},
    "stripeDefaultPaymentMethodId": {"type": "string", "pattern": "^pm_[0-9A-Za-z]+$"},
}
_APP_DATA_INPUT = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(rules.LISTINGS)},
        "id": {
            **ID,
            "description": "The app's id; without it, the app of this type in the customer's billing profile.",
        },
        **_STRIPE_DATA,
        "metadata": STRING_MAP,
    },
}
_APP_DATA = {
    **_APP_DATA_INPUT,
    "required": ["type", "id"],
    "properties": {**_APP_DATA_INPUT["properties"], "app": ref("App")},
}
_NO_CUSTOMER = problem("No such customer.")
_DELETED = problem("The customer is deleted, or its billing profile has no app of that type.")

PATHS |= {
    "/api/v1/customers/{customerIdOrKey}/apps": {
        "parameters": [CUSTOMER],
        "get": {
            "operationId": "listCustomerAppData",
            "summary": "A customer's data in the installed apps",
            "parameters": [*PAGING, query("type", {"type": "string", "enum": list(rules.LISTINGS)})],
            "responses": {
                "200": json_response(paginated("CustomerAppData"), "The data."),
                **ERRORS,
                "404": _NO_CUSTOMER,
            },
        },
        "put": conditional(
            {
                "operationId": "upsertCustomerAppData",
                "summary": "Set a customer's data in some apps (the others keep theirs)",
                "description": (
                    "With If-Match, name the version of the data in each app that an item changes, one ETag each "
                    '(`"<customer id>/apps/<app id>-<version>"`, as GET and PUT of /stripe answer it; version 0 '
                    "for data not made yet): an item whose data If-Match does not name is refused with 412."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": ref("CustomerAppDataInput")}}
                    },
                },
                "responses": {
                    "200": json_response({"type": "array", "items": ref("CustomerAppData")}, "The resulting data."),
                    **ERRORS,
                    "404": _NO_CUSTOMER,
                    "409": problem("Another customer has this Stripe customer id in this app; it is named."),
                    "412": _DELETED,
                },
            }
        ),
    },
    "/api/v1/customers/{customerIdOrKey}/apps/{appId}": {
        "parameters": [CUSTOMER, _path_param("appId", "The app's id.")],
        "delete": conditional(
            {
                "operationId": "deleteCustomerAppData",
                "summary": "Remove a customer's data in one app",
                "responses": {
                    "204": {"description": "Removed."},
                    **ERRORS,
                    "404": problem("No such customer, or no data in that app."),
                    "412": _DELETED,
                },
            }
        ),
    },
    "/api/v1/customers/{customerIdOrKey}/stripe": {
        "parameters": [CUSTOMER],
        "get": {
            "operationId": "getCustomerStripeAppData",
            "summary": "The customer's data in the Stripe app of its billing profile",
            "responses": {
                "200": tagged(json_response(ref("CustomerAppData"), "The data.")),
                **ERRORS,
                "404": problem("No such customer, or no Stripe data yet."),
                "412": _DELETED,
            },
        },
        "put": conditional(
            {
                "operationId": "upsertCustomerStripeAppData",
                "summary": "Set the customer's data in the Stripe app of its billing profile",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "required": ["stripeCustomerId"], "properties": _STRIPE_DATA}
                        }
                    },
                },
                "responses": {
                    "200": tagged(json_response(ref("CustomerAppData"), "The data.")),
                    **ERRORS,
                    "404": _NO_CUSTOMER,
                    "409": problem("Another customer has this Stripe customer id in this app; it is named."),
                    "412": _DELETED,
                },
            }
        ),
    },
}
SCHEMAS |= {"CustomerAppData": _APP_DATA, "CustomerAppDataInput": _APP_DATA_INPUT}
