"""An operator creates plans and subscribes customers in a real browser; the currency rule holds."""

import re

import pytest
from playwright.sync_api import expect

from app.plans import rules
from app.plans.rules import PlanInput

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)


@pytest.fixture
def make_plan(app):
    def make(key="pro_eur", name="Pro", currency="EUR", amount="49.00", cadence="P1M") -> str:
        with app.app_context():
            return rules.create_plan(
                PlanInput(name=name, key=key, currency=currency, amount=amount, billing_cadence=cadence)
            ).id

    return make


@pytest.fixture
def subscribe(app):
    """Subscribe through the rules, where subscribing is not what a test is about."""

    def start(plan_key, customer_id) -> str:
        with app.app_context():
            return rules.subscribe(plan_key, customer_id=customer_id).id

    return start


@pytest.fixture
def eur_customer_and_plans(make_customer, make_plan) -> str:
    make_plan(key="pro_eur", name="Pro", currency="EUR")
    make_plan(key="pro_usd", name="Pro US", currency="USD", amount="59.00")
    return make_customer(name="Acme", key="acme", currency="EUR")


def subscribe_to(page, console, customer_id, label):
    page.goto(f"{console}/customers/{customer_id}")
    page.get_by_label("Plan").select_option(label=label)
    page.get_by_role("button", name="Subscribe").click()


def subscribed_to(page, console, customer_id, label):
    """Subscribe from the customer page and wait until the page says it is done."""
    subscribe_to(page, console, customer_id, label)
    expect(page.get_by_role("status").first).to_contain_text("is now subscribed to")


def test_create_a_plan(console, page):
    page.goto(f"{console}/customers/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans").click()
    expect(page.get_by_role("heading", name="No plans yet")).to_be_visible()
    page.get_by_role("link", name="New plan").click()
    expect(page).to_have_title(re.compile("New plan"))
    page.get_by_label("Name").fill("Pro")
    page.get_by_label("Key", exact=True).fill("pro_eur")
    page.get_by_label("Currency").select_option(label="EUR — Euro")
    page.get_by_label("Amount").fill("49.999")
    page.get_by_label("Billing period").select_option(label="Every 3 months (P3M)")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#amount-error")).to_have_text('A price in EUR has at most 2 decimals; "49.999" has 3.')
    expect(page.get_by_label("Key", exact=True)).to_have_value("pro_eur")
    page.get_by_label("Amount").fill("49.90")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pro")
    expect(page.get_by_role("region", name="Details")).to_contain_text("€49.90 every 3 months")


def test_subscribe_a_eur_customer_to_a_eur_plan(console, page, eur_customer_and_plans):
    subscribe_to(page, console, eur_customer_and_plans, "Pro — €49.00 monthly")
    expect(page.get_by_role("status").first).to_contain_text("“Acme” is now subscribed to Pro.")
    section = page.get_by_role("region", name="Subscription")
    expect(section).to_contain_text("Subscribed to Pro (pro_eur), €49.00 monthly")
    expect(section.get_by_role("link", name="Cancel subscription")).to_be_visible()


def plan_options(page) -> list[str]:
    return page.get_by_label("Plan").locator("option").all_inner_texts()


def test_only_plans_in_the_customers_currency_are_offered_and_a_refusal_shows_in_place(
    console, page, app, eur_customer_and_plans
):
    page.goto(f"{console}/customers/{eur_customer_and_plans}")
    assert plan_options(page) == ["Choose a plan", "Pro — €49.00 monthly"]  # not the USD plan
    page.get_by_label("Plan").select_option(label="Pro — €49.00 monthly")
    with app.app_context():
        rules.delete_plan("pro_eur")  # meanwhile
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#plan-error")).to_contain_text('No live plan has the key "pro_eur"')
    expect(page).to_have_url(f"{console}/customers/{eur_customer_and_plans}")  # swapped in place
    expect(page.get_by_label("Plan")).to_have_attribute("aria-invalid", "true")


@NO_JS
def test_subscribe_and_be_refused_with_javascript_off(console, page, eur_customer_and_plans):
    page.goto(f"{console}/customers/{eur_customer_and_plans}")
    assert plan_options(page) == ["Choose a plan", "Pro — €49.00 monthly"]
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#plan-error")).to_contain_text("Choose a plan.")
    page.get_by_label("Plan").select_option(label="Pro — €49.00 monthly")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")
    expect(page.get_by_role("region", name="Subscription")).to_contain_text("Subscribed to Pro")


