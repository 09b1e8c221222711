"""The plans console and the subscription pages through Flask's test client."""

import re
from html import unescape

import pytest
import sqlalchemy as sa

from app.customers import rules as customers
from app.customers.rules import CustomerInput
from app.extensions import db
from app.plans import rules
from app.plans.rules import PlanInput
from tests.helpers import HTMX, post, text


def field_errors(response) -> list[str]:
    return [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", m))).strip()
        for m in re.findall(r'class="field-error">(.*?)</p>', response.text, re.DOTALL)
    ]


def make_plan(app, key="pro", currency="EUR", amount="49", name="Pro"):
    with app.app_context():
        return rules.create_plan(
            PlanInput(name=name, key=key, currency=currency, amount=amount, billing_cadence="P1M")
        ).id


def make_customer(app, key="acme", currency="EUR", name="Acme"):
    with app.app_context():
        return customers.create(CustomerInput(name=name, key=key, currency=currency)).id


def subscribe(app, plan_key, customer_id):
    with app.app_context():
        return rules.subscribe(plan_key, customer_id=customer_id).id


# --- Plans ------------------------------------------------------------------------------------


def test_plans_list_empty_then_with_prices_and_counts(client, app):
    assert "No plans yet" in text(client.get("/plans/"))
    make_plan(app, key="pro", amount="49.5")
    make_plan(app, key="yen", currency="JPY", amount="5000", name="Yen plan")
    subscribe(app, "pro", make_customer(app))
    shown = text(client.get("/plans/"))
    assert "€49.50 monthly" in shown and "¥5,000 monthly" in shown
    assert re.search(r"Pro pro €49.50 monthly 1 ", shown)


def test_create_a_plan_from_the_form(csrf_client):
    data = {"name": "Pro", "key": "pro_monthly", "currency": "EUR", "amount": "49.90", "billing_cadence": "P3M"}
    response = post(csrf_client, "/plans/new", {**data, "description": "For teams", "action": "save"})
    assert response.status_code == 303
    page = text(csrf_client.get(response.headers["Location"]))
    assert "Plan “Pro” saved." in page and "€49.90 every 3 months" in page and "For teams" in page
    again = post(csrf_client, "/plans/new", {**data, "key": "pro_2", "action": "save_add"})
    assert again.status_code == 303 and again.headers["Location"].endswith("/plans/new")


