"""Ids: ULIDs (26 characters of Crockford base32), made by the server and checked before any query."""

import re

from ulid import ULID

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def new_id() -> str:
    return str(ULID())


def is_id(value: object) -> bool:
    """Whether `value` has the form of one of our ids; anything else cannot name a row, so a lookup is a 404."""
    return isinstance(value, str) and _ULID.fullmatch(value) is not None
