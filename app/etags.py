"""ETag and If-Match: optimistic concurrency in the JSON API (RFC 9110 §8.8.3 and §13.1.1).

Every editable thing answers a strong ETag made of its id and its version: `"<id>-<version>"`. What
belongs to a customer is named by a path under it: `"<customer id>/billing-<version>"` for its
billing override, `"<customer id>/apps/<app id>-<version>"` for its data in one app (0: none yet).

A PUT or DELETE with If-Match goes through only while the thing is at the version an ETag of the
header names, and the database decides: the version goes into the rule, whose UPDATE or DELETE has
it in its WHERE (version_id_col), so of two racing writers from one copy only the first wins. The
other, and any request from an older copy, gets 412 Precondition Failed. `If-Match: *` asks only
that the thing exists. Without If-Match the last write wins, as in OpenMeter (whose clients send none).

A malformed If-Match is 400, not 412: 412 would tell the client that the thing changed since it read
it, and a client that reads again and retries would send the same broken header forever.
"""

import re
from functools import wraps

from flask import Response, request

from app.problems import FieldError, Invalid, PreconditionFailed, StaleEdit

# One element of the header's list: an entity tag, weak or strong (RFC 9110 §8.8.3), then a comma or the end.
_ENTITY_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
_VERSIONED = re.compile(r"(.+)-([0-9]{1,10})")


def etag(thing_id: str, version: int) -> str:
    """The ETag header's value for this version of a thing."""
    return f'"{thing_id}-{version}"'


def tagged(response: Response, thing_id: str, version: int) -> Response:
    response.headers["ETag"] = etag(thing_id, version)
    return response


def if_match_versions() -> dict[str, int] | None:
    """The version If-Match names for each thing, by the thing's id; None when any version will do
    (no If-Match, or `*`). Weak tags are left out: If-Match compares strongly, so they match nothing.
    Raises Invalid (400) for a header that is not `*` or a list of entity tags."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    versions: dict[str, int] = {}
    position = 0
    while position < len(raw) or not raw.strip():
        found = _ENTITY_TAG.match(raw, position)
        if found is None or found.end() == position:
            raise Invalid(
                [
                    FieldError(
                        "If-Match",
                        "malformed",
                        'If-Match must be * or a list of ETags in double quotes, e.g. If-Match: "01JC…-3", '
                        "as the ETag header of a GET answers them.",
                    )
                ]
            )
        position = found.end()
        named = _VERSIONED.fullmatch(found.group(2))
        if found.group(1) is None and named is not None:
            # Two versions of one thing would each do; the newest is the one worth trying.
            thing_id, version = named.group(1), int(named.group(2))
            versions[thing_id] = max(version, versions.get(thing_id, version))
    return versions


def expected_version(thing_id: str) -> int | None:
    """The version a PUT or DELETE of this thing may write over; None: any (no If-Match, or `*`).
    Raises Invalid (a malformed If-Match) or PreconditionFailed (it names no version of this thing)."""
    versions = if_match_versions()
    if versions is None:
        return None
    if thing_id not in versions:
        raise PreconditionFailed(
            f'If-Match names no version of "{thing_id}": read it again and send the ETag that answers.'
        )
    return versions[thing_id]


def conditional(view):
    """For PUT and DELETE views: a stale edit is 412 Precondition Failed when the request named the
    version it expected, and stays 409 Conflict when it did not (two writers raced)."""

    @wraps(view)
    def checked(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except StaleEdit as stale:
            if if_match_versions() is None:
                raise
            raise PreconditionFailed(stale.detail) from None

    checked.honours_if_match = True  # tests/meta/test_openapi.py checks that the document says so
    return checked
