"""The billing profiles part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.apps.openapi import PAGING
from app.billing import rules, schemas
from app.meta.openapi_parts import ERRORS, conditional, json_body, json_response, problem, query, ref, tagged
from app.schemas import component_schemas

PROFILE_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The profile's id.",
    "schema": {"type": "string"},
}
EXPAND = query(
    "expand",
    {"type": "array", "items": {"type": "string", "enum": ["apps"]}},
    "`apps` includes the whole app objects instead of their ids.",
)
EXPAND["explode"] = True

PATHS = {
    "/api/v1/billing/profiles": {
        "get": {
            "operationId": "listBillingProfiles",
            "summary": "List billing profiles",
            "parameters": [
                query("includeArchived", {"type": "boolean", "default": False}, "Include deleted profiles."),
                EXPAND,
                *PAGING,
                query("order", {"type": "string", "enum": ["ASC", "DESC"], "default": "ASC"}),
                query("orderBy", {"type": "string", "enum": list(rules.ORDERINGS), "default": "createdAt"}),
            ],
            "responses": {
                "200": json_response(ref("BillingProfilePaginatedResponse"), "A page of profiles."),
                **ERRORS,
            },
        },
        "post": {
            "operationId": "createBillingProfile",
            "summary": "Create a billing profile",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("BillingProfileCreate")}}},
            "responses": {
                "201": tagged(json_response(ref("BillingProfile"), "The new profile.")),
                **ERRORS,
                "409": problem("Another profile was made the default at the same moment."),
                "413": problem("The body is too large."),
            },
        },
    },
    "/api/v1/billing/profiles/{id}": {
        "parameters": [PROFILE_ID],
        "get": {
            "operationId": "getBillingProfile",
            "summary": "Get a billing profile, live or deleted",
            "parameters": [EXPAND],
            "responses": {
                "200": tagged(json_response(ref("BillingProfile"), "The profile.")),
                **ERRORS,
                "404": problem("No such profile."),
            },
        },
        "put": conditional(
            {
                "operationId": "updateBillingProfile",
                "summary": "Replace a billing profile (omitted optional fields are cleared; the apps cannot change)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("BillingProfileReplaceUpdateWithWorkflow")}},
                },
                "responses": {
                    "200": tagged(json_response(ref("BillingProfile"), "The profile as replaced.")),
                    **ERRORS,
                    "404": problem("No such profile."),
                    "409": problem("Changed meanwhile by someone else, or another profile was made the default."),
                    "412": problem("The profile is deleted."),
                    "413": problem("The body is too large."),
                },
            }
        ),
        "delete": conditional(
            {
                "operationId": "deleteBillingProfile",
                "summary": "Soft-delete a billing profile (not the default, nor one customers are pinned to: 400)",
                "responses": {
                    "204": {"description": "Deleted."},
                    **ERRORS,
                    "404": problem("No such profile."),
                    "412": problem("The profile is already deleted."),
                },
            }
        ),
    },
}

# ---------------------------------------------------------------------------------------------
# Customer overrides (SPEC §3)

CUSTOMER_ID = {**PROFILE_ID, "name": "customerId", "description": "The customer's id (or key)."}
OVERRIDE_EXPAND = query(
    "expand",
    {"type": "array", "items": {"type": "string", "enum": ["apps", "customer"]}},
    "`apps` includes the app objects, `customer` the customer.",
)
OVERRIDE_EXPAND["explode"] = True
_NO_CUSTOMER = problem("No such customer.")

PATHS |= {
    "/api/v1/billing/customers": {
        "get": {
            "operationId": "listBillingProfileCustomerOverrides",
            "summary": "Customers with their billing profile",
            "parameters": [
                query("billingProfile", {"type": "array", "items": {"type": "string"}}, "Billed by any of these."),
                query("customersWithoutPinnedProfile", {"type": "boolean"}),
                query("includeAllCustomers", {"type": "boolean", "default": True}),
                query("customerId", {"type": "array", "items": {"type": "string"}}),
                query("customerName", {"type": "string"}),
                query("customerKey", {"type": "string"}),
                query("customerPrimaryEmail", {"type": "string"}),
                OVERRIDE_EXPAND,
                query("order", {"type": "string", "enum": ["ASC", "DESC"]}),
                query(
                    "orderBy",
                    {
                        "type": "string",
                        "enum": [
                            "customerId",
                            "customerName",
                            "customerKey",
                            "customerPrimaryEmail",
                            "customerCreatedAt",
                        ],
                    },
                ),
                *PAGING,
            ],
            "responses": {
                "200": json_response(ref("CustomerOverridePaginatedResponse"), "The customers."),
                **ERRORS,
            },
        },
    },
    "/api/v1/billing/customers/{customerId}": {
        "parameters": [CUSTOMER_ID],
        "get": {
            "operationId": "getBillingProfileCustomerOverride",
            "summary": "A customer's effective billing profile",
            "parameters": [OVERRIDE_EXPAND],
            "responses": {
                "200": tagged(json_response(ref("CustomerOverride"), "The override.")),
                **ERRORS,
                "404": _NO_CUSTOMER,
            },
        },
        "put": conditional(
            {
                "operationId": "upsertBillingProfileCustomerOverride",
                "summary": "Pin a customer to a profile (or, without billingProfileId, to the default)",
                "requestBody": json_body("BillingProfileCustomerOverrideCreate"),
                "responses": {
                    "200": tagged(json_response(ref("CustomerOverride"), "The override.")),
                    **ERRORS,
                    "404": _NO_CUSTOMER,
                    "412": problem("The customer is deleted."),
                },
            }
        ),
        "delete": conditional(
            {
                "operationId": "deleteBillingProfileCustomerOverride",
                "summary": "Return a customer to the default profile",
                "responses": {
                    "204": {"description": "Removed."},
                    **ERRORS,
                    "404": _NO_CUSTOMER,
                    "412": problem("The customer is deleted."),
                },
            }
        ),
    },
}

SCHEMAS = component_schemas(*schemas.SHAPES)
