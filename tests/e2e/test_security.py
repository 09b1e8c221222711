"""In a real browser: hostile text in every customer field stays text, the CSP blocks nothing the
console needs, and the login page works and is accessible."""

import re

import pytest
from playwright.sync_api import expect

from app.common import Address
from tests.conftest import PASSWORD

# Each payload runs script if it is ever rendered as markup: it opens a dialog and sets a flag.
PAYLOADS = [
    '<img src=x onerror="alert(1);window.xss=1">',
    '"><script>alert(1);window.xss=1</script>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
]
# The most hostile address the email check lets through: breaks out of a single-quoted attribute.
HOSTILE_EMAIL = "x'/onfocus=alert`1`/autofocus/'@example.com"


@pytest.fixture
def watch(page):
    """Records every dialog and every console message (a CSP refusal is one)."""
    seen = {"dialogs": [], "console": []}

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda message: seen["console"].append(message.text))
    return seen


def assert_inert(page, watch):
    assert watch["dialogs"] == []
    assert page.evaluate("window.xss") is None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_in_every_customer_field_stays_text(console, page, make_customer, watch, payload):
    customer_id = make_customer(
        name=payload,
        key=payload,
        subjects=[payload + "-subject"],
        description=payload,
        primary_email=HOSTILE_EMAIL,
        billing_address=Address(
            country="US",
            line1=payload,
            line2=payload,
            city=payload,
            state=payload,
            postal_code=payload[:200],
            phone_number=payload[:64],
        ),
        metadata={payload[:40]: payload},
    )
    pages = [
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/edit",
        f"/customers/{customer_id}/delete",
        "/customers/",
        "/activity/",
    ]
    for url in pages:
        page.goto(console + url)
        assert_inert(page, watch)
    page.goto(f"{console}/customers/{customer_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(payload)
    expect(page.get_by_role("link", name=HOSTILE_EMAIL)).to_be_visible()
    expect(page.get_by_role("region", name="History")).to_contain_text(payload)

    # The live search and the live key check render the same text through htmx.
    page.goto(f"{console}/customers/")
    page.get_by_role("searchbox", name="Search").fill(payload[:12])
    expect(page.locator("#results")).to_contain_text(payload)
    page.goto(f"{console}/customers/new")
    page.get_by_label("Key", exact=True).press_sequentially(payload, delay=5)
    expect(page.locator("#key-check")).to_contain_text("already the key of customer")
    assert_inert(page, watch)
    assert not [m for m in watch["console"] if "Content Security Policy" in m]


def test_the_csp_is_sent_and_blocks_nothing_the_console_needs(console, page, watch, make_customer):
    response = page.goto(f"{console}/customers/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    make_customer(name="Visible", key="visible")
    page.get_by_role("searchbox", name="Search").fill("visi")  # htmx, loaded from our own files, still works
    expect(page.locator("#results")).to_contain_text("Visible")
    assert not [m for m in watch["console"] if "Content Security Policy" in m]


def test_log_in_through_the_form_and_come_back(live_server, app, page, assert_accessible):
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/customers/?q=acme")
    expect(page).to_have_title(re.compile("Log in"))
    assert_accessible(page)
    page.get_by_label("Username").fill("test-admin")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("The username or password is not right.")
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server}/customers/?q=acme")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_title(re.compile("Log in"))
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")


def test_admin_pages_are_accessible(console, page, assert_accessible, make_customer):
    make_customer(name="Acme", key="acme")
    for url in ["/activity/", "/operators/", "/operators/new", "/tokens/"]:
        page.goto(console + url)
        assert_accessible(page)


def test_the_session_pages_pass_axe_and_sign_out_the_others(console, page, app, assert_accessible):
    page.goto(f"{console}/account/sessions")
    assert_accessible(page)
    page.goto(f"{console}/operators/{app.accounts['admin'].operator_id}")
    assert_accessible(page)  # the operator's form, then their sessions
    page.goto(f"{console}/account/sessions")
    page.get_by_role("button", name="Sign out all other sessions").click()
    expect(page.get_by_text("Signed out of")).to_be_visible()
    assert page.get_by_text("this browser").count() == 1
