"""The history as an operator reads it on the customer page and the Activity page: labels, not API
paths; names, not ids; money, durations and times in words; "—" for nothing; never a Python repr."""

import re

from sqlalchemy import select

from app.extensions import db, utcnow
from app.history.models import Change
from app.plans import rules as plan_rules
from app.plans.rules import PlanInput
from tests.billing.test_customer_overrides import install_stripe, make_customer, make_profile
from tests.helpers import post, text

# What no page may show: Python's words and reprs, and the API's paths.
UNREADABLE = re.compile(
    r"\bNone\b|\{'|\['|\bTrue\b|\bFalse\b|usageAttribution|billingAddress\.|billingProfileId|apps\."
)


def readable(page: str) -> str:
    shown = text_of(page)
    found = UNREADABLE.search(shown)
    assert found is None, f"unreadable {found.group(0)!r} in: …{shown[max(0, found.start() - 80) : found.end() + 80]}…"
    return shown


def text_of(page: str) -> str:
    class Response:
        text = page

    return text(Response).replace(" :", ":")  # a label's colon follows its tag


def history_of(page: str) -> str:
    """The customer page's History section, as text."""
    return text_of(page.split('id="history-heading"', 1)[1].split("</section>", 1)[0])


def test_the_customer_history_reads_as_words(app, client):
    stripe = install_stripe(app, name="Stripe EU")
    profile = make_profile(client, app, name="Europe", app_id=stripe)
    customer = make_customer(client)
    client.put(
        f"/api/v1/customers/{customer}",
        json={
            "name": "Acme",
            "key": "acme",
            "usageAttribution": {"subjectKeys": ["acme-1", "acme-2"]},
            "billingAddress": {"city": "Berlin", "country": "DE"},
            "metadata": {"po_required": "yes", "tier": "gold"},
        },
    )
    client.put(f"/api/v1/customers/{customer}", json={"name": "Acme", "key": "acme", "metadata": {"tier": "platinum"}})
    client.put(f"/api/v1/billing/customers/{customer}", json={"billingProfileId": profile})
    client.put(f"/api/v1/customers/{customer}/stripe", json={"stripeCustomerId": "cus_123"})
    client.delete(f"/api/v1/billing/customers/{customer}")

    shown = readable(history_of(client.get(f"/customers/{customer}").text))
    assert "Subject keys: — → acme-1 acme-2" in shown
    assert "Billing address · City: — → Berlin" in shown and "Billing address · Country: — → Germany" in shown
    assert "po_required = yes added" in shown and "tier = gold added" in shown
    assert "po_required = yes removed" in shown and "tier = gold → platinum changed" in shown
    assert (
        "Billing profile: the default profile → Europe" in shown
        and "Billing profile: Europe → the default profile" in shown
    )
    assert "Stripe EU · Stripe customer id: — → cus_123" in shown
    assert profile not in shown and stripe not in shown  # names, not ids
    assert "token test admin" in shown and "UTC" in shown


def test_a_deleted_customer_says_when_in_words(app, client):
    customer = make_customer(client)
    client.delete(f"/api/v1/customers/{customer}")
    shown = readable(history_of(client.get(f"/customers/{customer}").text))
    assert re.search(r"Deleted Deleted at: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", shown)
    assert "deletedAt" not in shown and "+00:00" not in shown


def test_billing_profiles_show_labels_and_durations(app, client):
    profile = make_profile(client, app, name="Europe")
    body = client.get(f"/api/v1/billing/profiles/{profile}").json
    body["workflow"]["invoicing"]["dueAfter"] = "P45D"
    body["workflow"]["collection"]["interval"] = "PT2H"
    assert client.put(f"/api/v1/billing/profiles/{profile}", json=body).status_code == 200

    shown = readable(client.get("/activity/?type=billing_profile").text)
    assert "Invoicing · Due after: 30 days → 45 days" in shown
    assert "Collection · Interval: 1 hour → 2 hours" in shown
    assert "Billing profile: Europe" in shown and "App: Sandbox" in shown  # the app by name
    assert "workflow." not in shown and "PT2H" not in shown and "P45D" not in shown


