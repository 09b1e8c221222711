"""An operator works with customers in a real browser, with JavaScript on and (key flows) off."""

import re

import pytest
from playwright.sync_api import expect

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)


def fill_new_customer(page, console):
    page.goto(f"{console}/customers/")
    page.get_by_role("link", name="New customer").click()
    expect(page).to_have_title(re.compile("New customer"))
    page.get_by_label("Name", exact=True).fill("Acme Industries")
    page.get_by_label("Key", exact=True).fill("acme")
    page.get_by_label("Subject key 1", exact=True).fill("acme")
    page.get_by_role("button", name="Add a subject key").click()
    page.get_by_label("Subject key 2", exact=True).fill("acme-batch")
    page.get_by_label("Metadata key 1", exact=True).fill("crm")
    page.get_by_label("Metadata value 1", exact=True).fill("CRM-42")
    page.get_by_label("Currency").select_option(label="EUR — Euro")
    page.get_by_label("Country").select_option(label="Hungary")
    page.get_by_role("button", name="Save", exact=True).click()


def assert_created(page):
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Industries")
    expect(page.get_by_role("status").first).to_contain_text("Customer “Acme Industries” saved.")
    subjects = page.get_by_role("region", name="Subjects")
    expect(subjects).to_contain_text("acme-batch")
    expect(page.get_by_role("region", name="Metadata", exact=True)).to_contain_text("CRM-42")
    expect(page.get_by_role("region", name="Billing address")).to_contain_text("Hungary")


def test_create_a_customer_with_two_subjects_and_metadata(console, page):
    fill_new_customer(page, console)
    assert_created(page)


@NO_JS
def test_create_a_customer_with_javascript_off(console, page):
    fill_new_customer(page, console)
    assert_created(page)


def test_a_taken_key_is_named_while_typing(console, page, make_customer):
    holder = make_customer(name="Holder Ltd", key="taken")
    page.goto(f"{console}/customers/new")
    page.get_by_label("Key", exact=True).press_sequentially("taken", delay=30)
    check = page.locator("#key-check")
    expect(check).to_contain_text('Key "taken" is already the key of customer "Holder Ltd"')
    expect(check.get_by_role("link", name="Open that customer")).to_have_attribute("href", f"/customers/{holder}")
    page.get_by_label("Key", exact=True).fill("free-key")
    page.get_by_label("Key", exact=True).press("End")
    page.get_by_label("Key", exact=True).press_sequentially("2")
    expect(check).to_contain_text("No other customer has this key")


def test_errors_show_beside_fields_and_keep_what_was_typed(console, page, make_customer):
    make_customer(name="Holder Ltd", key="taken")
    page.goto(f"{console}/customers/new")
    page.get_by_label("Key", exact=True).fill("taken")
    page.get_by_label("Primary email").fill("not-an-email")
    page.get_by_label("City").fill("Szeged")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("There are 3 problems")
    expect(page.locator("#name-error")).to_have_text("Name is required.")
    expect(page.locator("#key-error")).to_contain_text("Holder Ltd")
    expect(page.locator("#primary_email-error")).to_contain_text("not valid")
    expect(page.get_by_label("City")).to_have_value("Szeged")
    expect(page.get_by_label("Key", exact=True)).to_have_value("taken")


def seed_many(make_customer, count=60):
    for i in range(count):
        make_customer(name=f"Customer {i:03d}", key=f"key-{i:03d}", subjects=[f"meter-{i:03d}"])


def test_search_and_page_through_a_list(console, page, make_customer):
    seed_many(make_customer)
    page.goto(f"{console}/customers/?size=20")
    expect(page.locator("#results-count")).to_have_text("1–20 of 60 customers")
    page.get_by_role("navigation", name="Pages, bottom").get_by_role("link", name="Page 2").click()
    expect(page.locator("#results-count")).to_have_text("21–40 of 60 customers")
    expect(page).to_have_url(re.compile(r"page=2"))
    page.get_by_role("searchbox", name="Search").press_sequentially("meter-05", delay=20)
    expect(page.locator("#results-count")).to_have_text("1–10 of 10 customers matching “meter-05”")
    expect(page).to_have_url(re.compile(r"q=meter-05"))
    page.get_by_role("link", name="Name", exact=True).click()
    expect(page.locator("tbody tr").first).to_contain_text("Customer 059")
    page.get_by_role("searchbox", name="Search").fill("no-such-thing")
    expect(page.get_by_role("heading", name="No customer matches “no-such-thing”")).to_be_visible()
    page.go_back()
    expect(page.locator("#results-count")).to_contain_text("of 10 customers")


@NO_JS
def test_search_and_page_with_javascript_off(console, page, make_customer):
    seed_many(make_customer)
    page.goto(f"{console}/customers/?size=20")
    page.get_by_role("searchbox", name="Search").fill("meter-05")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.locator("#results-count")).to_have_text("1–10 of 10 customers matching “meter-05”")
    page.get_by_role("link", name="Clear filters").first.click()
    page.get_by_role("navigation", name="Pages, bottom").get_by_role("link", name="Next ›").click()
    expect(page.locator("#results-count")).to_have_text("51–60 of 60 customers")


def test_key_lookup_is_exact(console, page, make_customer):
    # The search box opens a customer by its exact key (case-sensitive) on Enter.
    make_customer(name="Lower Acme", key="acme")
    make_customer(name="Upper Acme", key="ACME")
    page.goto(f"{console}/customers/")
    page.get_by_role("searchbox", name="Search").fill("acme")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lower Acme")
    page.goto(f"{console}/customers/lookup?key=Acme")
    expect(page.get_by_role("alert")).to_contain_text("No live customer has the key Acme")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("Acme")


def test_edit_a_customer(console, page, make_customer):
    customer_id = make_customer(name="Acme", key="acme", subjects=["acme"])
    page.goto(f"{console}/customers/{customer_id}")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("Acme Renamed")
    page.get_by_role("button", name="Remove subject key 1").click()
    expect(page.get_by_label("Subject key 1", exact=True)).to_have_value("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Renamed")
    expect(page.get_by_role("region", name="Subjects")).to_contain_text("No subjects")


def test_delete_then_reuse_the_key(console, page, make_customer):
    customer_id = make_customer(name="Acme", key="acme", subjects=["acme"])
    page.goto(f"{console}/customers/{customer_id}")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("main")).to_contain_text("its key acme becomes free")
    page.get_by_role("button", name="Delete this customer").click()
    expect(page.get_by_role("status").first).to_contain_text("Free for reuse now: acme.")
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name", exact=True).fill("Acme Reborn")
    page.get_by_label("Key", exact=True).fill("acme")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Reborn")


def test_every_page_passes_axe(console, page, make_customer, assert_accessible):
    page.goto(f"{console}/customers/")
    assert_accessible(page)  # the empty state
    customer_id = make_customer(
        name="Acme", key="acme", subjects=["acme", "acme-2"], metadata={"tier": "gold"}, currency="USD"
    )
    make_customer(name="Gone", key="gone")
    for path in [
        "/customers/",
        "/customers/?q=zzz",
        "/customers/lookup?key=nope",
        "/customers/new",
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/edit",
        f"/customers/{customer_id}/delete",
        "/customers/01ZZZZZZZZZZZZZZZZZZZZZZZZ",
    ]:
        page.goto(f"{console}{path}")
        assert_accessible(page)
    page.goto(f"{console}/customers/new")
    page.get_by_label("Key", exact=True).fill("acme")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)  # the form with errors and a conflict link
