"""A bounded property-based run of Schemathesis over our own OpenAPI document, through the WSGI app.

Each API operation is two tests: `test_coverage` (the document's examples and Schemathesis's deterministic
coverage cases, positive and negative) and `test_fuzzing` (FUZZ_EXAMPLES Hypothesis-generated cases,
positive and negative). Every response goes through every check Schemathesis has, with the test app's
admin token on every call. The seed is fixed and no Hypothesis database is written, so a run repeats.

No stateful phase: the document declares no OpenAPI links.
"""

import copy
import json
import re
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
)

from app.meta.openapi import document
from app.meta.openapi_parts import IF_MATCH

SEED = 20260101
FUZZ_EXAMPLES = 50  # per operation; with the coverage cases, about 5,000 cases in all

# Schemathesis's default expected statuses of positive_data_acceptance and negative_data_rejection, and 412: it
# answers a precondition before the body is read, a stale If-Match (RFC 9110 13.2.1) or, as OpenMeter answers it,
# the thing's state (e.g. Stripe data of a customer whose billing profile does not bill through Stripe).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428", "429", "5xx"]


def _schema(*phases: str):
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # positive and negative
                "max-examples": FUZZ_EXAMPLES,
                "database": "none",
                # The test sends the token itself: Schemathesis neither makes one up nor leaves it out.
                "with-security-parameters": False,
            },
            # Failure reports show the generated keys ("key", "apiKey", ...), not "[Filtered]"; the token stays hidden.
            "output": {"sanitization": {"keys-to-sanitize": ["authorization"], "sensitive-markers": ["authorization"]}},
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
        }
    )
    # The document as GET /api/v1/openapi.json serves it (test_served_document_is_the_one_tested).
    return schemathesis.openapi.from_dict(json.loads(json.dumps(document())), config=config)


COVERAGE = _schema("examples", "coverage")
FUZZING = _schema("fuzzing")


@pytest.fixture
def seeded(app):
    """A customer, a plan and a subscription named "0", the id or key the coverage cases ask for, so that
    the operations on one thing answer it too, not only 404."""
    client = app.test_client()
    made = [
        client.post("/api/v1/customers", json={"name": "Zero", "key": "0", "currency": "USD"}),
        client.post(
            "/api/v1/plans",
            json={"key": "0", "name": "Zero", "currency": "USD", "billingCadence": "P1M", "price": {"amount": "1.00"}},
        ),
        client.post("/api/v1/subscriptions", json={"customerKey": "0", "plan": {"key": "0"}}),
    ]
    assert [r.status_code for r in made] == [201, 201, 201], [r.json for r in made]


@COVERAGE.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_coverage(case, app, seeded):
    _call_and_validate(case, app)


@FUZZING.parametrize()
# filter_too_much: bodies whose patterns are demanding (a plan's amount and cadence) take fewer examples.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
def test_fuzzing(case, app, seeded):
    _call_and_validate(case, app)


def test_served_document_is_the_one_tested(client):
    assert client.get("/api/v1/openapi.json").json == json.loads(json.dumps(document()))


def _call_and_validate(case, app) -> None:
    headers = {"Authorization": f"Bearer {app.accounts['admin'].token}"}
    # The probes some checks send (ignored_auth, unsupported_method) go through the schema's transport.
    case.operation.schema.app = app
    response = case.call(app=app, headers=headers)
    case.validate_response(
        response,
        headers=headers,
        transport_kwargs={"app": app, "headers": headers},
        excluded_checks=_deliberate(case, response),
    )


def _deliberate(case, response) -> list:
    """The checks whose assumption this request meets a deliberate behaviour of ours."""
    excluded = []
    if case.operation.path.startswith("/api/v1/customers/{customerIdOrKey}/"):
        # Keys may hold "/": /customers/a/apps is also the customer keyed "a/apps", with its GET, PUT and
        # DELETE (app/customers/api.py, _customer_by_whole_key), so Allow lists those and other methods are no 405.
        excluded += [allow_header_conformance, unsupported_method]
    if case.operation.path == "/api/v1/customers/export":
        # PUT and DELETE there are OpenMeter's /customers/{customerIdOrKey}, for the customer keyed "export".
        excluded += [allow_header_conformance, unsupported_method]
    if _refused_in_words(response) or _if_match_not_as_documented(case):
        excluded.append(positive_data_acceptance)
    if case.meta is not None and case.meta.generation.mode.is_negative and _valid_as_read(case, response):
        # The app reads an empty query value as none, a null property as none and a boolean as true/1/false/0
        # in any case (app/apiutil.py): what it accepted here is, so read, valid.
        excluded.append(negative_data_rejection)
    return excluded


