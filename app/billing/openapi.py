"""The billing profiles part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.apps.openapi import ID, PAGING, TIMESTAMP, query
from app.billing import rules
from app.common import DESCRIPTION_MAX, NAME_MAX
from app.meta.openapi_parts import ERRORS, STRING_MAP, conditional, json_response, paginated, problem, ref, tagged

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

DURATION = {"type": "string", "maxLength": rules.DURATION_TEXT_MAX, "description": "An ISO 8601 duration, at most P1Y."}


def _workflow_schema(with_defaults: bool) -> dict:
    """The workflow as written (every part optional, with SPEC §3's defaults) or as read (all present)."""

    def d(value) -> dict:
        return {"default": value} if with_defaults else {}

    def section(properties: dict, required: list[str]) -> dict:
        schema = {"type": "object", "properties": properties}
        if not with_defaults:
            schema["required"] = required
        return schema

    collection = section(
        {
            "alignment": ref("BillingWorkflowCollectionAlignment"),
            "interval": {**DURATION, **d("PT1H"), "description": "Longer than zero, at most P1Y."},
        },
        ["alignment", "interval"],
    )
    invoicing = section(
        {
            "autoAdvance": {"type": "boolean", **d(True)},
            "draftPeriod": {**DURATION, **d("P0D")},
            "dueAfter": {**DURATION, **d("P30D")},
            "progressiveBilling": {"type": "boolean", **d(True)},
            "defaultTaxConfig": {
                "type": "object",
                "properties": {"behavior": {"type": "string", "enum": list(rules.TAX_BEHAVIORS)}},
            },
        },
        ["autoAdvance", "draftPeriod", "dueAfter", "progressiveBilling"],
    )
    payment = section(
        {"collectionMethod": {"type": "string", "enum": list(rules.COLLECTION_METHODS), **d("charge_automatically")}},
        ["collectionMethod"],
    )
    tax = section(
        {
            "enabled": {"type": "boolean", **d(True)},
            "enforced": {"type": "boolean", **d(False), "description": "Requires `enabled`."},
        },
        ["enabled", "enforced"],
    )
    return section(
        {"collection": collection, "invoicing": invoicing, "payment": payment, "tax": tax},
        ["collection", "invoicing", "payment", "tax"],
    )


def _app_ids(item: dict) -> dict:
    return {
        "type": "object",
        "required": list(rules.APP_ROLES),
        "properties": {role: item for role in rules.APP_ROLES},
        "description": "SPEC §3: the same installed app in all three roles.",
    }


def _profile_input_schema(for_create: bool) -> dict:
    properties = {
        "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
        "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
        "metadata": STRING_MAP,
        "default": {
            "type": "boolean",
            "default": False,
            "description": "true makes this the default and demotes the old one; the default cannot be set to false.",
        },
        "supplier": ref("BillingParty"),
        "workflow": _workflow_schema(with_defaults=True),
    }
    if for_create:
        properties["apps"] = _app_ids(ID)
    return {
        "type": "object",
        "required": ["name", "supplier", *(["apps"] if for_create else [])],
        "properties": properties,
    }


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

SCHEMAS = {
    "BillingProfile": {
        "type": "object",
        "required": ["id", "name", "default", "supplier", "workflow", "apps", "createdAt", "updatedAt"],
        "properties": {
            "id": ID,
            **{k: v for k, v in _profile_input_schema(False)["properties"].items() if k != "workflow"},
            "workflow": _workflow_schema(with_defaults=False),
            "apps": {"oneOf": [_app_ids(ref("AppReference")), _app_ids(ref("App"))]},
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "deletedAt": TIMESTAMP,
        },
    },
    "BillingProfileCreate": _profile_input_schema(for_create=True),
    "BillingProfileReplaceUpdateWithWorkflow": _profile_input_schema(for_create=False),
    "BillingProfilePaginatedResponse": paginated("BillingProfile"),
    "AppReference": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": ID},
        "additionalProperties": False,
    },
    "BillingParty": {
        "type": "object",
        "required": ["name", "addresses"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
            "taxId": {"type": "object", "properties": {"code": {"type": "string", "maxLength": rules.TAX_CODE_MAX}}},
            "addresses": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": {"allOf": [ref("Address"), {"required": ["country"]}]},
            },
        },
    },
    "BillingWorkflowCollectionAlignment": {
        "oneOf": [
            {"type": "object", "required": ["type"], "properties": {"type": {"const": "subscription"}}},
            {
                "type": "object",
                "required": ["type", "recurringPeriod"],
                "properties": {
                    "type": {"const": "anchored"},
                    "recurringPeriod": {
                        "type": "object",
                        "required": ["interval", "anchor"],
                        "properties": {
                            "interval": {
                                "anyOf": [{"type": "string", "enum": list(rules.PERIOD_UNITS)}, DURATION],
                            },
                            "anchor": TIMESTAMP,
                        },
                    },
                },
            },
        ],
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
_OVERRIDE = {
    "type": "object",
    "required": ["baseBillingProfileId"],
    "properties": {
        "baseBillingProfileId": {**ID, "description": "The pinned profile, or the current default when none is."},
        "customerOverride": {
            "type": "object",
            "required": ["customerId", "createdAt", "updatedAt"],
            "properties": {
                "customerId": ID,
                "billingProfileId": ID,
                "createdAt": TIMESTAMP,
                "updatedAt": TIMESTAMP,
            },
        },
        "customerProfile": {
            "type": "object",
            "description": "The effective profile's supplier, workflow and apps.",
            "properties": {"supplier": {"type": "object"}, "workflow": {"type": "object"}, "apps": {"type": "object"}},
        },
        "customer": ref("Customer"),
    },
}
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
            "responses": {"200": json_response(paginated("CustomerOverride"), "The customers."), **ERRORS},
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
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": {"billingProfileId": ID}}}
                    },
                },
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
SCHEMAS |= {"CustomerOverride": _OVERRIDE}