def test_plan_errors_sit_beside_their_fields_and_input_is_kept(csrf_client, app):
    make_plan(app, key="taken", name="Holder")
    response = post(
        csrf_client,
        "/plans/new",
        {
            "name": "",
            "key": "taken",
            "currency": "EUR",
            "amount": "12.345",
            "billing_cadence": "P1M",
            "description": "kept",
        },
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert "Name is required." in errors
    assert 'A price in EUR has at most 2 decimals; "12.345" has 3.' in errors
    assert "There are 2 problems" in text(response)  # the key conflict is checked once the fields are valid
    for kept in ('value="taken"', 'value="12.345"', "kept</textarea>", '<option selected value="EUR">'):
        assert kept in response.text
    conflict = post(
        csrf_client,
        "/plans/new",
        {"name": "X", "key": "taken", "currency": "USD", "amount": "1", "billing_cadence": "P1M"},
    )
    assert conflict.status_code == 422 and any('"Holder" (taken)' in e for e in field_errors(conflict))


def test_edit_a_plan_but_not_its_key_or_currency(csrf_client, app):
    plan_id = make_plan(app, key="pro", amount="49")
    form = csrf_client.get(f"/plans/{plan_id}/edit")
    assert 'value="49.00"' in form.text and 'name="key"' not in form.text and 'name="currency"' not in form.text
    assert "fixed once a plan exists" in text(form)
    saved = post(
        csrf_client,
        f"/plans/{plan_id}/edit",
        {"name": "Pro+", "amount": "59", "billing_cadence": "P1Y", "version": "1"},
    )
    assert saved.status_code == 303
    assert "€59.00 yearly" in text(csrf_client.get(f"/plans/{plan_id}"))
    stale = post(
        csrf_client, f"/plans/{plan_id}/edit", {"name": "Mine", "amount": "1", "billing_cadence": "P1M", "version": "1"}
    )
    assert stale.status_code == 409 and "changed by someone else" in text(stale)
    assert 'name="version" type="hidden" value="2"' in stale.text and 'value="Mine"' in stale.text


def test_delete_a_plan_or_read_why_not(csrf_client, app):
    plan_id = make_plan(app, key="pro")
    customer_id = make_customer(app, name="Acme Ltd")
    subscription_id = subscribe(app, "pro", customer_id)
    confirm = csrf_client.get(f"/plans/{plan_id}/delete")
    assert "cannot be deleted while customers are subscribed" in text(confirm) and "Acme Ltd" in text(confirm)
    assert "Delete this plan" not in confirm.text
    refused = post(csrf_client, f"/plans/{plan_id}/delete")
    assert refused.status_code == 409 and "Acme Ltd" in text(refused)
    with app.app_context():
        rules.cancel(subscription_id)
    assert "its key pro becomes free" in text(csrf_client.get(f"/plans/{plan_id}/delete"))
    done = post(csrf_client, f"/plans/{plan_id}/delete")
    assert done.status_code == 303 and done.headers["Location"].endswith("/plans/")
    assert "Its key pro is free" in text(csrf_client.get("/plans/"))
    assert "This plan was deleted" in text(csrf_client.get(f"/plans/{plan_id}"))
    assert csrf_client.get(f"/plans/{plan_id}/edit").status_code == 303
    assert csrf_client.get("/plans/01ZZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


# --- Subscribing from the customer page --------------------------------------------------------


def test_the_customer_page_offers_only_plans_in_its_currency(client, app):
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    make_plan(app, key="pro", currency="EUR", name="Pro")
    customer_id = make_customer(app, currency="EUR")
    page = client.get(f"/customers/{customer_id}")
    options = re.findall(r'<option value="([^"]*)">([^<]*)</option>', page.text)
    assert [(v, unescape(t)) for v, t in options if v in ("pro", "pro_usd")] == [("pro", "Pro — €49.00 monthly")]
    assert "these are the plans in EUR" in text(page)
    subscribe_page = client.get(f"/customers/{customer_id}/subscribe").text
    assert 'value="pro"' in subscribe_page and 'value="pro_usd"' not in subscribe_page


def test_a_customer_without_a_currency_is_offered_every_plan(client, app):
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    make_plan(app, key="pro", currency="EUR", name="Pro")
    customer_id = make_customer(app, currency=None)
    page = client.get(f"/customers/{customer_id}").text
    assert 'value="pro"' in page and 'value="pro_usd"' in page


def test_without_a_plan_in_its_currency_the_page_says_so_with_a_link(client, client_as, app):
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    customer_id = make_customer(app, currency="EUR")
    page = client.get(f"/customers/{customer_id}")
    assert "No plan in EUR yet: create one to subscribe Acme to it." in text(page)
    assert 'href="/plans/new"' in page.text and 'id="subscribe-form"' not in page.text
    assert "No plan in EUR yet" in text(client.get(f"/customers/{customer_id}/subscribe"))
    # An editor, who cannot create plans, is told without the link.
    editor = text(client_as("editor").get(f"/customers/{customer_id}"))
    assert "No plan in EUR yet." in editor


def test_change_plan_is_offered_only_with_another_plan_in_the_currency(client, app):
    make_plan(app, key="pro", currency="EUR", name="Pro")
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    customer_id = make_customer(app, currency="EUR")
    subscription_id = subscribe(app, "pro", customer_id)
    page = text(client.get(f"/customers/{customer_id}"))
    assert "Change plan" not in page and "No other plan in EUR yet: create one" in page
    assert "Change plan" not in text(client.get(f"/subscriptions/{subscription_id}"))
    change = client.get(f"/subscriptions/{subscription_id}/change")
    assert "There is no other plan in EUR yet" in text(change) and 'value="pro_usd"' not in change.text
    make_plan(app, key="team", currency="EUR", name="Team")
    assert "Change plan" in text(client.get(f"/customers/{customer_id}"))
    assert "Change plan" in text(client.get(f"/subscriptions/{subscription_id}"))


def test_a_viewer_is_offered_no_subscribe_form(client_as, app):
    make_plan(app, key="pro", currency="EUR", name="Pro")
    customer_id = make_customer(app, currency="EUR")
    page = client_as("viewer").get(f"/customers/{customer_id}")
    assert 'id="subscribe-form"' not in page.text and "No active subscription." in text(page)


def test_a_viewer_is_offered_no_plan_changes(client, client_as, app):
    plan = make_plan(app, key="pro", currency="EUR", name="Pro")
    viewer = client_as("viewer")
    for url in ("/plans/", f"/plans/{plan}"):
        page = text(viewer.get(url))
        assert "New plan" not in page and "Edit" not in page and "Delete" not in page
    assert "New plan" in text(client.get("/plans/")) and "Delete" in text(client.get(f"/plans/{plan}"))


def test_subscribe_from_the_customer_page(csrf_client, app):
    make_plan(app, key="pro", name="Pro")
    make_plan(app, key="team", name="Team")  # another plan in EUR, to change to
    customer_id = make_customer(app, currency="EUR", name="Acme")
    response = post(csrf_client, f"/customers/{customer_id}/subscribe", {"plan": "pro"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/customers/{customer_id}")
    page = csrf_client.get(f"/customers/{customer_id}")
    shown = text(page)
    assert "“Acme” is now subscribed to Pro." in shown and "Subscribed to Pro ( pro ), €49.00 monthly" in shown
    assert "Change plan" in shown and "Cancel subscription" in shown and 'id="subscribe-form"' not in page.text


def test_another_currency_is_refused_beside_the_plan_field(csrf_client, app):
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    customer_id = make_customer(app, currency="EUR")
    page = post(csrf_client, f"/customers/{customer_id}/subscribe", {"plan": "pro_usd"})
    assert page.status_code == 422 and "<html" in page.text
    message = 'Plan "Pro US" (pro_usd) is priced in USD, but customer "Acme" pays in EUR'
    assert any(message in e for e in field_errors(page))  # a post the page never offered, refused all the same
    partial = post(
        csrf_client,
        f"/customers/{customer_id}/subscribe",
        {"plan": "pro_usd"},
        headers={**HTMX, "HX-Target": "subscribe-form"},
    )
    assert (
        partial.status_code == 422 and partial.text.lstrip().startswith("<form") and message in unescape(partial.text)
    )
    assert 'aria-invalid="true"' in partial.text and "HX-Request" in partial.headers["Vary"]
    assert re.search(r'<select[^>]*autofocus[^>]*id="plan"', partial.text)  # the refusal is read out


def test_a_successful_htmx_subscribe_redirects_the_whole_page(csrf_client, app):
    make_plan(app, key="pro")
    customer_id = make_customer(app, currency=None)
    response = post(
        csrf_client,
        f"/customers/{customer_id}/subscribe",
        {"plan": "pro"},
        headers={**HTMX, "HX-Target": "subscribe-form"},
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/customers/{customer_id}"
    assert "EUR — Euro" in text(csrf_client.get(f"/customers/{customer_id}"))  # it took the plan's currency


def test_no_plan_chosen_and_no_plans_at_all(csrf_client, app):
    customer_id = make_customer(app)
    assert "No plan in EUR yet: create one to subscribe Acme to it" in text(
        csrf_client.get(f"/customers/{customer_id}")
    )
    make_plan(app)
    response = post(csrf_client, f"/customers/{customer_id}/subscribe", {"plan": ""})
    assert response.status_code == 422 and "Choose a plan." in field_errors(response)


def test_the_subscribe_page_works_on_its_own(csrf_client, app):
    make_plan(app)
    customer_id = make_customer(app)
    page = csrf_client.get(f"/customers/{customer_id}/subscribe")
    assert page.status_code == 200 and "Subscribe Acme to a plan" in text(page)
    subscribe(app, "pro", customer_id)
    again = csrf_client.get(f"/customers/{customer_id}/subscribe")
    assert again.status_code == 303
    assert "already has a plan" in text(csrf_client.get(again.headers["Location"]))


# --- Changing plan, cancelling, and what a subscription forbids ---------------------------------


def test_change_plan_page(csrf_client, app):
    make_plan(app, key="basic", name="Basic")
    make_plan(app, key="team", name="Team")
    make_plan(app, key="pro_usd", currency="USD", name="Pro US")
    customer_id = make_customer(app)
    subscription_id = subscribe(app, "basic", customer_id)
    page = csrf_client.get(f"/subscriptions/{subscription_id}/change")
    assert 'value="basic"' not in page.text and 'value="team"' in page.text
    refused = post(csrf_client, f"/subscriptions/{subscription_id}/change", {"plan": "pro_usd"})
    assert refused.status_code == 422 and any("priced in USD" in e for e in field_errors(refused))
    done = post(csrf_client, f"/subscriptions/{subscription_id}/change", {"plan": "team"})
    assert done.status_code == 303
    shown = text(csrf_client.get(done.headers["Location"]))
    assert "moved from Basic to Team" in shown and "Subscribed to Team" in shown and "History" in shown
    with app.app_context():
        rules.delete_plan("basic")
        rules.delete_plan("pro_usd")
        current_id = rules.active_subscription(customer_id).id
    assert "There is no other plan in EUR yet" in text(csrf_client.get(f"/subscriptions/{current_id}/change"))
    ended = csrf_client.get(f"/subscriptions/{subscription_id}/change")
    assert ended.status_code == 303 and ended.headers["Location"].endswith(f"/subscriptions/{subscription_id}")


def test_cancel_with_a_confirmation(csrf_client, app):
    make_plan(app, key="pro", name="Pro")
    customer_id = make_customer(app)
    subscription_id = subscribe(app, "pro", customer_id)
    confirm = text(csrf_client.get(f"/subscriptions/{subscription_id}/cancel"))
    assert "it ends now" in confirm and "can then be deleted" in confirm
    done = post(csrf_client, f"/subscriptions/{subscription_id}/cancel")
    assert done.status_code == 303
    assert "The subscription of “Acme” to Pro ended." in text(csrf_client.get(done.headers["Location"]))
    assert "ended" in text(csrf_client.get(f"/subscriptions/{subscription_id}"))
    assert csrf_client.get(f"/subscriptions/{subscription_id}/cancel").status_code == 303


def test_a_subscribed_customer_cannot_be_deleted_and_the_page_says_why(csrf_client, app):
    make_plan(app, key="pro", name="Pro")
    customer_id = make_customer(app)
    subscription_id = subscribe(app, "pro", customer_id)
    confirm = csrf_client.get(f"/customers/{customer_id}/delete")
    assert "cannot be deleted while it has an active subscription" in text(confirm)
    assert f'href="/subscriptions/{subscription_id}"' in confirm.text and "Delete this customer" not in confirm.text
    refused = post(csrf_client, f"/customers/{customer_id}/delete")
    assert refused.status_code == 409 and subscription_id in text(refused)
    with app.app_context():
        assert customers.get(customer_id).deleted_at is None
        rules.cancel(subscription_id)
    assert post(csrf_client, f"/customers/{customer_id}/delete").status_code == 303


def test_the_currency_field_is_locked_while_subscribed(csrf_client, app):
    make_plan(app, key="pro", name="Pro")
    customer_id = make_customer(app, currency="EUR")
    subscription_id = subscribe(app, "pro", customer_id)
    form = csrf_client.get(f"/customers/{customer_id}/edit")
    select = re.search(r'<select[^>]*id="currency"[^>]*>', form.text).group(0)
    assert "disabled" in select
    shown = text(form)
    assert "Currency (locked)" in shown and "Locked while Acme has an active subscription, to Pro in EUR" in shown
    assert f'href="/subscriptions/{subscription_id}"' in form.text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form.text).group(1)
    # A disabled field is not posted: the save keeps the currency. (No billing override: version 0.)
    data = {"name": "Acme 2", "key": "acme", "version": version, "billing_version": "0"}
    saved = post(csrf_client, f"/customers/{customer_id}/edit", data)
    assert saved.status_code == 303
    with app.app_context():
        assert customers.get(customer_id).currency == "EUR" and customers.get(customer_id).name == "Acme 2"
        rules.cancel(subscription_id)
    assert "disabled" not in re.search(
        r'<select[^>]*id="currency"[^>]*>', csrf_client.get(f"/customers/{customer_id}/edit").text
    ).group(0)


def test_customers_list_shows_and_filters_by_plan_without_a_query_per_row(client, app):
    make_plan(app, key="pro", name="Pro")
    make_plan(app, key="basic", name="Basic")
    for i in range(6):
        customer_id = make_customer(app, key=f"c{i}", name=f"Customer {i}")
        if i % 2:
            subscribe(app, "pro" if i < 4 else "basic", customer_id)
    page = text(client.get("/customers/"))
    # (each row: name, its copy button, key, its copy button, no subjects, currency, plan)
    assert "Customer 1 Copy id c1 Copy — EUR Pro" in page and "Customer 5 Copy id c5 Copy — EUR Basic" in page
    assert "1–2 of 2" in text(client.get("/customers/?plan=pro"))
    assert "Customer 5" in text(client.get("/customers/?plan=basic", headers={**HTMX, "HX-Target": "results"}))

    def statements_for(url):
        found = []

        def count(*args):
            found.append(args[2])

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                assert client.get(url).status_code == 200
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(found)

    assert statements_for("/customers/?q=Customer") == statements_for("/customers/?q=Customer+1")  # 6 rows, 1 row


def test_subscription_pages_belong_to_the_customers_section(client, app):
    make_plan(app)
    subscription_id = subscribe(app, "pro", make_customer(app))
    page = client.get(f"/subscriptions/{subscription_id}")
    assert re.search(r'<a href="/customers/" aria-current="page">Customers</a>', page.text)
    assert re.search(r'<a href="/plans/" aria-current="page">Plans</a>', client.get("/plans/").text)
    assert client.get("/subscriptions/01ZZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/plans/new",
        "/plans/{plan}/edit",
        "/plans/{plan}/delete",
        "/customers/{customer}/subscribe",
        "/subscriptions/{subscription}/change",
        "/subscriptions/{subscription}/cancel",
    ],
)
def test_writes_without_csrf_are_refused(client, app, path):
    plan_id = make_plan(app)
    make_plan(app, key="other")
    customer_id = make_customer(app)
    other_id = make_customer(app, key="other", name="Other")
    subscription_id = subscribe(app, "pro", other_id)
    url = path.format(plan=plan_id, customer=customer_id, subscription=subscription_id)
    response = client.post(
        url, data={"name": "X", "key": "x", "plan": "other", "amount": "1", "billing_cadence": "P1M"}
    )
    assert response.status_code == 400 and "The form has expired" in text(response)
    with app.app_context():
        assert rules.active_subscription(customer_id) is None
        assert rules.active_subscription(other_id).id == subscription_id
        assert rules.get_plan(plan_id).deleted_at is None and rules.get_plan(plan_id).name == "Pro"
