"""Browser tests: Debian's Chromium, driven by Playwright, against a live server of the app."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.auth import rules as auth_rules
from app.customers import rules
from app.customers.rules import CustomerInput


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def console(app, live_server, page):
    """The console's base URL, with the browser logged in as the admin and the page's timeouts set
    for a loaded CI machine."""
    page.set_default_timeout(10_000)
    log_in_browser(app, page, live_server, app.accounts["admin"].operator_id)
    return live_server


def log_in_browser(app, page, url: str, operator_id: str) -> None:
    """Give the browser the session cookie a login would have set (the login form has its own tests)."""
    page.context.add_cookies([session_cookie(app, url, operator_id)])


def session_cookie(app, url: str, operator_id: str) -> dict:
    """A new console session of the operator, as the cookie a browser context takes (add_cookies)."""
    with app.app_context():
        secret = auth_rules.start_session(operator_id, "playwright", "127.0.0.1")
    cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": secret})
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": url}


@pytest.fixture
def make_customer(app):
    def make(name="Acme", key="acme", subjects=(), **fields) -> str:
        with app.app_context():
            return rules.create(CustomerInput(name=name, key=key, subject_keys=list(subjects), **fields)).id

    return make


_axe = Axe()


@pytest.fixture
def assert_accessible():
    def check(page):
        results = _axe.run(page)
        assert results.violations_count == 0, results.generate_report()

    return check
