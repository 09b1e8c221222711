"""The OpenAPI 3.1 document of this server's API, merged from each area's `openapi.py`.

tests/meta/test_openapi.py checks that every API route is documented and tests check responses
against these schemas, so the document cannot drift from the server. A new area adds its module to
AREAS.
"""

import copy
from functools import cache

from app.apps import openapi as apps
from app.billing import openapi as billing
from app.customers import openapi as customers
from app.meta.openapi_parts import PROBLEM_SCHEMA, json_response, problem, ref
from app.plans import openapi as plans
from app.schemas import code_schemas, text_pattern

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


def _state_text_parameters(paths: dict) -> None:
    """Every free-text query parameter refuses control characters (app/apiutil.py query_texts): say so."""

    def stated(schema: dict) -> dict:
        if schema.get("type") == "array":
            return {**schema, "items": stated(schema.get("items", {}))}
        if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
            keys = stated({"type": "string"})
            return {**schema, "propertyNames": keys, "additionalProperties": stated(schema["additionalProperties"])}
        if callable(schema.get("pattern")):  # text_pattern(kind), made now
            return {**schema, "pattern": schema["pattern"]()}
        if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
            return {**schema, "pattern": text_pattern("text")()}
        return schema

    for path_item in paths.values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    parameter["schema"] = stated(parameter.get("schema", {}))


@cache
def document() -> dict:
    paths, schemas = copy.deepcopy(PATHS), dict(SCHEMAS)
    for area in AREAS:
        paths |= copy.deepcopy(area.PATHS)
        schemas |= area.SCHEMAS
    _state_text_parameters(paths)
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
