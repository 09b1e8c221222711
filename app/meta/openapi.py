"""The OpenAPI 3.1 document of this server's API, merged from each area's `openapi.py`.

tests/meta/test_openapi.py checks that every API route is documented and tests check responses
against these schemas, so the document cannot drift from the server. A new area adds its module to
AREAS.
"""

from functools import cache

from app.apps import openapi as apps
from app.billing import openapi as billing
from app.customers import openapi as customers
from app.meta.openapi_parts import PROBLEM_SCHEMA, json_response, problem, ref
from app.plans import openapi as plans
from app.schemas import code_schemas

AREAS = [customers, plans, apps, billing]

PATHS = {
    "/api/v1/info/currencies": {
        "get": {
            "operationId": "listCurrencies",
            "summary": "The ISO 4217 currencies a customer may pay in",
            "responses": {
                "200": json_response({"type": "array", "items": ref("Currency")}, "Currencies."),
                "401": problem("No or bad token."),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenAPIDocument",
            "summary": "This document",
            "responses": {
                "200": json_response({"type": "object"}, "The OpenAPI document."),
                "401": problem("No or bad token."),
            },
        }
    },
}

SCHEMAS = {
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
    "Problem": PROBLEM_SCHEMA,
    **code_schemas(),
}


@cache
def document() -> dict:
    paths, schemas = dict(PATHS), dict(SCHEMAS)
    for area in AREAS:
        paths |= area.PATHS
        schemas |= area.SCHEMAS
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Billing customers console API",
            "version": "1.0.0",
            "description": (
                "Customers of a usage-based billing system, their plans and subscriptions, in the shapes of "
                "OpenMeter's v1 API."
            ),
        },
        "paths": dict(sorted(paths.items())),
        # Every call needs a token (made by an admin in the console, or `flask --app app tokens create`).
        "security": [{"bearerAuth": []}],
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
