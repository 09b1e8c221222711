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


def test_every_route_that_honours_if_match_says_so_and_its_get_answers_an_etag(app):
    paths = document()["paths"]
    conditional = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "honours_if_match", False):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                conditional.add((_openapi_path(rule.rule), method.lower()))
    assert len(conditional) == 13
    # A customer's data in several apps is a list: each item has its own version, not the list.
    lists = {"/api/v1/customers/{customerIdOrKey}/apps"}
    for path, method in conditional:
        operation = paths[path][method]
        assert "If-Match" in [p["name"] for p in operation["parameters"] if p["in"] == "header"], (path, method)
        assert "If-Match" in operation["responses"]["412"]["description"], (path, method)
        if path in lists:
            continue
        if method == "put":
            assert "ETag" in operation["responses"]["200"]["headers"], path
        if "get" in paths[path]:
            assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"], path
