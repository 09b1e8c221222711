"""What every page shares: the header on a phone, the theme toggle, keyboard shortcuts, copy buttons."""

import re

import pytest
from playwright.sync_api import expect

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False, viewport={"width": 390, "height": 844})
PHONE = pytest.mark.browser_context_args(viewport={"width": 390, "height": 844})


@NO_JS
def test_on_a_phone_without_javascript_the_header_fits_and_navigates(console, page, make_customer):
    make_customer()
    page.goto(f"{console}/customers/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("button", name="Log out")).to_be_in_viewport()
    expect(banner.get_by_role("link", name="test-admin (admin)")).to_be_in_viewport()
    # What needs JavaScript is not offered without it.
    expect(page.get_by_role("button", name="Dark theme")).to_be_hidden()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")


@PHONE
def test_a_wide_table_scrolls_in_its_own_box_not_the_page(console, page, make_customer):
    make_customer(name="Acme", key="acme-with-a-rather-long-key", subjects=["a-very-long-subject-key-1"])
    page.goto(f"{console}/customers/")
    table = page.get_by_role("region", name="Customers", exact=True)
    assert table.evaluate("box => box.scrollWidth > box.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table.focus()  # a keyboard can reach it, to scroll it with the arrow keys
    expect(table).to_be_focused()


@pytest.mark.browser_context_args(color_scheme="light")
def test_the_theme_toggle_is_remembered(console, page):
    page.goto(f"{console}/customers/")
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 24, 39)"
    page.goto(f"{console}/plans/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    # Back to the system's theme: nothing is remembered any more.
    page.get_by_role("button", name="Dark theme").click()
    assert page.evaluate("localStorage.getItem('theme')") is None
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


@pytest.mark.browser_context_args(color_scheme="dark")
def test_the_system_dark_preference_applies_without_a_choice(console, page):
    page.goto(f"{console}/customers/")
    expect(page.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 24, 39)"


def test_keyboard_shortcuts(console, page, make_customer):
    customer_id = make_customer()
    page.goto(f"{console}/customers/")
    search = page.get_by_label("Search", exact=True)
    expect(search).to_be_focused()  # the list opens ready to search
    # Typed in a field, a shortcut key is text.
    search.press_sequentially("n")
    expect(search).to_have_value("n")
    expect(page).to_have_url(re.compile(r"/customers/(\?.*)?$"))
    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("New customer")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_have_text("New customer")
    page.goto(f"{console}/customers/{customer_id}")
    page.keyboard.press("e")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Acme")


def test_the_login_page_opens_ready_to_type(live_server, page):
    page.goto(f"{live_server}/login")
    expect(page.get_by_label("Username")).to_be_focused()


@pytest.mark.browser_context_args(permissions=["clipboard-read", "clipboard-write"])
def test_a_copy_button_copies_and_says_so(console, page):
    page.goto(f"{console}/customers/")
    # Any page's copy button works alike: this one is added here, as a template would render it.
    page.evaluate(
        """document.querySelector("h1").insertAdjacentHTML("beforeend",
        '<button type="button" class="copy" data-copy="01JTEST" aria-label="Copy the test id">Copy</button>')"""
    )
    copy = page.get_by_role("button", name="Copy the test id")
    copy.click()
    expect(page.locator("#announcer")).to_have_text("Copied")
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "01JTEST"
    expect(copy).to_have_text("Copy")


@NO_JS
def test_copy_buttons_are_hidden_without_javascript(console, page):
    page.goto(f"{console}/customers/")
    page.evaluate(
        """document.querySelector("h1").insertAdjacentHTML("beforeend",
        '<button type="button" class="copy" data-copy="01JTEST">Copy</button>')"""
    )
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_focus_is_visible_on_everything_a_keyboard_reaches(console, page, make_customer, theme):
    make_customer()
    page.emulate_media(color_scheme=theme)
    for path in ("/customers/", "/customers/new"):
        page.goto(f"{console}{path}")
        page.locator("body").focus()
        seen = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                """() => { const e = document.activeElement, s = getComputedStyle(e);
                return [e.outerHTML.slice(0, 80), s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
            )
            if focused[0] in seen or focused[0].startswith("<body"):
                break  # round the page once
            seen.add(focused[0])
            assert focused[1] != "none" and focused[2] >= 2, f"no visible focus on {focused[0]}"
        assert len(seen) > 10  # the walk did go round the page
