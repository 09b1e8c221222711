"""OpenMeter's own Python client against a live server: customer overrides, customer apps, customer Stripe data."""

import pytest
from corehttp.exceptions import HttpResponseError
from openmeter import Client
from openmeter.models import (
    BillingProfileCustomerOverrideCreate,
    CustomerCreate,
    StripeCustomerAppData,
    StripeCustomerAppDataBase,
)

from app.apps import rules as app_rules
from app.billing import rules


@pytest.fixture
def openmeter(live_server, api_token):
    with Client(endpoint=live_server, token=api_token) as client:
        yield client


def test_customer_overrides_apps_and_stripe_through_the_client(openmeter, app):
    with app.app_context():
        sandbox_profile = rules.default_profile().id
        stripe = app_rules.install("stripe", api_key="sk_test_1234567890abcdefXYZ")[0].id
        stripe_profile = rules.default_profile().id  # Stripe replaced the Sandbox default
    customer = openmeter.customers.create(CustomerCreate(name="Acme", key="acme"))

    effective = openmeter.customer_overrides.get(customer.id)
    assert effective.base_billing_profile_id == stripe_profile and effective.customer_override is None
    pinned = openmeter.customer_overrides.upsert(
        customer.id, BillingProfileCustomerOverrideCreate(billing_profile_id=sandbox_profile)
    )
    assert pinned.customer_override.billing_profile_id == sandbox_profile
    listed = openmeter.customer_overrides.list(billing_profile=[sandbox_profile])
    assert [i.customer_override.customer_id for i in listed.items_property] == [customer.id]
    with pytest.raises(HttpResponseError):  # pinned to the Sandbox: no Stripe app there
        openmeter.customer_stripe.upsert(customer.id, StripeCustomerAppDataBase(stripe_customer_id="cus_1"))
    openmeter.customer_overrides.delete(customer.id)

    data = openmeter.customer_stripe.upsert(
        "acme", StripeCustomerAppDataBase(stripe_customer_id="cus_1", stripe_default_payment_method_id="pm_1")
    )
    assert data.stripe_customer_id == "cus_1" and data.id == stripe
    assert openmeter.customer_stripe.get(customer.id).stripe_default_payment_method_id == "pm_1"
    result = openmeter.customer_apps.upsert_app_data(
        customer.id, [StripeCustomerAppData(type="stripe", stripe_customer_id="cus_2")]
    )
    assert result[0]["stripeCustomerId"] == "cus_2"
    page = openmeter.customer_apps.list_app_data(customer.id)
    assert page.total_count == 1
    openmeter.customer_apps.delete_app_data(customer.id, stripe)
    assert openmeter.customer_apps.list_app_data(customer.id).total_count == 0