def test_a_name_that_is_gone_reads_as_its_id_deleted(app, client):
    customer = make_customer(client)
    with app.app_context():
        db.session.add(
            Change(
                at=utcnow(),
                actor_type="system",
                actor_id=None,
                actor_name="system",
                entity_type="customer",
                entity_id=customer,
                action="update",
                changes=[{"field": "billingProfileId", "before": None, "after": "01JGONE0000000000000000000"}],
            )
        )
        db.session.commit()
    shown = readable(history_of(client.get(f"/customers/{customer}").text))
    assert "Billing profile: the default profile → 01JGONE0000000000000000000 (deleted)" in shown


def test_plans_are_recorded_with_their_price_as_money(app, csrf_client):
    with app.app_context():
        plan = plan_rules.create_plan(
            PlanInput(name="Pro", key="pro", currency="JPY", amount="1000", billing_cadence="P1M")
        ).id
    post(
        csrf_client, f"/plans/{plan}/edit", {"name": "Pro", "amount": "1500", "billing_cadence": "P1Y", "version": "1"}
    )

    shown = readable(csrf_client.get("/activity/?type=plan").text)
    assert "Plan: Pro Changed" in shown and "test-admin" in shown
    assert "Price: ¥1,000 → ¥1,500" in shown and "Billing cadence: monthly → yearly" in shown
    assert "Plan: Pro Created" in shown and "Price: ¥1,000" in shown


def test_subscribe_change_and_cancel_are_in_the_customer_history_and_the_activity(app, csrf_client):
    with app.app_context():
        for key, name in (("pro", "Pro"), ("team", "Team")):
            plan_rules.create_plan(PlanInput(name=name, key=key, currency="EUR", amount="49", billing_cadence="P1M"))
    customer = make_customer(csrf_client)
    assert post(csrf_client, f"/customers/{customer}/subscribe", {"plan": "pro"}).status_code == 303
    with app.app_context():
        first = plan_rules.active_subscription(customer).id
    assert post(csrf_client, f"/subscriptions/{first}/change", {"plan": "team"}).status_code == 303
    with app.app_context():
        second = plan_rules.active_subscription(customer).id
    assert post(csrf_client, f"/subscriptions/{second}/cancel").status_code == 303

    with app.app_context():
        rows = db.session.scalars(select(Change).where(Change.entity_type == "subscription").order_by(Change.id)).all()
        assert [(r.action, r.actor_type, r.actor_name) for r in rows] == [
            ("subscribe", "operator", "test-admin"),
            ("change_plan", "operator", "test-admin"),
            ("cancel", "operator", "test-admin"),
        ]

    shown = readable(history_of(csrf_client.get(f"/customers/{customer}").text))
    assert "Subscribed Plan: Pro" in shown
    assert "Changed plan Plan: Pro → Team" in shown
    assert "Cancelled Plan: Team → no plan" in shown
    assert shown.index("Cancelled") < shown.index("Changed plan") < shown.index("Subscribed")  # newest first

    activity = readable(csrf_client.get("/activity/?type=subscription").text)
    assert "Subscription: Acme on Pro Subscribed" in activity and "Subscription: Acme on Team Cancelled" in activity
    assert "3 changes" in activity and "Created" not in activity  # the customer's own rows are filtered out
    everything = readable(csrf_client.get(f"/activity/?type=customer&entity={customer}").text)
    assert "Subscribed" in everything and "Customer: Acme Created" in everything
    assert '<option value="subscription"' in csrf_client.get("/activity/").text


def test_the_first_subscription_records_the_currency_it_gave_the_customer(app, csrf_client):
    with app.app_context():
        plan_rules.create_plan(PlanInput(name="Pro", key="pro", currency="USD", amount="49", billing_cadence="P1M"))
    customer = make_customer(csrf_client)  # no currency yet
    post(csrf_client, f"/customers/{customer}/subscribe", {"plan": "pro"})
    shown = readable(history_of(csrf_client.get(f"/customers/{customer}").text))
    assert "Changed Currency: — → USD" in shown and "Subscribed Plan: Pro" in shown


def test_operators_and_tokens_read_without_secrets(app, client):
    shown = readable(client.get("/activity/?type=operator").text)
    assert "Operator: test-admin Created" in shown and "Password: set" in shown and "Role: Admin" in shown
