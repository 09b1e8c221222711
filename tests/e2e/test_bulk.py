"""An operator changes many customers at once in a real browser: tick rows or take all that match,
preview, give a reason, run; with JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)


def tag_two_of_three(page, console, make_customer):
    for name in ("Alpha", "Bravo", "Charlie"):
        make_customer(name=name, key=name.lower())
    page.goto(f"{console}/customers/")
    page.get_by_label("Tick Alpha").check()
    page.get_by_label("Tick Charlie").check()
    page.get_by_role("button", name="Change ticked…").click()
    expect(page.get_by_text("2 customers ticked on the list")).to_be_visible()
    page.get_by_label("Add a tag").check()
    page.get_by_label("Tag", exact=True).fill("key-account")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_role("list", name="What the change would do")).to_contain_text("2 customers to change")
    page.get_by_label("Reason").fill("Accounts Ilona manages")
    page.get_by_role("button", name="Change 2 customers").click()
    expect(page.get_by_role("list", name="What the change did")).to_contain_text("2 customers changed")
    page.goto(f"{console}/customers/?tag=key-account")
    expect(page.locator("#results")).to_contain_text("Alpha")
    expect(page.locator("#results")).not_to_contain_text("Bravo")


def test_tag_ticked_customers(console, page, make_customer):
    tag_two_of_three(page, console, make_customer)


@NO_JS
def test_tag_ticked_customers_with_javascript_off(console, page, make_customer):
    tag_two_of_three(page, console, make_customer)


def test_delete_all_matching_then_undo(console, page, make_customer):
    for n in range(3):
        make_customer(name=f"Trial {n}", key=f"trial-{n}", currency="USD")
    make_customer(name="Keeper", key="keeper", currency="EUR")
    page.goto(f"{console}/customers/?currency=USD")
    page.get_by_role("button", name=re.compile("^Change all 3")).click()
    page.get_by_role("radio", name=re.compile("^Delete")).check()
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_label("Reason").fill("Expired trials")
    page.get_by_role("button", name="Delete 3 customers").click()
    expect(page.get_by_role("list", name="What the change did")).to_contain_text("3 customers changed")
    page.get_by_role("button", name="Undo this change").click()
    expect(page.get_by_role("list", name="What the change did")).to_contain_text("3 customers changed")
    page.goto(f"{console}/customers/?currency=USD")
    expect(page.locator("#results")).to_contain_text("Trial 2")
