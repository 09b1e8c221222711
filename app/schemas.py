"""One description per API shape, with pydantic (v2): from each `Shape` come the parsing of request
bodies, the serialising of responses and the schemas of the served OpenAPI document.

Why pydantic: it is made for exactly this (typed models that validate, dump and emit JSON Schema
2020-12, which OpenAPI 3.1 uses as is), it is well kept and fast (its core is Rust), and it
reports every error with its location, which becomes the field named in our problems.

The division of labour: a shape checks the *form* of the JSON (types, required fields, nesting,
enumerations); the rules check the *values* (lengths, characters, known codes, uniqueness), for
the console and the API alike, with one message each. The document states the rules' limits
(`documented`), from the rules' own constants, so a client knows them in advance.
"""

import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Generic, Self, TypeVar

from flask import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import PydanticCustomError

from app.apiutil import timestamp
from app.common import Page
from app.problems import FieldError, Invalid
from app.reference import countries, currencies
from app.text_rules import bad_characters, hidden_character

S = TypeVar("S", bound="Shape")
T = TypeVar("T")

# The form of every id the server makes (app/ids.py): a ULID.
ID_PATTERN = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"


class Shape(BaseModel):
    """A JSON shape of the API: snake_case attributes, camelCase in JSON. Strict: a number is not a
    string, nor "true" a boolean. Unknown fields are ignored, as OpenMeter does."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, strict=True, extra="ignore")

    def response(self, status: int = 200, headers: dict | None = None) -> Response:
        """This shape as the JSON body of a response; absent (None) fields are left out."""
        body = self.model_dump_json(by_alias=True, exclude_none=True)
        return Response(body, status=status, mimetype="application/json", headers=headers)

    def as_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def documented(required: bool = False, **limits: Any) -> Any:
    """A field whose values the rules check: the document states `limits` (maxLength, pattern, …),
    the shape does not repeat the check. Optional fields default to None (absent). A limit may be
    a function, called when the document is made (patterns are built then, not at import)."""

    def state(schema: dict) -> None:
        # On a nullable field, the limits belong to the non-null branch (the one they can apply to).
        branch = next((b for b in schema.get("anyOf", []) if b.get("type") != "null"), schema)
        branch.update(_resolved(limits))

    if required:
        return Field(json_schema_extra=state)
    return Field(default=None, json_schema_extra=state)


def left_out(described_as: Any = None, **limits: Any) -> Any:
    """A response field that is left out when it has no value: documented as optional, never as null (its
    type is `X | SkipJsonSchema[None]`), with the limits of `described_as` (the input's field) and `limits`."""
    also = described_as.json_schema_extra if described_as is not None else None

    def state(schema: dict) -> None:
        schema.pop("default", None)
        if also is not None:
            also(schema)
        schema.update(limits)

    return Field(default=None, json_schema_extra=state)


def _resolved(value: Any) -> Any:
    if callable(value):
        return value()
    if isinstance(value, dict):
        return {k: _resolved(v) for k, v in value.items()}
    return value


def _excluded(refused) -> str:
    """A regex character class body of the Basic Multilingual Plane's characters that `refused` names,
    in \\uXXXX escapes, which JSON Schema's (ECMA-262) and Python's regexes read alike. Surrogates
    are left out: no regex dialect agrees on them (a lone one is refused all the same)."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF or not refused(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


@cache
def _patterns() -> dict[str, str]:
    """What check_text and check_identifier refuse, as patterns (built once, when the document is)."""
    control = _excluded(lambda ch: bad_characters(ch))
    lines = _excluded(lambda ch: bad_characters(ch, multiline=True))
    hidden = _excluded(lambda ch: hidden_character(ch) is not None or bad_characters(ch))
    return {
        "text": f"^[^{control}]*$",
        "multiline": f"^[^{lines}]*$",
        # No hidden character, and no space at either end.
        "identifier": f"^[^ {hidden}](?:[^{hidden}]*[^ {hidden}])?$",
        # Something besides spaces (the rules trim names, and an empty one is missing).
        "name": f"^[^{control}]*[^\\s{control}][^{control}]*$",
    }


def text_pattern(kind: str) -> Callable[[], str]:
    """The pattern of a text `kind` (see text()), for a limit of documented(), made with the document."""
    return lambda: _patterns()[kind]


def text(max_length: int, *, required: bool = False, min_length: int | None = None, kind: str = "text", **more) -> Any:
    """A text field the rules check (text_rules.check_text, or check_identifier for kind="identifier");
    the document states its limits and the characters it may hold (supplementary planes aside)."""
    limits = {"maxLength": max_length, **({"minLength": min_length} if min_length else {}), **more}
    return documented(required, pattern=text_pattern(kind), **limits)


def _code(pattern: str, what: str, schema_name: str) -> Any:
    """An ISO code in its exact form (the rules say whether it is a known one): the document names
    every known code (a component of the document, see CODE_SCHEMAS)."""
    form = re.compile(pattern)

    def exact(value: str) -> str:
        if not form.fullmatch(value):
            raise PydanticCustomError("code", f"must be {what}")
        return value

    # (allOf: pydantic would look a bare $ref up among its own definitions)
    return Annotated[
        str, AfterValidator(exact), WithJsonSchema({"allOf": [{"$ref": f"#/components/schemas/{schema_name}"}]})
    ]


CurrencyCode = _code("[A-Z]{3}", "an ISO 4217 currency code in capitals, such as USD", "CurrencyCode")
CountryCode = _code("[A-Z]{2}", "an ISO 3166-1 alpha-2 country code in capitals, such as DE", "CountryCode")


def code_schemas() -> dict:
    """The document's components that CurrencyCode and CountryCode refer to."""
    return {
        "CurrencyCode": {"type": "string", "description": "ISO 4217 code", "enum": sorted(currencies())},
        "CountryCode": {"type": "string", "description": "ISO 3166-1 alpha-2 code", "enum": sorted(countries())},
    }


class Paginated(Shape, Generic[T]):
    """OpenMeter's page of items. An area names its own: `class CustomerPaginatedResponse(Paginated[Customer])`."""

    total_count: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    items: list[T]

    @classmethod
    def of(cls, page: Page, items: list) -> Self:
        """The page `page` of a rule's listing, its items made into shapes."""
        return cls(total_count=page.total, page=page.page, page_size=page.page_size, items=items)


# A moment, written as OpenMeter writes them: RFC 3339 in UTC with milliseconds.
Timestamp = Annotated[
    datetime, PlainSerializer(timestamp, return_type=str), WithJsonSchema({"type": "string", "format": "date-time"})
]


# ---------------------------------------------------------------------------------------------
# Parsing


def parse(shape: type[S], body: Any) -> S:
    """`body` (parsed JSON) as `shape`. Raises Invalid naming every bad field by its JSON path
    (`usageAttribution.subjectKeys[3]`)."""
    try:
        return shape.model_validate(body)
    except ValidationError as e:
        raise Invalid([_field_error(body, error) for error in e.errors()]) from None


_WHAT = {
    "string_type": ("type", "must be a string"),
    "bool_type": ("type", "must be true or false"),
    "int_type": ("type", "must be a whole number"),
    "float_type": ("type", "must be a number"),
    "list_type": ("type", "must be an array"),
    "dict_type": ("type", "must be a JSON object"),
    "model_type": ("type", "must be a JSON object"),
    "model_attributes_type": ("type", "must be a JSON object"),
    "missing": ("required", "is required"),
    "union_tag_not_found": ("required", "is required"),
}


def _field_error(body: Any, error: dict) -> FieldError:
    path = _json_path(body, error["loc"])
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):  # the error is the tag field's
        tag_field = error["ctx"]["discriminator"].strip("'")
        path = f"{path}.{tag_field}" if path else tag_field
    code, what = _WHAT.get(kind, ("invalid", None))
    if what is None:
        if kind in ("literal_error", "enum"):
            what = f"must be {error['ctx']['expected']}"
        elif kind == "union_tag_invalid":
            what = f"must be one of {error['ctx']['expected_tags']}"
        else:
            what = error["msg"][0].lower() + error["msg"][1:]
    name = path or "body"
    return FieldError(name, code, f"{name} {what}.")


