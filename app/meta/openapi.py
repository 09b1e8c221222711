"""The OpenAPI 3.1 document of this server's API, kept beside the code it describes.

tests/meta/test_openapi.py checks that every API route is documented and that responses match
these schemas, so the document cannot drift from the server.
"""

from functools import cache

from app.customers import rules


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


STRING_MAP = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": rules.METADATA_VALUE_MAX},
    "maxProperties": rules.METADATA_MAX_KEYS,
}

CUSTOMER_ID_OR_KEY = {
    "name": "customerIdOrKey",
    "in": "path",
    "required": True,
    "description": "The customer's id (live or deleted) or the key of a live customer.",
    "schema": {"type": "string"},
}

ERRORS = {
    "400": _problem("Invalid input; `extensions.validationErrors` names each bad field."),
    "401": _problem("No or bad token."),
    "403": _problem("Not allowed."),
}


def _customer_input_schema() -> dict:
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": rules.NAME_MAX},
            "key": {"type": "string", "minLength": 1, "maxLength": rules.KEY_MAX},
            "description": {"type": "string", "maxLength": rules.DESCRIPTION_MAX},
            "primaryEmail": {"type": "string", "format": "email"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"},
            "billingAddress": _ref("Address"),
            "usageAttribution": _ref("CustomerUsageAttribution"),
            "metadata": STRING_MAP,
        },
    }


@cache
def document() -> dict:
    customer_input = _customer_input_schema()
    customer = {
        "type": "object",
        "required": ["id", "name", "usageAttribution", "createdAt", "updatedAt"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"},
            **customer_input["properties"],
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
            "deletedAt": {"type": "string", "format": "date-time"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Billing customers console API",
            "version": "1.0.0",
            "description": "Customers of a usage-based billing system, in the shapes of OpenMeter's v1 API.",
        },
        "paths": {
            "/api/v1/customers": {
                "get": {
                    "operationId": "listCustomers",
                    "summary": "List customers",
                    "parameters": [
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {
                            "name": "pageSize",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": rules.MAX_PAGE_SIZE, "default": 100},
                        },
                        {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["ASC", "DESC"]}},
                        {
                            "name": "orderBy",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["id", "name", "createdAt"], "default": "name"},
                        },
                        {"name": "includeDeleted", "in": "query", "schema": {"type": "boolean", "default": False}},
                        {
                            "name": "key",
                            "in": "query",
                            "description": "Exact, case-sensitive key: zero or one live customer.",
                            "schema": {"type": "string"},
                        },
                        {"name": "name", "in": "query", "description": "Case-insensitive substring.", "schema": {"type": "string"}},
                        {"name": "primaryEmail", "in": "query", "description": "Case-insensitive substring.", "schema": {"type": "string"}},
                        {"name": "subject", "in": "query", "description": "Case-insensitive substring of a subject key.", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": _json(_ref("CustomerPaginatedResponse"), "A page of customers."), **ERRORS},
                },
                "post": {
                    "operationId": "createCustomer",
                    "summary": "Create a customer",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CustomerCreate")}}},
                    "responses": {
                        "201": _json(_ref("Customer"), "The new customer."),
                        **ERRORS,
                        "409": _problem("The key or a subject key belongs to another customer, who is named."),
                        "413": _problem("The body is too large."),
                    },
                },
            },
            "/api/v1/customers/{customerIdOrKey}": {
                "parameters": [CUSTOMER_ID_OR_KEY],
                "get": {
                    "operationId": "getCustomer",
                    "summary": "Get a customer",
                    "responses": {"200": _json(_ref("Customer"), "The customer."), **ERRORS, "404": _problem("No such customer.")},
                },
                "put": {
                    "operationId": "updateCustomer",
                    "summary": "Replace a customer (omitted optional fields are cleared)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CustomerCreate")}}},
                    "responses": {
                        "200": _json(_ref("Customer"), "The customer as replaced."),
                        **ERRORS,
                        "404": _problem("No such customer."),
                        "409": _problem("A conflict with another customer, who is named."),
                        "412": _problem("The customer is deleted."),
                        "413": _problem("The body is too large."),
                    },
                },
                "delete": {
                    "operationId": "deleteCustomer",
                    "summary": "Soft-delete a customer; its key and subject keys become free",
                    "responses": {
                        "204": {"description": "Deleted."},
                        **ERRORS,
                        "404": _problem("No such customer."),
                        "412": _problem("The customer is already deleted."),
                    },
                },
            },
            "/api/v1/info/currencies": {
                "get": {
                    "operationId": "listCurrencies",
                    "summary": "The ISO 4217 currencies a customer may pay in",
                    "responses": {"200": _json({"type": "array", "items": _ref("Currency")}, "Currencies.")},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenAPIDocument",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
        },
        "components": {
            "schemas": {
                "Customer": customer,
                "CustomerCreate": customer_input,
                "Address": {
                    "type": "object",
                    "properties": {
                        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2"},
                        "postalCode": {"type": "string"},
                        "state": {"type": "string"},
                        "city": {"type": "string"},
                        "line1": {"type": "string"},
                        "line2": {"type": "string"},
                        "phoneNumber": {"type": "string"},
                    },
                },
                "CustomerUsageAttribution": {
                    "type": "object",
                    "required": ["subjectKeys"],
                    "properties": {
                        "subjectKeys": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": rules.SUBJECT_MAX},
                        }
                    },
                },
                "CustomerPaginatedResponse": {
                    "type": "object",
                    "required": ["totalCount", "page", "pageSize", "items"],
                    "properties": {
                        "totalCount": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "pageSize": {"type": "integer", "minimum": 1},
                        "items": {"type": "array", "items": _ref("Customer")},
                    },
                },
                "Currency": {
                    "type": "object",
                    "required": ["code", "name", "symbol", "subunits"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "symbol": {"type": "string"},
                        "subunits": {"type": "integer", "minimum": 0},
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "extensions": {
                            "type": "object",
                            "properties": {
                                "validationErrors": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["field", "code", "message"],
                                        "properties": {
                                            "field": {"type": "string"},
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                        },
                                    },
                                }
                            },
                        },
                    },
                },
            }
        },
    }
