"""The OpenAPI document stays true to the server."""

import re

from app.meta.openapi import document


def _openapi_path(flask_rule: str) -> str:
    """/customers/<path:customer_id_or_key> -> /customers/{customerIdOrKey}"""

    def camel(match: re.Match) -> str:
        head, *rest = match.group(1).split("_")
        return "{" + head + "".join(part.title() for part in rest) + "}"

    return re.sub(r"<(?:\w+:)?(\w+)>", camel, flask_rule)


def test_every_api_route_is_documented_and_nothing_else(app, client):
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = _openapi_path(rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method))
    assert served == documented
    assert client.get("/api/v1/openapi.json").json["openapi"].startswith("3.1")
