"""Building blocks shared by each area's part of the OpenAPI document."""

from app.customers.rules import METADATA_MAX_KEYS, METADATA_VALUE_MAX


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


def json_response(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def query(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    return param


def json_body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(schema_name)}}}


def paginated(item_schema: str) -> dict:
    """OpenMeter's page of items: {totalCount, page, pageSize, items}."""
    return {
        "type": "object",
        "required": ["totalCount", "page", "pageSize", "items"],
        "properties": {
            "totalCount": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "pageSize": {"type": "integer", "minimum": 1},
            "items": {"type": "array", "items": ref(item_schema)},
        },
    }


STRING_MAP = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": METADATA_VALUE_MAX},
    "maxProperties": METADATA_MAX_KEYS,
}

# Every endpoint can answer these.
ERRORS = {
    "400": problem("Invalid input; `extensions.validationErrors` names each bad field."),
    "401": problem("No or bad token."),
    "403": problem("Not allowed."),
}

PROBLEM_SCHEMA = {
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
}
