"""The apps and marketplace part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.apps import rules, schemas
from app.common import MAX_PAGE_SIZE
from app.meta.openapi_parts import (
    ERRORS,
    PAGE,
    conditional,
    json_body,
    json_response,
    problem,
    query,
    ref,
    tagged,
)
from app.schemas import component_schemas

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


def _app_type(*install_methods: str) -> dict:
    """The app type in the path: any listed one, or those installed with one of `install_methods`."""
    types = [t for t, listing in rules.LISTINGS.items() if set(listing.install_methods) & set(install_methods)]
    return _path_param("type", "The app type.", {"type": "string", "enum": types or list(rules.LISTINGS)})


APP_ID = _path_param("id", "The app's id.")
APP_TYPE = _app_type()
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
        "parameters": [_app_type(rules.NO_CREDENTIALS)],
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
        "parameters": [_app_type(rules.WITH_API_KEY)],
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

# ---------------------------------------------------------------------------------------------
# Customer app data (SPEC §2)

CUSTOMER = _path_param("customerIdOrKey", "The customer's id, or the key of a live customer.", {"type": "string"})
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
                "200": json_response(ref("CustomerAppDataPaginatedResponse"), "The data."),
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
                "requestBody": json_body("CustomerAppDataInputList"),
                "responses": {
                    "200": json_response(ref("CustomerAppDataList"), "The resulting data."),
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
                "200": tagged(json_response(ref("StripeCustomerAppData"), "The data.")),
                **ERRORS,
                "404": problem("No such customer, or no Stripe data yet."),
                "412": _DELETED,
            },
        },
        "put": conditional(
            {
                "operationId": "upsertCustomerStripeAppData",
                "summary": "Set the customer's data in the Stripe app of its billing profile",
                "requestBody": json_body("StripeCustomerAppDataBase"),
                "responses": {
                    "200": tagged(json_response(ref("StripeCustomerAppData"), "The data.")),
                    **ERRORS,
                    "404": _NO_CUSTOMER,
                    "409": problem("Another customer has this Stripe customer id in this app; it is named."),
                    "412": _DELETED,
                },
            }
        ),
    },
}

SCHEMAS = component_schemas(*schemas.SHAPES)
