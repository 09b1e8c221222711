"""The customers part of the OpenAPI document (merged by app/meta/openapi.py)."""

from app.common import MAX_PAGE_SIZE, METADATA_KEY_MAX, METADATA_MAX_KEYS
from app.customers import export, listing, schemas
from app.meta.openapi_parts import (
    ERRORS,
    PAGE,
    conditional,
    json_response,
    problem,
    query,
    ref,
    tagged,
)
from app.schemas import component_schemas, text_pattern

CUSTOMER_ID_OR_KEY = {
    "name": "customerIdOrKey",
    "in": "path",
    "required": True,
    "description": "The customer's id (live or deleted) or the key of a live customer.",
    "schema": {"type": "string"},
}


# What chooses the customers of a list and their order: the list's and the export's.
LIST_ORDER_AND_FILTERS = [
    query("order", {"type": "string", "enum": ["ASC", "DESC"], "default": "ASC"}),
    query(
        "orderBy",
        {"type": "string", "enum": ["id", "name", "createdAt"], "default": "name"},
        "`name` sorts as people sort names: case and accents do not split the alphabet "
        "(alpha, Bravo, Émile, zeta); equal names by id.",
    ),
    query("includeDeleted", {"type": "boolean", "default": False}),
    query("key", {"type": "string"}, "Exact, case-sensitive key: zero or one live customer."),
    query("name", {"type": "string"}, "Case-insensitive substring."),
    query("primaryEmail", {"type": "string"}, "Case-insensitive substring."),
    query("subject", {"type": "string"}, "Case-insensitive substring of a subject key."),
    query("planKey", {"type": "string"}, "Exact key of the plan of the customer's active subscription."),
    query("billingProfile", {"type": "string"}, "Billed by this profile (pinned, or by default)."),
    query("tag", {"type": "string"}, "Customers with this tag."),
    {
        "name": "metadata",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": "Metadata key = value, exactly: `metadata[tier]=gold` (several: all of them).",
    },
    query("hasMetadataKey", {"type": "array", "items": {"type": "string"}}, "Metadata has this key, any value."),
    query("missingMetadataKey", {"type": "array", "items": {"type": "string"}}, "Metadata lacks this key."),
    query("country", {"type": "string"}, "The billing address's country (ISO 3166-1 alpha-2, upper case)."),
    query("createdFrom", {"type": "string", "format": "date-time"}, "Created at or after this time."),
    query("createdBefore", {"type": "string", "format": "date-time"}, "Created before this time."),
    query("hasStripeCustomerId", {"type": "boolean"}, "Linked to a Stripe customer, or not."),
    query("hasPaymentMethod", {"type": "boolean"}, "With a default payment method in Stripe, or not."),
    query("hasPrimaryEmail", {"type": "boolean"}, "With a primary email, or not."),
]
_FILE = {"type": "string", "description": "The file: see the operation's description for its columns."}

PATHS = {
    "/api/v1/customers/export": {
        "get": {
            "operationId": "exportCustomers",
            "summary": "Export every customer the list's filters match, as one file",
            "description": (
                "Not an OpenMeter operation. Every matching customer (not a page), in the list's order, streamed. "
                "CSV: UTF-8 with a byte-order mark, a header row, RFC 4180 quoting; a cell that a spreadsheet "
                "would run as a formula (it starts with =, +, -, @, tab or CR) starts with an apostrophe. "
                f"Columns: {', '.join(export.COLUMNS)}, then `metadata` (all of it, as JSON) or one "
                "`metadata.{key}` column per metadataKey asked for. JSON Lines: one object per customer "
                "under the same names. A customer whose key is `export` is read by its id."
            ),
            "parameters": [
                query("format", {"type": "string", "enum": list(export.FORMATS), "default": "csv"}),
                {
                    "name": "metadataKey",
                    "in": "query",
                    "description": "A metadata key to give a column of its own (repeat for more).",
                    "schema": {
                        "type": "array",
                        "maxItems": METADATA_MAX_KEYS,
                        "items": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": METADATA_KEY_MAX,
                            "pattern": text_pattern("identifier"),
                        },
                    },
                    "style": "form",
                    "explode": True,
                },
                *LIST_ORDER_AND_FILTERS,
            ],
            "responses": {
                "200": {
                    "description": "The file, as an attachment.",
                    "content": {"text/csv": {"schema": _FILE}, "application/x-ndjson": {"schema": _FILE}},
                },
                **ERRORS,
            },
        },
    },
    "/api/v1/customers": {
        "get": {
            "operationId": "listCustomers",
            "summary": "List customers",
            "description": (
                "totalCount is exact for the unfiltered list. With filters it counts matches up to "
                f"{listing.COUNT_LIMIT:,} ({listing.SEARCH_COUNT_LIMIT:,} with a name, primaryEmail or subject "
                "filter) and then answers that number: a million matches are not counted on each call. On "
                f"PostgreSQL, a search that its planner expects to match {listing.SURELY_MORE}× that many answers "
                "the number without counting."
            ),
            "parameters": [
                PAGE,
                query("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 100}),
                *LIST_ORDER_AND_FILTERS,
            ],
            "responses": {"200": json_response(ref("CustomerPaginatedResponse"), "A page of customers."), **ERRORS},
        },
        "post": {
            "operationId": "createCustomer",
            "summary": "Create a customer",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CustomerCreate")}}},
            "responses": {
                "201": tagged(json_response(ref("Customer"), "The new customer.")),
                **ERRORS,
                "409": problem("The key or a subject key belongs to another customer, who is named."),
                "413": problem("The body is too large."),
            },
        },
    },
    "/api/v1/customers/{customerIdOrKey}": {
        "parameters": [CUSTOMER_ID_OR_KEY],
        "get": {
            "operationId": "getCustomer",
            "summary": "Get a customer",
            "responses": {
                "200": tagged(json_response(ref("Customer"), "The customer.")),
                **ERRORS,
                "404": problem("No such customer."),
            },
        },
        "put": conditional(
            {
                "operationId": "updateCustomer",
                "summary": "Replace a customer (omitted optional fields are cleared)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CustomerCreate")}}},
                "responses": {
                    "200": tagged(json_response(ref("Customer"), "The customer as replaced.")),
                    **ERRORS,
                    "404": problem("No such customer."),
                    "409": problem(
                        "A conflict with another customer, who is named, or a currency change while a subscription "
                        "is active."
                    ),
                    "412": problem("The customer is deleted."),
                    "413": problem("The body is too large."),
                },
            }
        ),
        "delete": conditional(
            {
                "operationId": "deleteCustomer",
                "summary": "Soft-delete a customer; its key and subject keys become free",
                "responses": {
                    "204": {"description": "Deleted."},
                    **ERRORS,
                    "404": problem("No such customer."),
                    "409": problem("The customer has an active subscription; cancel it first."),
                    "412": problem("The customer is already deleted."),
                },
            }
        ),
    },
}

SCHEMAS = component_schemas(*schemas.SHAPES)
