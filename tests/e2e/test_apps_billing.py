"""An operator works with apps and billing profiles in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from app.apps import rules as app_rules
from app.billing import rules

KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ"
NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)


def install_stripe(page, console):
    page.goto(f"{console}/apps/")
    page.get_by_role("link", name="Install Stripe").click()
    expect(page).to_have_title(re.compile("Install Stripe"))
    page.get_by_label("Name", exact=True).fill("Stripe EU")
    page.get_by_label("Secret API key").fill(KEY)
    page.get_by_role("button", name="Install").click()
    expect(page.get_by_role("status").first).to_contain_text("Stripe app “Stripe EU” installed.")


def create_profile_on_stripe(page, console, name="Stripe Europe"):
    page.goto(f"{console}/billing/profiles/")
    page.get_by_role("link", name="New billing profile").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Supplier name").fill("Acme Kft.")
    page.get_by_label("Country").select_option(label="Hungary")
    page.get_by_label("Due after", exact=True).fill("45")
    page.get_by_label("App", exact=True).select_option(label="Stripe EU (stripe)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Billing profile “{name}” created.")


def test_install_stripe_and_see_only_the_masked_key(console, page):
    install_stripe(page, console)
    row = page.get_by_role("row", name=re.compile("Stripe EU"))
    expect(row).to_contain_text("sk_test_***XYZ")
    expect(page.locator("body")).not_to_contain_text(KEY)
    page.get_by_role("link", name="Edit Stripe EU").click()
    expect(page.locator("body")).to_contain_text("sk_test_***XYZ")
    assert KEY not in page.content()


def make_default(page, name: str, moves: str):
    """Make a profile the default from the list, through its confirmation page."""
    page.get_by_role("link", name=f"Make {name} the default").click()
    expect(page.locator("#consequence")).to_contain_text(f"This moves {moves} to {name}")
    page.get_by_role("button", name=f"Make {name} the default").click()


def test_create_a_profile_on_stripe_and_make_it_the_default(console, page, app, make_customer):
    install_stripe(page, console)
    create_profile_on_stripe(page, console)
    make_customer(name="Follows the default", key="follower")
    make_default(page, "Stripe Europe", "1 customer")
    expect(page.get_by_role("status").first).to_contain_text("“Stripe Europe” is now the default billing profile.")
    expect(page.get_by_role("row", name=re.compile("Stripe Europe"))).to_contain_text("default")
    with app.app_context():
        profile = rules.default_profile()
        assert profile.name == "Stripe Europe" and profile.invoicing_due_after == "P45D"


def test_keeping_the_default_on_the_confirmation_changes_nothing(console, page, app):
    install_stripe(page, console)
    page.goto(f"{console}/billing/profiles/")
    page.get_by_role("link", name="Make Default billing profile the default").click()
    page.get_by_role("link", name="Keep Stripe EU billing profile").click()
    expect(page).to_have_title(re.compile("Billing profiles"))
    with app.app_context():
        assert rules.default_profile().name == "Stripe EU billing profile"


@NO_JS
def test_make_default_with_javascript_off(console, page, app):
    install_stripe(page, console)
    page.get_by_role("link", name="Billing profiles").click()
    make_default(page, "Default billing profile", "0 customers")
    expect(page.get_by_role("status").first).to_contain_text("“Default billing profile” is now the default")
    with app.app_context():
        assert rules.default_profile().name == "Default billing profile"


def test_try_to_delete_the_default_profile_and_read_why_not(console, page):
    install_stripe(page, console)
    create_profile_on_stripe(page, console)
    make_default(page, "Stripe Europe", "0 customers")
    expect(page.get_by_role("status").first).to_contain_text("is now the default")
    page.get_by_role("link", name="Delete Stripe Europe").click()
    page.get_by_role("button", name="Delete this profile").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("“Stripe Europe” cannot be deleted")
    expect(alert).to_contain_text("is the default and cannot be deleted; make another profile the default first")


def test_try_to_uninstall_its_app_and_read_why_not(console, page):
    install_stripe(page, console)
    create_profile_on_stripe(page, console)
    page.goto(f"{console}/apps/")
    page.get_by_role("link", name="Uninstall Stripe EU").click()
    page.get_by_role("button", name="Uninstall this app").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Stripe EU cannot be uninstalled")
    expect(alert.get_by_role("link", name="Stripe Europe")).to_be_visible()
    expect(alert.get_by_role("link", name="Stripe EU billing profile")).to_be_visible()


def test_editor_errors_show_beside_fields_and_keep_input(console, page):
    page.goto(f"{console}/billing/profiles/new")
    page.get_by_label("Supplier name").fill("Kept Ltd")
    page.get_by_label("Due after", exact=True).fill("soon")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#due_after_amount-error")).to_contain_text("Enter a whole number")
    expect(page.locator("#name-error")).to_contain_text("Name is required.")
    expect(page.get_by_label("Supplier name")).to_have_value("Kept Ltd")
    expect(page.get_by_label("Due after", exact=True)).to_have_value("soon")


def test_every_new_page_passes_axe(console, page, app, assert_accessible):
    with app.app_context():
        stripe = app_rules.install("stripe", name="Stripe EU", api_key=KEY)[0]
        stripe_id = stripe.id
        profile_id = rules.live_profiles_using(stripe_id)[0].id
        sandbox_profile_id = next(p.id for p in rules.live_profiles() if not p.is_default)
    for path in [
        "/apps/",
        "/apps/install/stripe",
        "/apps/install/custom_invoicing",
        f"/apps/{stripe_id}/edit",
        f"/apps/{stripe_id}/uninstall",
        "/billing/profiles/",
        "/billing/profiles/new",
        f"/billing/profiles/{profile_id}/edit",
        f"/billing/profiles/{sandbox_profile_id}/default",
        f"/billing/profiles/{profile_id}/delete",
    ]:
        page.goto(f"{console}{path}")
        assert_accessible(page)
    page.get_by_role("button", name="Delete this profile").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)  # the refusal
    page.goto(f"{console}/apps/{stripe_id}/uninstall")
    page.get_by_role("button", name="Uninstall this app").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{console}/billing/profiles/new")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)  # the editor with errors
    page.goto(f"{console}/apps/install/stripe")
    page.get_by_role("button", name="Install").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)
