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

from datetime import datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from flask import Response
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app.apiutil import timestamp
from app.common import Page
from app.problems import FieldError, Invalid

S = TypeVar("S", bound="Shape")
T = TypeVar("T")


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
    the shape does not repeat the check. Optional fields default to None (absent)."""

    def state(schema: dict) -> None:
        # On a nullable field, the limits belong to the non-null branch (the one they can apply to).
        branch = next((b for b in schema.get("anyOf", []) if b.get("type") != "null"), schema)
        branch.update(limits)

    if required:
        return Field(json_schema_extra=state)
    return Field(default=None, json_schema_extra=state)


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
