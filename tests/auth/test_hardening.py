"""Security headers, the session cookie, the request size limit, and no stack trace ever."""

import re

import pytest

from app.auth import SECURITY_HEADERS
from app.customers import listing


@pytest.mark.parametrize("url", ["/login", "/customers/", "/customers/nope", "/api/v1/customers", "/api/v1/nope"])
def test_every_answer_has_the_security_headers(client, anonymous, url):
    for response in (client.get(url), anonymous.get(url)):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_no_page_has_an_inline_script_or_style(client):
    customer = client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"}).json["id"]
    for url in ["/customers/", "/customers/new", f"/customers/{customer}", "/activity/", "/operators/", "/tokens/"]:
        page = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert "<style" not in page and " style=" not in page and " on" + "click=" not in page, url


def test_the_session_cookie_is_httponly_and_samesite(anonymous):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', anonymous.get("/login").text).group(1)
    response = anonymous.post(
        "/login", data={"csrf_token": token, "username": "test-admin", "password": "correct horse battery staple"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_cookie_is_secure_when_configured(app, anonymous):
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Secure" in anonymous.get("/login").headers["Set-Cookie"]


def test_too_large_a_request_is_refused(client):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/customers", data=body, content_type="application/json")
    assert response.status_code == 413 and response.content_type == "application/problem+json"


def test_an_unexpected_error_shows_no_stack_trace(client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(listing, "list_customers", explode)
    page = client.get("/customers/")
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    api = client.get("/api/v1/customers")
    assert api.status_code == 500 and api.content_type == "application/problem+json"
    for response in (page, api):
        assert "secret internals" not in response.text and "Traceback" not in response.text


def test_a_missing_page_is_a_friendly_404(client):
    page = client.get("/customers/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert page.status_code == 404 and "<h1>" in page.text and "Back to the console" in page.text
    assert client.get("/nope").status_code == 404
