"""OpenMeter's own Python client, unchanged, subscribing customers on a live server of ours."""

import pytest
from corehttp.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from openmeter import Client
from openmeter.models import (
    CancelRequest,
    CustomerCreate,
    CustomerUsageAttribution,
    PlanReferenceInput,
    PlanSubscriptionChange,
    PlanSubscriptionCreate,
)

from app.plans import rules
from app.plans.rules import PlanInput


@pytest.fixture
def openmeter(live_server, api_token):
    with Client(endpoint=live_server, token=api_token) as client:
        yield client


@pytest.fixture
def plans(app):
    # OpenMeter's plan bodies need phases and rate cards, which our flat plans do not have: made here.
    with app.app_context():
        for key, currency in (("pro", "EUR"), ("team", "EUR"), ("pro_usd", "USD")):
            rules.create_plan(PlanInput(name=key, key=key, currency=currency, amount="49", billing_cadence="P1M"))


def test_the_openmeter_client_subscribes_changes_and_cancels(openmeter, plans):
    customer = openmeter.customers.create(
        CustomerCreate(
            name="Acme", key="acme", currency="EUR", usage_attribution=CustomerUsageAttribution(subject_keys=[])
        )
    )
    subscription = openmeter.subscriptions.create(
        PlanSubscriptionCreate(customer_key="acme", plan=PlanReferenceInput(key="pro"))
    )
    assert subscription.customer_id == customer.id and subscription.status == "active"
    assert subscription.plan.key == "pro" and subscription.currency == "EUR"
    assert subscription.billing_cadence.months == 1 and subscription.active_from.tzinfo is not None
    assert openmeter.customers.get("acme").current_subscription_id == subscription.id

    with pytest.raises(ResourceExistsError):
        openmeter.subscriptions.create(
            PlanSubscriptionCreate(customer_id=customer.id, plan=PlanReferenceInput(key="team"))
        )
    with pytest.raises(HttpResponseError) as refused:
        openmeter.subscriptions.change(
            subscription.id, PlanSubscriptionChange(timing="immediate", plan=PlanReferenceInput(key="pro_usd"))
        )
    assert refused.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        openmeter.subscriptions.create(
            PlanSubscriptionCreate(customer_key="nobody", plan=PlanReferenceInput(key="pro"))
        )

    changed = openmeter.subscriptions.change(
        subscription.id, PlanSubscriptionChange(timing="immediate", plan=PlanReferenceInput(key="team"))
    )
    assert changed.current.id == subscription.id and changed.current.active_to == changed.next.active_from
    assert changed.next.plan.key == "team"

    listed = openmeter.customers.list_customer_subscriptions("acme")
    assert listed.total_count == 2 and [s.plan.key for s in listed.items_property] == ["pro", "team"]
    assert [
        s.id for s in openmeter.customers.list_customer_subscriptions("acme", status=["active"]).items_property
    ] == [changed.next.id]
    assert [c.key for c in openmeter.customers.list(plan_key="team").items_property] == ["acme"]

    with pytest.raises(ResourceExistsError):
        openmeter.customers.delete("acme")  # still subscribed
    cancelled = openmeter.subscriptions.cancel(changed.next.id, CancelRequest(timing="immediate"))
    assert cancelled.status == "inactive" and cancelled.active_to is not None
    openmeter.customers.delete("acme")
    assert openmeter.customers.get(customer.id).deleted_at is not None


def test_the_openmeter_client_reads_plans(openmeter, plans):
    listed = list(openmeter.plans.list(currency=["EUR"]))
    assert [p.key for p in listed] == ["pro", "team"]
    plan = openmeter.plans.get(listed[0].id)
    assert plan.currency == "EUR" and plan.billing_cadence.months == 1 and plan["price"]["amount"] == "49.00"
    openmeter.plans.delete(plan.id)
    assert openmeter.plans.get(plan.id).deleted_at is not None
