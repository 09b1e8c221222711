"""Check a JSON body against a schema of our own OpenAPI document, so the document stays true."""

import jsonschema

from app.meta.openapi import document


def assert_matches(body, schema_name: str) -> None:
    doc = document()
    schema = {**doc["components"]["schemas"][schema_name], "components": doc["components"]}
    # The document's $refs are "#/components/schemas/X"; resolving them against this wrapper works.
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker())
