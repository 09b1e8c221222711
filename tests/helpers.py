"""Small helpers that several test files share; fixtures are in conftest.py."""

import re
from html import unescape

from app.customers import rules
from app.customers.rules import CustomerInput

HTMX = {"HX-Request": "true"}


def post(client, url, data=None, **kw):
    """A console form post, with the client's CSRF token."""
    return client.post(url, data={"csrf_token": client.token, **(data or {})}, **kw)


def text(response) -> str:
    """The visible text of a page, roughly: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def field_errors(response) -> list[str]:
    """The messages shown beside the form's fields, one line each."""
    return [
        unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(r'class="field-error">(.*?)</p>', response.text)
    ]


def make(app, name="Acme", key="acme", subjects=(), **fields) -> str:
    """A customer made through the rules, outside any request: its id."""
    with app.app_context():
        return rules.create(CustomerInput(name=name, key=key, subject_keys=list(subjects), **fields)).id


def fields_of(problem) -> dict[str, str]:
    """A raised problem's errors: field → code."""
    return {e.field: e.code for e in problem.errors}


def problem_fields(response) -> dict[str, str]:
    """A problem+json answer's validation errors: field → code."""
    assert response.content_type == "application/problem+json", response.data
    return {e["field"]: e["code"] for e in response.json.get("extensions", {}).get("validationErrors", [])}
