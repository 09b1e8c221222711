"""The problems every rule raises, and their two renderings.

Rules raise these; the JSON API renders them as RFC 9457 problem+json, the console renders the
same field errors next to the form fields. Field names are the API's dotted camelCase paths
(`billingAddress.country`, `usageAttribution.subjectKeys[1]`) in both faces, so a message is
written once.
"""

from dataclasses import dataclass, field
from http import HTTPStatus

from flask import Response, json, request


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str
    # The id of the customer that already holds a value, so the console can link to it.
    holder_id: str | None = None

    def as_json(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(eq=False)  # exceptions compare by identity
class Problem(Exception):
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 500

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def errors_by_field(self) -> dict[str, list[FieldError]]:
        grouped: dict[str, list[FieldError]] = {}
        for error in self.errors:
            grouped.setdefault(error.field, []).append(error)
        return grouped

    def __str__(self) -> str:
        return self.detail


class Invalid(Problem):
    """400: the input breaks a rule; `errors` names each bad field."""

    def __init__(self, errors: list[FieldError], detail: str | None = None):
        super().__init__(detail or _summary(errors), list(errors), 400)


class Conflict(Problem):
    """409: a value is already held by another object; the errors name the holder."""

    def __init__(self, errors: list[FieldError], detail: str | None = None):
        super().__init__(detail or _summary(errors), list(errors), 409)


class StaleEdit(Problem):
    """409: someone else saved the object after the editor loaded it (the API answers 412 when the
    request named the version it expected with If-Match)."""

    def __init__(self, detail: str):
        super().__init__(detail, [], 409)


class NotFound(Problem):
    def __init__(self, detail: str):
        super().__init__(detail, [], 404)


class PreconditionFailed(Problem):
    """412: the object is in a state that forbids the request (e.g. the customer is deleted)."""

    def __init__(self, detail: str):
        super().__init__(detail, [], 412)


def _summary(errors: list[FieldError]) -> str:
    if len(errors) == 1:
        return errors[0].message
    return f"{len(errors)} fields are invalid: " + "; ".join(e.message for e in errors)


def problem_response(problem: Problem, headers: dict | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
    }
    if problem.errors:
        body["extensions"] = {"validationErrors": [e.as_json() for e in problem.errors]}
    return Response(json.dumps(body), status=problem.status, mimetype="application/problem+json", headers=headers)
