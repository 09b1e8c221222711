"""The customers list and the customer page in a real browser: one calm line per customer at
1440 px, the whole row a link, paging that shows the results from their top, a summary header."""

import re

import pytest
from playwright.sync_api import expect

from tests.customers.test_search import link_stripe
from tests.e2e.conftest import log_in_browser

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 390, "height": 844}


def seed(make_customer, count=60):
    """Customers whose names, keys and subject keys are long enough to wrap in a narrow column."""
    ids = []
    for i in range(count):
        ids.append(
            make_customer(
                name=f"Customer {i:03d} Intercontinental Logistics and Warehousing Holdings",
                key=f"key-{i:03d}-with-a-rather-long-tail",
                subjects=[f"meter-{i:03d}-eu-west-production", f"meter-{i:03d}-us", f"meter-{i:03d}-ap"],
                primary_email=f"billing-department+{i}@intercontinental-logistics.example",
                currency="EUR",
            )
        )
    return ids


def test_each_customer_is_one_short_line_at_1440(console, page, make_customer, assert_accessible):
    seed(make_customer, 55)  # a full page of 50, and a second one
    page.set_viewport_size(WIDE)
    page.goto(f"{console}/customers/")
    rows = page.locator("table.customer-list tbody tr")
    expect(rows).to_have_count(50)
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) <= 48, heights
    # Truncated text keeps all of itself in a tooltip, and "+N" stands for the other subject keys.
    first = rows.first
    expect(first.get_by_role("link", name=re.compile("Customer 000"))).to_have_attribute(
        "title", "Customer 000 Intercontinental Logistics and Warehousing Holdings"
    )
    expect(first).to_contain_text("+2")
    # The default billing profile is not repeated on every row.
    expect(page.locator("table.customer-list tbody")).not_to_contain_text("Default billing profile")
    expect(page.get_by_role("navigation", name="Pages, top")).to_be_visible()
    expect(page.get_by_role("navigation", name="Pages, bottom")).to_be_visible()
    assert_accessible(page)


def test_the_whole_row_opens_the_customer_but_its_buttons_stay_buttons(console, page, make_customer):
    seed(make_customer, 3)
    page.set_viewport_size(WIDE)
    page.goto(f"{console}/customers/")
    row = page.locator("table.customer-list tbody tr").nth(1)
    row.get_by_role("button", name=re.compile("Copy the key of")).click()
    expect(page).to_have_url(re.compile(r"/customers/$"))  # a copy button does not open the customer
    # A click where the row has no link of its own: on its creation date.
    box = row.locator("time").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Customer 001"))
    page.go_back()
    # From the keyboard: the name is a real link.
    page.locator("table.customer-list tbody tr").nth(2).get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Customer 002"))


def test_paging_shows_the_next_page_from_its_top(console, page, make_customer):
    seed(make_customer, 110)  # a second page as long as the first: nothing scrolls back by itself
    page.set_viewport_size(WIDE)
    page.goto(f"{console}/customers/")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    before = page.evaluate("window.scrollY")
    assert before > 1000
    page.get_by_role("navigation", name="Pages, bottom").get_by_role("link", name="Next ›").click()
    expect(page.locator("#results-count")).to_have_text("51–100 of 110 customers")
    expect(page).to_have_url(re.compile(r"page=2"))
    page.wait_for_function("document.getElementById('results').getBoundingClientRect().top >= 0")
    top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
    assert 0 <= top < 100, top


def test_the_list_does_not_push_a_phone_screen_sideways(console, page, make_customer, assert_accessible):
    seed(make_customer, 5)
    page.set_viewport_size(NARROW)
    page.goto(f"{console}/customers/")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    expect(page.get_by_role("region", name="Customers")).to_be_visible()
    assert_accessible(page)


def test_enter_on_an_exact_key_opens_the_customer_and_typing_does_not(console, page, make_customer):
    make_customer(name="Wind Power", key="acme-energy-0168")
    make_customer(name="Acme Energy Fan Club", key="acme-energy-fans")
    page.set_viewport_size(WIDE)
    page.goto(f"{console}/customers/")
    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("acme-energy-0168", delay=20)
    expect(page.locator("#results")).to_contain_text("“acme-energy-0168” is the key of Wind Power")
    expect(page).to_have_url(re.compile(r"q=acme-energy-0168(&|$)"))
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wind Power")
    page.go_back()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("acme-energy-0168")
    page.get_by_role("searchbox", name="Search").fill("ACME-ENERGY-0168")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.locator("#results")).to_contain_text("Did you mean acme-energy-0168?")
    page.locator("#results").get_by_role("link", name="acme-energy-0168").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wind Power")


@NO_JS
def test_enter_on_an_exact_id_opens_the_customer_without_javascript(console, page, make_customer):
    customer_id = make_customer(name="Wind Power", key="wind")
    page.goto(f"{console}/customers/")
    page.get_by_role("searchbox", name="Search").fill(customer_id)
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wind Power")
    # A whole row is a link without JavaScript too (CSS stretches the name's link over it).
    page.goto(f"{console}/customers/")
    box = page.locator("table.customer-list tbody tr").first.locator("time").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_role("heading", level=1)).to_have_text("Wind Power")


def test_the_customer_page_sums_the_customer_up(console, page, make_customer, client, assert_accessible):
    customer_id = make_customer(
        name="Café Olé", key="cafe-ole", subjects=["cafe-1", "cafe-2"], currency="EUR", metadata={"tier": "gold"}
    )
    link_stripe(client, "cafe-ole", "cus_NffrFeUfNV2Hib")
    page.set_viewport_size(WIDE)
    page.goto(f"{console}/customers/{customer_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Café Olé")
    summary = page.locator(".customer-summary")
    expect(summary).to_contain_text(customer_id)
    expect(summary).to_contain_text("cafe-ole")
    expect(summary.get_by_role("button", name="Copy id")).to_be_visible()
    expect(summary.get_by_role("button", name="Copy key")).to_be_visible()
    chips = page.get_by_role("list", name="Summary")
    for chip in ("EUR — Euro", "No plan", "(inherited default)", "Stripe linked", "No payment method"):
        expect(chips).to_contain_text(chip)
    expect(page.get_by_role("link", name="Edit")).to_have_attribute("data-shortcut", "e")
    for region in ("Details", "Subjects", "Billing address", "Subscription", "App metadata", "History"):
        expect(page.get_by_role("region", name=region, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollHeight") <= 2000
    assert "None" not in page.locator("main").inner_text()
    assert_accessible(page)
    # Found by its name without the accents, and by its Stripe customer id.
    page.goto(f"{console}/customers/?q=cafe+ole")
    expect(page.locator("#results-count")).to_have_text("1–1 of 1 customer matching “cafe ole”")
    page.get_by_role("searchbox", name="Search").fill("cus_NffrFeUfNV2Hib")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Café Olé")


def test_a_viewer_sees_the_customer_page_without_editors(app, live_server, page, make_customer, client_as):
    customer_id = make_customer(name="Read Only", key="read-only")
    client_as("viewer")  # makes the viewer account
    page.set_default_timeout(10_000)
    log_in_browser(app, page, live_server, app.accounts["viewer"].operator_id)
    page.goto(f"{live_server}/customers/{customer_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Read Only")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
