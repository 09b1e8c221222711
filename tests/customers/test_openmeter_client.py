"""OpenMeter's own Python client, unchanged, against a live server of ours."""

import pytest
from corehttp.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from openmeter import Client
from openmeter.models import CustomerCreate, CustomerReplaceUpdate, CustomerUsageAttribution


@pytest.fixture
def openmeter(live_server, api_token):
    with Client(endpoint=live_server, token=api_token) as client:
        yield client


def test_the_openmeter_client_manages_customers(openmeter):
    created = openmeter.customers.create(
        CustomerCreate(
            name="Acme Inc",
            key="acme",
            currency="USD",
            primary_email="billing@acme.example",
            usage_attribution=CustomerUsageAttribution(subject_keys=["acme"]),
            metadata={"crm": "123"},
        )
    )
    assert created.id and created.key == "acme" and created.created_at.tzinfo is not None

    by_key = openmeter.customers.list(key="acme")
    assert by_key.total_count == 1 and by_key.items_property[0].id == created.id
    assert openmeter.customers.list(key="ACME").total_count == 0
    assert openmeter.customers.get(created.id).name == "Acme Inc"
    assert openmeter.customers.get("acme").id == created.id

    replaced = openmeter.customers.update(
        "acme",
        CustomerReplaceUpdate(
            name="Acme Corporation",
            key="acme",
            usage_attribution=CustomerUsageAttribution(subject_keys=["acme", "acme-2"]),
        ),
    )
    assert replaced.name == "Acme Corporation" and replaced.currency is None
    assert replaced.usage_attribution.subject_keys == ["acme", "acme-2"]

    with pytest.raises(ResourceExistsError):
        openmeter.customers.create(
            CustomerCreate(name="Copycat", key="acme", usage_attribution=CustomerUsageAttribution(subject_keys=[]))
        )
    with pytest.raises(HttpResponseError) as bad:
        openmeter.customers.create(
            CustomerCreate(
                name="Bad", key="bad", currency="ZZZ", usage_attribution=CustomerUsageAttribution(subject_keys=[])
            )
        )
    assert bad.value.status_code == 400

    openmeter.customers.delete("acme")
    with pytest.raises(ResourceNotFoundError):
        openmeter.customers.get("acme")
    assert openmeter.customers.get(created.id).deleted_at is not None


def test_the_openmeter_client_reads_currencies(openmeter):
    codes = {c.code for c in openmeter.currencies.list_currencies()}
    assert {"USD", "EUR", "HUF"} <= codes