# Refusals the document states in words only, each for a reason no JSON Schema keyword can carry.
IN_WORDS = {
    "unknown_profile": "a body naming a billing profile that does not exist: no document lists which ids exist",
    "not_installed": "a body naming an app that is not installed: likewise",
    "same_app": "a profile's tax, invoicing and payment apps must be one app: no keyword compares two values",
    "duplicate": "one app given twice (by id, or by type): no keyword compares what two items resolve to",
    "out_of_range": "a duration's bounds (more than zero, at most a year): no keyword compares durations",
    "conflict": "a key or subject key another customer holds: the data decides, not the form (alone it is a 409)",
}
_BEYOND_BMP = re.compile(r"U\+[0-9A-F]{5,6}\b")


def _refused_in_words(response) -> bool:
    """A 400 whose every error is one of IN_WORDS, or a hidden character beyond the Basic Multilingual
    Plane (the document's patterns name BMP characters only: regex dialects disagree beyond it)."""
    if response.status_code != 400:
        return False
    errors = response.json().get("extensions", {}).get("validationErrors", [])  # a problem+json body
    return bool(errors) and all(
        e["code"] in IN_WORDS or (e["code"] == "hidden_character" and _BEYOND_BMP.search(e["message"])) for e in errors
    )


def _if_match_not_as_documented(case) -> bool:
    """Schemathesis's coverage phase makes header values of letters and digits only; for If-Match, whose
    documented form needs quotes or *, it then sends one ("0") that the form refuses (400)."""
    value = next((v for k, v in (case.headers or {}).items() if k.lower() == "if-match"), None)
    return value is not None and not re.fullmatch(IF_MATCH["schema"]["pattern"], value)


# --- The request as the app reads it --------------------------------------------------------------

_DOCUMENT = json.loads(json.dumps(document()))


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    wrapped = {**copy.deepcopy(schema), "components": _DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(wrapped, format_checker=jsonschema.FormatChecker())


def _valid_as_read(case, response) -> bool:
    """Whether the request is valid once read as the app reads it, and that reading changed something."""
    path_item = _DOCUMENT["paths"][case.operation.path]
    operation = path_item.get(case.method.lower())
    if operation is None:  # an undocumented method
        return False
    parameters = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    changed = False

    sent = parse_qs(urlsplit(response.request.url).query, keep_blank_values=True)
    for parameter in (p for p in parameters if p["in"] == "query"):
        values = sent.get(parameter["name"], [])
        read = [v for v in values if v != ""]
        changed |= len(read) != len(values)
        if not read:
            continue
        schema = parameter["schema"]
        if schema.get("type") == "array":
            value = [_read_text(v, schema.get("items", {})) for v in read]
        else:
            value = _read_text(read[0], schema)
            changed |= len(read) > 1 or (schema.get("type") == "boolean" and read[0] not in ("true", "false"))
        if not _validator(schema).is_valid(value):
            return False

    for parameter in (p for p in parameters if p["in"] in ("path", "header")):
        container = case.path_parameters if parameter["in"] == "path" else (case.headers or {})
        value = next((v for k, v in container.items() if k.lower() == parameter["name"].lower()), None)
        if value is None:
            if parameter.get("required"):
                return False
            continue
        if not _validator(parameter["schema"]).is_valid(value):
            return False

    body = operation.get("requestBody")
    if body is not None and not isinstance(case.body, NotSet):
        if case.media_type != "application/json":
            return False
        read, dropped = _without_nulls(case.body)
        changed |= dropped
        if not _validator(body["content"]["application/json"]["schema"]).is_valid(read):
            return False
    return changed


def _read_text(text: str, schema: dict):
    """A query value as app/apiutil.py reads it for this schema."""
    kind = schema.get("type")
    if kind == "integer" and text.isascii() and text.isdigit():
        return int(text)
    if kind == "boolean" and text.lower() in ("true", "1", "false", "0"):
        return text.lower() in ("true", "1")
    return text


def _without_nulls(value) -> tuple[object, bool]:
    """`value` with every null object property dropped (a null field is an absent one), and whether there was one."""
    if isinstance(value, dict):
        dropped = any(v is None for v in value.values())
        kept = {}
        for k, v in value.items():
            if v is not None:
                kept[k], inner = _without_nulls(v)
                dropped |= inner
        return kept, dropped
    if isinstance(value, list):
        items = [_without_nulls(v) for v in value]
        return [v for v, _ in items], any(d for _, d in items)
    return value, False