def test_without_a_plan_in_its_currency_a_customer_is_told_so_with_a_link(console, page, make_plan, make_customer):
    make_plan(key="pro_usd", name="Pro US", currency="USD", amount="59.00")
    customer_id = make_customer(name="Acme", key="acme", currency="EUR")
    page.goto(f"{console}/customers/{customer_id}")
    section = page.get_by_role("region", name="Subscription")
    expect(section.locator("#no-plan")).to_have_text("No plan in EUR yet: create one to subscribe Acme to it.")
    expect(section.get_by_label("Plan")).to_have_count(0)
    section.get_by_role("link", name="create one").click()
    expect(page).to_have_title(re.compile("New plan"))


def test_delete_the_subscribed_customer_read_why_not_then_cancel_and_delete(console, page, eur_customer_and_plans):
    subscribed_to(page, console, eur_customer_and_plans, "Pro — €49.00 monthly")
    page.get_by_role("link", name="Delete").click()
    reason = page.locator("#cannot-delete")
    expect(reason).to_contain_text("Acme cannot be deleted while it has an active subscription, to Pro")
    expect(page.get_by_role("button", name="Delete this customer")).to_have_count(0)
    reason.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subscription of Acme to Pro")
    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_role("main")).to_contain_text("it ends now")
    page.get_by_role("button", name="Cancel the subscription").click()
    expect(page.get_by_role("status").first).to_contain_text("The subscription of “Acme” to Pro ended.")
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete this customer").click()
    expect(page.get_by_role("status").first).to_contain_text("Customer “Acme” deleted.")


@NO_JS
def test_cancel_then_delete_with_javascript_off(console, page, eur_customer_and_plans):
    subscribed_to(page, console, eur_customer_and_plans, "Pro — €49.00 monthly")
    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_role("button", name="Cancel the subscription").click()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete this customer").click()
    expect(page.get_by_role("status").first).to_contain_text("Customer “Acme” deleted.")


def test_change_plan_and_see_the_history(console, page, eur_customer_and_plans, make_plan):
    make_plan(key="team_eur", name="Team", amount="990", cadence="P1Y")
    subscribed_to(page, console, eur_customer_and_plans, "Pro — €49.00 monthly")
    page.get_by_role("link", name="Change plan").click()
    page.get_by_label("New plan").select_option(label="Team — €990.00 yearly")
    page.get_by_role("button", name="Change plan").click()
    expect(page.get_by_role("status").first).to_contain_text("moved from Pro to Team")
    history = page.get_by_role("table", name=re.compile("Subscriptions of Acme"))
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").first).to_contain_text("Team")


def test_the_currency_field_is_locked_and_says_why(console, page, eur_customer_and_plans, subscribe):
    subscribe("pro_eur", eur_customer_and_plans)
    page.goto(f"{console}/customers/{eur_customer_and_plans}")
    page.get_by_role("link", name="Edit").click()
    currency = page.get_by_label("Currency (locked)")
    expect(currency).to_be_disabled()
    expect(currency).to_have_accessible_description(re.compile("Locked while Acme has an active subscription"))


def test_customers_list_filters_by_plan(console, page, eur_customer_and_plans, make_customer, subscribe):
    make_customer(name="Other", key="other", currency="EUR")
    subscribe("pro_eur", eur_customer_and_plans)
    page.goto(f"{console}/customers/")
    expect(page.locator("tbody tr", has_text="Acme")).to_contain_text("Pro")
    page.get_by_label("Plan", exact=True).select_option(label="Pro (EUR)")
    expect(page.locator("#results-count")).to_have_text("1–1 of 1 customer")
    expect(page).to_have_url(re.compile(r"plan=pro_eur"))


def test_every_plans_page_passes_axe(console, page, make_customer, make_plan, subscribe, assert_accessible):
    page.goto(f"{console}/plans/")
    assert_accessible(page)  # the empty state
    plan_id = make_plan(key="pro_eur", name="Pro")
    make_plan(key="pro_usd", name="Pro US", currency="USD", amount="59.00")
    subscribed = make_customer(name="Globex", key="globex", currency="EUR")
    customer_id = make_customer(name="Acme", key="acme", currency="EUR")
    subscription_id = subscribe("pro_eur", subscribed)
    for path in [
        "/plans/",
        "/plans/new",
        f"/plans/{plan_id}",
        f"/plans/{plan_id}/edit",
        f"/plans/{plan_id}/delete",
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/subscribe",
        f"/customers/{subscribed}",
        f"/customers/{subscribed}/edit",
        f"/customers/{subscribed}/delete",
        "/customers/?plan=pro_eur",
        f"/subscriptions/{subscription_id}",
        f"/subscriptions/{subscription_id}/change",
        f"/subscriptions/{subscription_id}/cancel",
    ]:
        page.goto(f"{console}{path}")
        assert_accessible(page)
    page.goto(f"{console}/customers/{customer_id}")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#plan-error")).to_be_visible()
    assert_accessible(page)  # the refusal in place
    page.goto(f"{console}/plans/new")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)  # the plan form with errors
