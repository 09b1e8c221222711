"""Browser tests: Debian's Chromium, driven by Playwright, against a live server of the app."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.customers import rules
from app.customers.rules import CustomerInput


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def console(live_server, page):
    """The console's base URL, with the page's timeouts set for a loaded CI machine."""
    page.set_default_timeout(10_000)
    return live_server


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
