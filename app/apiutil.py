"""What every JSON endpoint shares: reading the body and the query string strictly, paging, dates.

Bad input here becomes `Invalid` with the offending field or parameter named, like any rule.
"""

import json
from datetime import UTC, datetime
from typing import Any

from flask import request

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


def query_flag(name: str) -> bool | None:
    """A yes-or-no filter: True, False, or None when it is not given."""
    return query_bool(name) if request.args.get(name, "") != "" else None


def query_time(name: str) -> datetime | None:
    """An RFC 3339 time (UTC when it names no offset); None when absent."""
    raw = query_text(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid([FieldError(name, "invalid", f"{name} must be a time like 2026-01-31T00:00:00Z.")]) from None


def query_map(name: str) -> dict[str, str]:
    """A deepObject parameter, `name[key]=value` (each key once), as {key: value}."""
    prefix = f"{name}["
    found = {}
    for arg in request.args:
        if arg.startswith(prefix) and arg.endswith("]"):
            found[arg[len(prefix) : -1]] = query_text(arg) or ""
    if any(bad_characters(key) for key in found):
        raise Invalid([FieldError(name, "invalid_characters", f"{name} contains control characters.")])
    return found


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
