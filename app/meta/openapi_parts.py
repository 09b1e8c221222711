"""Building blocks shared by each area's part of the OpenAPI document."""

from app.common import METADATA_MAX_KEYS, METADATA_VALUE_MAX
from app.numbers import MAX_PAGE


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


# The page number of every list: one bound everywhere (app/numbers.py says why).
PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1})


# Optimistic concurrency (app/etags.py): the ETag of what a response shows, and If-Match on writes.
ETAG_HEADER = {
    "ETag": {
        "description": (
            'The version of what the body shows, e.g. "01JCW3H6B2N6M0Y3B9VZ2YH0RD-3": send it in If-Match to '
            "change it only while nobody else has."
        ),
        "schema": {"type": "string"},
    }
}

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": (
        "The ETag of the copy this change is based on (or several, or `*`: it only has to exist). The change is "
        "made only while the thing is still at that version, else 412 and nothing changes. Without If-Match the "
        "last write wins. A malformed value is 400."
    ),
    # app/etags.py's reading: `*`, or entity tags in double quotes separated by commas.
    "schema": {
        "type": "string",
        # (Our ETags are ASCII: the obs-text the header's grammar also allows is left out here.)
        "pattern": r'^[ \t]*(?:\*|(?:W/)?"[\x21\x23-\x7e]*"(?:[ \t]*,[ \t]*(?:W/)?"[\x21\x23-\x7e]*")*)[ \t]*$',
    },
}


def tagged(response: dict) -> dict:
    """A response that answers the ETag of what it shows."""
    return {**response, "headers": ETAG_HEADER}


def conditional(operation: dict) -> dict:
    """A PUT or DELETE that honours If-Match: the header, and its 412 besides any other."""
    stale = "If-Match names another version than the current one: it changed since that copy was read."
    responses = dict(operation["responses"])
    other = responses.get("412")
    responses["412"] = problem(f"{other['description']} Or: {stale}" if other else stale)
    return {**operation, "parameters": [*operation.get("parameters", []), IF_MATCH], "responses": responses}


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
