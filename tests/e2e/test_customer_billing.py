"""An operator chooses a customer's billing profile and edits its app data in a real browser."""

import pytest
from playwright.sync_api import expect

from app.apps import customer_data
from app.apps import rules as app_rules
from app.billing import rules as billing_rules
from app.extensions import db

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)
SECRET = "sk_test_51SecretSecretSecretSecret1234567890xyz"


@pytest.fixture
def stripe(app):
    """A Stripe app with its own billing profile, the sandbox profile staying the default."""
    with app.app_context():
        installed, _ = app_rules.install("stripe", name="Stripe EU", api_key=SECRET)
        profile = billing_rules.live_profiles_using(installed.id)[0]
        if profile.is_default:
            billing_rules.make_default(next(p for p in billing_rules.live_profiles() if p.id != profile.id).id)
        app_id = installed.id
        db.session.remove()
    return app_id


def test_pin_a_customer_to_a_profile_and_return_it_to_the_default(console, page, make_customer, stripe):
    customer = make_customer()
    page.goto(f"{console}/customers/{customer}/edit")
    page.get_by_label("Billing profile").select_option(label="Stripe EU billing profile")
    page.get_by_role("button", name="Save", exact=True).click()
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Stripe EU billing profile (pinned)")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Billing profile")).to_have_value(
        page.get_by_label("Billing profile").locator("option", has_text="Stripe EU").get_attribute("value")
    )
    page.get_by_label("Billing profile").select_option(label="Default profile (currently: Default billing profile)")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(details).to_contain_text("Default billing profile (default)")


def _app_data_post(response) -> bool:
    return response.request.method == "POST" and "/apps/" in response.url


def set_change_and_clear(page, console, customer, app_id):
    page.goto(f"{console}/customers/{customer}")
    section = page.locator(f"#app-{app_id}")
    section.get_by_label("Stripe customer id").fill("cus_First1")
    with page.expect_response(_app_data_post):
        section.get_by_role("button", name="Save Stripe EU data").click()
    expect(page.get_by_role("status").filter(has_text="Stripe EU data saved.")).to_be_visible()
    section = page.locator(f"#app-{app_id}")
    expect(section.get_by_label("Stripe customer id")).to_have_value("cus_First1")

    section.get_by_label("Stripe customer id").fill("cus_Second2")
    section.get_by_label("Default payment method id").fill("pm_Card1")
    # Wait for each answer: "saved" is already on the page from the first save.
    with page.expect_response(_app_data_post):
        section.get_by_role("button", name="Save Stripe EU data").click()
    expect(page.get_by_role("status").filter(has_text="Stripe EU data saved.")).to_be_visible()
    expect(page.locator(f"#app-{app_id}").get_by_label("Stripe customer id")).to_have_value("cus_Second2")

    with page.expect_response(_app_data_post):
        page.locator(f"#app-{app_id}").get_by_role("button", name="Clear Stripe EU data").click()
    expect(page.get_by_text("Remove the Stripe EU data of")).to_be_visible()  # asked first
    with page.expect_response(_app_data_post):
        page.locator(f"#app-{app_id}").get_by_role("button", name="Remove Stripe EU data").click()
    expect(page.get_by_role("status").filter(has_text="Stripe EU data removed.")).to_be_visible()
    expect(page.locator(f"#app-{app_id}").get_by_label("Stripe customer id")).to_have_value("")
    expect(page.locator(f"#app-{app_id}").get_by_role("button", name="Clear Stripe EU data")).to_have_count(0)


def test_set_change_and_clear_a_stripe_customer_id(console, page, make_customer, stripe):
    set_change_and_clear(page, console, make_customer(), stripe)


@NO_JS
def test_set_change_and_clear_a_stripe_customer_id_with_javascript_off(console, page, make_customer, stripe):
    set_change_and_clear(page, console, make_customer(), stripe)


def see_the_conflict(app, page, console, make_customer, stripe):
    holder = make_customer(name="Holder Ltd", key="holder")
    with app.app_context():
        customer_data.upsert(holder, [customer_data.AppDataInput("stripe", stripe, "cus_Taken1")], indexed=False)
        db.session.remove()
    customer = make_customer()
    page.goto(f"{console}/customers/{customer}")
    section = page.locator(f"#app-{stripe}")
    section.get_by_label("Stripe customer id").fill("cus_Taken1")
    section.get_by_label("Default payment method id").fill("pm_Kept1")
    section.get_by_role("button", name="Save Stripe EU data").click()
    section = page.locator(f"#app-{stripe}")
    error = section.locator(f"#app-{stripe}-stripe_customer_id-error")
    expect(error).to_contain_text('already belongs to customer "Holder Ltd"')
    expect(error.get_by_role("link", name="Open that customer")).to_have_attribute("href", f"/customers/{holder}")
    expect(section.get_by_label("Stripe customer id")).to_have_value("cus_Taken1")
    expect(section.get_by_label("Default payment method id")).to_have_value("pm_Kept1")


def test_see_the_conflict_when_another_customer_has_the_stripe_id(app, console, page, make_customer, stripe):
    see_the_conflict(app, page, console, make_customer, stripe)


@NO_JS
def test_see_the_conflict_with_javascript_off(app, console, page, make_customer, stripe):
    see_the_conflict(app, page, console, make_customer, stripe)


def test_the_customer_page_and_form_are_accessible(app, console, page, make_customer, stripe, assert_accessible):
    with app.app_context():
        app_rules.install("custom_invoicing", name="ERP", create_billing_profile=False)
        db.session.remove()
    customer = make_customer()
    page.goto(f"{console}/customers/{customer}")
    section = page.locator(f"#app-{stripe}")
    section.get_by_label("Stripe customer id").fill("bad")
    section.get_by_role("button", name="Save Stripe EU data").click()
    expect(page.locator(f"#app-{stripe}-stripe_customer_id-error")).to_be_visible()
    expect(page.get_by_role("heading", name="App metadata")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{console}/customers/{customer}/edit")
    expect(page.get_by_label("Billing profile")).to_be_visible()
    assert_accessible(page)
