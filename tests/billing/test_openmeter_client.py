"""OpenMeter's own Python client, unchanged, against a live server of ours: apps, marketplace, billing profiles.

The client hands back apps (its StripeApp | SandboxApp | CustomInvoicingApp union) as plain dicts with
the JSON field names, whatever the server, so they are read as `app["name"]`.
"""

import pytest
from corehttp.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from openmeter import Client
from openmeter.models import (
    Address,
    BillingParty,
    BillingPartyTaxIdentity,
    BillingProfileAppsCreate,
    BillingProfileCreate,
    BillingProfileReplaceUpdateWithWorkflow,
    BillingWorkflow,
    BillingWorkflowCollectionSettings,
    BillingWorkflowCreate,
    BillingWorkflowInvoicingSettings,
    BillingWorkflowPaymentSettings,
    BillingWorkflowTaxSettings,
    CustomInvoicingAppReplaceUpdate,
    InstallWithApiKeyRequest,
    MarketplaceInstallRequestPayload,
    SandboxAppReplaceUpdate,
)

SECRET = "sk_test_51OpenMeterClientSecretKey0123456789abc"


@pytest.fixture
def openmeter(live_server, api_token):
    with Client(endpoint=live_server, token=api_token) as client:
        yield client


def test_the_openmeter_client_manages_apps_through_the_marketplace(openmeter):
    listings = openmeter.marketplace.list()
    assert {listing.type for listing in listings.items_property} == {"sandbox", "stripe", "custom_invoicing"}
    stripe_listing = openmeter.marketplace.get("stripe")
    assert stripe_listing.install_methods == ["with_api_key"]
    assert {c.type for c in stripe_listing.capabilities} == {"calculateTax", "invoiceCustomers", "collectPayments"}

    installed = openmeter.marketplace.install_with_api_key(
        "stripe", InstallWithApiKeyRequest(api_key=SECRET, name="Stripe US")
    )
    stripe = installed.app
    assert (stripe["type"], stripe["name"], stripe["livemode"]) == ("stripe", "Stripe US", False)
    assert stripe["maskedAPIKey"] == "sk_test_***abc" and "secretAPIKey" not in stripe
    assert set(installed.default_for_capability_types) == {"calculateTax", "invoiceCustomers", "collectPayments"}

    custom = openmeter.marketplace.install(
        "custom_invoicing", MarketplaceInstallRequestPayload(name="ERP", create_billing_profile=False)
    ).app
    assert custom["enableDraftSyncHook"] is False and stripe["listing"]["name"] == "Stripe"

    apps = openmeter.apps.list(page=1, page_size=10)
    assert [a["type"] for a in apps.items_property] == ["sandbox", "stripe", "custom_invoicing"]
    assert apps.total_count == 3
    assert openmeter.apps.get(stripe["id"])["maskedAPIKey"] == "sk_test_***abc"

    updated = openmeter.apps.update(
        custom["id"],
        CustomInvoicingAppReplaceUpdate(
            type="custom_invoicing",
            name="ERP 2",
            enable_draft_sync_hook=True,
            enable_issuing_sync_hook=False,
            metadata={"team": "finance"},
        ),
    )
    assert (updated["name"], updated["enableDraftSyncHook"], updated["metadata"]) == (
        "ERP 2",
        True,
        {"team": "finance"},
    )
    sandbox_id = apps.items_property[0]["id"]
    assert openmeter.apps.update(sandbox_id, SandboxAppReplaceUpdate(type="sandbox", name="Play"))["name"] == "Play"

    with pytest.raises(HttpResponseError) as bad:
        openmeter.marketplace.install_with_api_key("stripe", InstallWithApiKeyRequest(api_key="pk_test_nope1234567"))
    assert bad.value.status_code == 400
    with pytest.raises(ResourceExistsError):  # the Stripe app bills the default profile now
        openmeter.apps.uninstall(stripe["id"])
    openmeter.apps.uninstall(custom["id"])
    assert openmeter.apps.get(custom["id"])["deletedAt"]
    with pytest.raises(ResourceNotFoundError):
        openmeter.apps.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_the_openmeter_client_manages_billing_profiles(openmeter):
    default = next(p for p in openmeter.billing_profiles.list().items_property if p.default)
    app_id = default.apps["tax"]["id"]
    assert openmeter.apps.get(app_id)["type"] == "sandbox"

    created = openmeter.billing_profiles.create(
        BillingProfileCreate(
            name="EU profile",
            description="For EU customers",
            default=False,
            supplier=BillingParty(
                name="Acme Kft.",
                tax_id=BillingPartyTaxIdentity(code="HU12345678"),
                addresses=[Address(country="HU", city="Budapest")],
            ),
            workflow=BillingWorkflowCreate(
                collection=BillingWorkflowCollectionSettings(interval="PT2H"),
                invoicing=BillingWorkflowInvoicingSettings(due_after="P14D", auto_advance=False),
                payment=BillingWorkflowPaymentSettings(collection_method="send_invoice"),
                tax=BillingWorkflowTaxSettings(enabled=True, enforced=True),
            ),
            apps=BillingProfileAppsCreate(tax=app_id, invoicing=app_id, payment=app_id),
        )
    )
    assert created.id and created.default is False and created.created_at.tzinfo is not None
    assert created.supplier.addresses[0].country == "HU" and created.supplier.tax_id.code == "HU12345678"
    assert created.workflow.invoicing.due_after == "P14D" and created.workflow.collection.interval == "PT2H"
    assert created.workflow.payment.collection_method == "send_invoice"

    expanded = openmeter.billing_profiles.get(created.id, expand=["apps"])
    assert expanded.apps["invoicing"]["type"] == "sandbox" and expanded.apps["invoicing"]["name"] == "Sandbox"
    listing = openmeter.billing_profiles.list(expand=["apps"], order_by="name", order="ASC", page_size=10)
    assert [p.name for p in listing.items_property] == ["Default billing profile", "EU profile"]

    promoted = openmeter.billing_profiles.update(
        created.id,
        BillingProfileReplaceUpdateWithWorkflow(
            name="EU profile",
            default=True,
            supplier=BillingParty(name="Acme Kft.", addresses=[Address(country="HU")]),
            workflow=BillingWorkflow(tax=BillingWorkflowTaxSettings(enabled=False)),
        ),
    )
    assert promoted.default is True and promoted.description is None
    assert promoted.workflow.tax.enabled is False and promoted.workflow.invoicing.due_after == "P30D"
    assert openmeter.billing_profiles.get(default.id).default is False

    with pytest.raises(HttpResponseError) as refused:
        openmeter.billing_profiles.delete(created.id)  # the default
    assert refused.value.status_code == 400
    openmeter.billing_profiles.delete(default.id)
    assert openmeter.billing_profiles.get(default.id).deleted_at is not None
    assert openmeter.billing_profiles.list().total_count == 1
    assert openmeter.billing_profiles.list(include_archived=True).total_count == 2
    with pytest.raises(ResourceNotFoundError):
        openmeter.billing_profiles.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")
