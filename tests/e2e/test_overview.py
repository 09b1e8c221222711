"""The overview in a browser: at a desk and on a phone, in both themes, it fits, passes axe, and
its "needs attention" links open the customers list."""

import re

import pytest
from playwright.sync_api import expect

from app.common import Address

SIZES = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def customers(make_customer):
    make_customer(
        name="Complete", key="complete", subjects=["complete"], currency="EUR", billing_address=Address(country="DE")
    )
    make_customer(name="Nameless Currency", key="no-currency", subjects=["s1"], billing_address=Address(country="FR"))
    make_customer(name="Acme", key="acme", currency="USD")
    make_customer(name="ACME Again", key="ACME", currency="USD")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_overview_fits_and_is_accessible(console, page, customers, assert_accessible, size, theme):
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=theme)
    page.goto(console + "/")  # the console's home
    expect(page).to_have_url(re.compile(r"/overview/$"))
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("New customers per week"))).to_be_visible()
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window
    assert_accessible(page)
    page.get_by_text("Show as a table").click()
    expect(page.get_by_role("region", name="New customers per week, as a table")).to_be_visible()
    assert_accessible(page)


def test_a_needs_attention_link_opens_the_list_filtered_by_it(console, page, customers):
    page.goto(console + "/overview/")
    attention = page.get_by_role("region", name="Needs attention")
    item = attention.get_by_role("listitem").filter(has_text="Key differs from another only by case")
    expect(item).to_contain_text("2")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/customers/\?attention=key_case_clash$"))
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()


def test_refresh_now_counts_again(console, page, customers, make_customer):
    page.goto(console + "/overview/")
    kpi = page.locator(".kpi").filter(has_text="All customers").locator(".kpi-value")
    expect(kpi).to_have_text("4")
    make_customer(name="Later", key="later")
    page.reload()
    expect(kpi).to_have_text("4")  # the kept figures, still fresh
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_role("status")).to_contain_text("counted again just now")
    expect(kpi).to_have_text("5")
