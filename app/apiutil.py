"""What every JSON endpoint shares: reading the body and the query string strictly, paging, dates.

Bad input here becomes `Invalid` with the offending field or parameter named, like any rule.
"""

import json
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request

from app.numbers import MAX_PAGE, whole_number
from app.problems import FieldError, Invalid
from app.text_rules import bad_characters


def json_body() -> Any:
    """The request body as JSON. Raises Invalid for an empty or malformed body."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise Invalid([FieldError("body", "required", "The request body must be a JSON document.")])
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
        raise Invalid([FieldError("body", "malformed_json", f"The request body is not valid JSON: {e}")]) from None


class Reader:
    """Reads typed fields out of a JSON object, collecting every type error instead of stopping."""

    def __init__(self, obj: Any, path: str = ""):
        self.path = path
        self.errors: list[FieldError] = []
        if not isinstance(obj, dict):
            self._error("", "type", "must be a JSON object")
            obj = {}
        self.obj = obj

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path and key else (self.path or key or "body")

    def _error(self, key: str, code: str, what: str) -> None:
        self.errors.append(FieldError(self._name(key), code, f"{self._name(key)} {what}."))

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                self._error(key, "required", "is required")
            return None
        if not isinstance(value, str):
            self._error(key, "type", "must be a string")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self._error(key, "type", "must be true or false")
            return None
        return value

    def object(self, key: str) -> "Reader | None":
        value = self.obj.get(key)
        if value is None:
            return None
        reader = Reader(value, self._name(key))
        if reader.errors:
            self.errors += reader.errors
            return None
        return reader

    def object_list(self, key: str) -> "list[Reader]":
        """A Reader for each object in an array (named `key[0]`, `key[1]`, …); type errors are collected."""
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._error(key, "type", "must be an array of objects")
            return []
        readers = []
        for i, item in enumerate(value):
            reader = Reader(item, self._name(f"{key}[{i}]"))
            self.errors += reader.errors
            if not reader.errors:
                readers.append(reader)
        return readers

    def string_list(self, key: str) -> list[str]:
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._error(key, "type", "must be an array of strings")
            return []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self._error(f"{key}[{i}]", "type", "must be a string")
        return [item for item in value if isinstance(item, str)]

    def string_map(self, key: str) -> dict[str, str]:
        value = self.obj.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._error(key, "type", "must be an object of strings")
            return {}
        for k, v in value.items():
            if not isinstance(v, str):
                self._error(f"{key}.{k}", "type", "must be a string")
        return {k: v for k, v in value.items() if isinstance(v, str)}


def query_int(name: str, default: int, low: int, high: int) -> int:
    """A whole number in ASCII digits between `low` and `high`. Always bounded: a huge page number
    would overflow the database's row offset."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw)
    if value is None or value < low or value > high:
        raise Invalid([FieldError(name, "out_of_range", f"{name} must be a whole number between {low} and {high}.")])
    return value


def query_page() -> int:
    """`page`, bounded as on every list (MAX_PAGE)."""
    return query_int("page", 1, 1, MAX_PAGE)


def query_texts(name: str) -> list[str]:
    """Every value of a text parameter. Raises Invalid naming it when one holds control characters:
    no stored value does, and PostgreSQL refuses NUL outright."""
    values = request.args.getlist(name)
    if any(bad_characters(v) for v in values):
        raise Invalid([FieldError(name, "invalid_characters", f"{name} contains control characters.")])
    return values


def query_text(name: str) -> str | None:
    """A text parameter's (first) value, checked as `query_texts` does; None when absent."""
    return next(iter(query_texts(name)), None)


def query_bool(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise Invalid([FieldError(name, "invalid", f"{name} must be true or false.")])


def query_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise Invalid([FieldError(name, "invalid", f"{name} must be one of {', '.join(choices)}.")])
    return raw


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with milliseconds, as OpenMeter writes them."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def without_nulls(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v is not None}


def created(body: dict, location: str) -> Response:
    """201 Created with the new object and where to find it."""
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response