def _json_path(body: Any, loc: tuple) -> str:
    """The JSON path of a pydantic error location, e.g. `usageAttribution.subjectKeys[3]`.

    Walks the body alongside the location: a step that is a key or an index there goes into the
    path; so does a last step that is a missing field. Any other step names a tagged union's member
    (pydantic puts the tag's value there), which is not part of the JSON."""
    path, value = "", body
    for i, step in enumerate(loc):
        if isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            path, value = f"{path}[{step}]", value[step]
        elif isinstance(value, dict) and step in value:
            path, value = f"{path}.{step}" if path else str(step), value[step]
        elif i == len(loc) - 1 and isinstance(value, dict):
            path = f"{path}.{step}" if path else str(step)
    return path


# ---------------------------------------------------------------------------------------------
# The document


def component_schemas(*shapes: type[Shape]) -> dict:
    """The OpenAPI `components.schemas` of these shapes and every shape they hold, by class name."""
    _, top = models_json_schema(
        [(shape, "validation") for shape in shapes],
        ref_template="#/components/schemas/{model}",
        schema_generator=_WithoutTitles,
    )
    return top.get("$defs", {})


class _WithoutTitles(GenerateJsonSchema):
    """Field titles would only repeat the field names ("Primaryemail"): the document has none."""

    def field_title_should_be_set(self, schema) -> bool:
        return False
