"""Whole numbers that come from outside (query strings, form fields, path parts): ASCII digits only, bounded.

Python's own parsers are too kind for input: int() takes any Unicode digit ("١" is 1), spaces,
underscores ("1_000") and signs, and refuses more than 4,300 digits with a ValueError; str.isdigit()
says yes to "²", which int() then refuses. Every whole number read from a request goes through
`whole_number`, and every page number stops at MAX_PAGE.
"""

import re

# 18 digits: any such number fits a 64-bit integer column or SQL offset.
_DIGITS = re.compile(r"[0-9]{1,18}")

# The highest page number any list takes: page × page size (at most 1,000 everywhere) stays far
# inside the 64-bit row offset that SQLite and PostgreSQL accept.
MAX_PAGE = 1_000_000


def whole_number(raw: str | None) -> int | None:
    """`raw` as a number when it is 1 to 18 ASCII digits and nothing else; None otherwise."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    return int(raw)
