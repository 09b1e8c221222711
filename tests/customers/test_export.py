"""Exporting customers: the API's file (CSV and JSON Lines), what it holds, and the walk behind it."""

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from app.billing import overrides
from app.billing import rules as billing_rules
from app.common import Address
from app.customers import lifecycle, listing
from app.customers.listing import CustomerFilters
from app.customers.models import Customer
from app.plans import rules as plan_rules
from tests.helpers import field_errors, make, post, problem_fields, text

URL = "/api/v1/customers/export"


def table(response) -> list[dict]:
    """A CSV answer as rows of {header: cell}."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # so that Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(body[1:], newline="")))


def test_every_column_of_a_customer(app, client):
    customer_id = make(
        app,
        name="Zoë Café",
        key="zoe",
        subjects=["zoe", "zoe-eu"],
        primary_email="billing@zoe.example",
        currency="EUR",
        billing_address=Address(country="FR", city="Paris", line1="1 rue de Rivoli"),
        metadata={"tier": "gold", "crm": "42"},
    )
    with app.app_context():
        profile = billing_rules.live_profiles()[0]
        overrides.pin(customer_id, profile.id)
    [row] = table(client.get(URL))
    assert row["id"] == customer_id
    assert (row["key"], row["name"], row["primaryEmail"], row["currency"]) == (
        "zoe",
        "Zoë Café",
        "billing@zoe.example",
        "EUR",
    )
    assert row["subjectKeys"] == "zoe\nzoe-eu"  # one per line, in one quoted cell
    assert (row["billingAddress.country"], row["billingAddress.city"]) == ("FR", "Paris")
    assert row["billingAddress.postalCode"] == ""
    assert (row["billingProfile"], row["billingProfilePinned"]) == (profile.name, "true")
    assert row["plan"] == row["stripeCustomerId"] == row["deletedAt"] == ""
    assert row["createdAt"].endswith("Z")
    assert json.loads(row["metadata"]) == {"tier": "gold", "crm": "42"}


def test_the_plan_and_the_default_profile(app, client):
    customer_id = make(app, currency="USD")
    with app.app_context():
        plan = plan_rules.create_plan(
            plan_rules.PlanInput(key="pro", name="Pro", currency="USD", billing_cadence="P1M", amount="49")
        )
        plan_rules.subscribe(plan.key, customer_id)
        default = billing_rules.live_profiles()[0].name
    [row] = table(client.get(URL))
    assert (row["plan"], row["billingProfile"], row["billingProfilePinned"]) == ("Pro", default, "false")


def test_a_spreadsheet_never_runs_a_cell(app, client):
    make(app, name='=HYPERLINK("http://evil.example")', key="+1", metadata={"note": "@SUM(A1)"})
    [row] = table(client.get(URL, query_string={"metadataKey": "note"}))
    assert row["name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["key"] == "'+1"
    assert row["metadata.note"] == "'@SUM(A1)"


def test_the_list_filters_and_order_choose_the_rows(app, client):
    for name, key in [("Bravo", "b"), ("alpha", "a"), ("Charlie", "c"), ("Alpine", "alp")]:
        make(app, name=name, key=key)
    with app.app_context():
        lifecycle.delete("c")
    names = [r["name"] for r in table(client.get(URL))]
    assert names == ["alpha", "Alpine", "Bravo"]  # as people sort names; the deleted one left out
    named = client.get(URL, query_string={"name": "alp", "order": "DESC"})
    assert [r["name"] for r in table(named)] == ["Alpine", "alpha"]
    everyone = client.get(URL, query_string={"includeDeleted": "true", "orderBy": "createdAt"})
    assert [r["name"] for r in table(everyone)] == ["Bravo", "alpha", "Charlie", "Alpine"]
    assert table(everyone)[2]["deletedAt"] != ""


def test_chosen_metadata_keys_get_columns_of_their_own(app, client):
    make(app, metadata={"tier": "gold", "crm": "42"})
    response = client.get(URL, query_string=[("metadataKey", "tier"), ("metadataKey", "region")])
    [row] = table(response)
    assert "metadata" not in row
    assert (row["metadata.tier"], row["metadata.region"]) == ("gold", "")


def test_json_lines_hold_the_same_values(app, client):
    make(app, name="Acme", key="acme", subjects=["a", "b"], metadata={"tier": "gold"})
    response = client.get(URL, query_string={"format": "jsonl"})
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert "attachment" in response.headers["Content-Disposition"]
    [line] = response.get_data(as_text=True).splitlines()
    record = json.loads(line)
    assert record["subjectKeys"] == ["a", "b"]
    assert record["metadata"] == {"tier": "gold"}
    assert record["billingProfilePinned"] is False and record["deletedAt"] is None


@pytest.mark.parametrize(
    "query, field",
    [({"format": "xlsx"}, "format"), ({"metadataKey": "a\u200bb"}, "metadataKey"), ({"orderBy": "nope"}, "orderBy")],
)
def test_bad_parameters_are_400_naming_the_parameter(client, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert field in problem_fields(response)


def test_viewers_may_export(app, client_as):
    make(app)
    assert client_as("viewer").get(URL).status_code == 200


@pytest.mark.parametrize("order_by", ["name", "id", "createdAt", "key"])
@pytest.mark.parametrize("descending", [False, True])
def test_the_walk_reaches_every_row_once_in_the_lists_order(app, order_by, descending):
    for i in range(7):
        make(app, name=f"Customer {i % 3}", key=f"k{(i * 5) % 7}")
    with app.app_context():
        filters = CustomerFilters()
        whole = listing.list_customers(filters, 1, 100, order_by, descending)
        walked = [i for batch in listing.walk_ids(filters, order_by, descending, batch=2) for i in batch]
        assert walked == [c.id for c in whole.items]
        rows = listing.walk_rows(filters, select(Customer.id), order_by, descending, batch=2)
        if order_by in listing.KEYSET_ORDERINGS:  # the key's order is walked by ids alone
            assert [row[0] for batch in rows for row in batch] == walked


# --- The console's Export, from the list ----------------------------------------------------------


def test_the_console_exports_the_list_as_it_is_on_screen(app, client, csrf_client):
    for name, key, currency in [("Bravo", "b", "EUR"), ("alpha", "a", "EUR"), ("Charlie", "c", "USD")]:
        make(app, name=name, key=key, currency=currency, metadata={"tier": name.lower()})
    page = client.get("/customers/export", query_string={"currency": "EUR", "sort": "-name"})
    assert page.status_code == 200
    assert "2 customers match" in text(page) and "currency EUR" in text(page)
    response = post(
        csrf_client,
        "/customers/export?currency=EUR&sort=-name",
        {"format": "csv", "metadata_keys": "tier, region"},
    )
    rows = table(response)
    assert [r["name"] for r in rows] == ["Bravo", "alpha"]
    assert [r["metadata.tier"] for r in rows] == ["bravo", "alpha"] and rows[0]["metadata.region"] == ""


def test_a_large_console_export_runs_as_a_job(app, client, csrf_client):
    app.config["EXPORT_INLINE_ROWS"] = 2
    for i in range(3):
        make(app, name=f"Customer {i}", key=f"k{i}")
    response = post(csrf_client, "/customers/export", {"format": "jsonl"})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    job_page = client.get(response.headers["Location"])
    assert "Export of 3 customers (JSON Lines)" in text(job_page) and "Done" in text(job_page)
    download = client.get(response.headers["Location"] + "/download")
    assert [json.loads(line)["name"] for line in download.get_data(as_text=True).splitlines()] == [
        "Customer 0",
        "Customer 1",
        "Customer 2",
    ]


def test_bad_metadata_columns_are_shown_beside_the_field_and_kept(csrf_client):
    response = post(csrf_client, "/customers/export", {"format": "csv", "metadata_keys": "tier, a\u200bb"})
    assert response.status_code == 422
    assert "Metadata key" in " ".join(field_errors(response))
    assert 'value="tier, a\u200bb"' in response.text


def test_viewers_may_export_from_the_console(app, client_as):
    make(app)
    viewer = client_as("viewer")
    page = viewer.get("/customers/export")
    assert page.status_code == 200
    viewer.token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert table(post(viewer, "/customers/export", {"format": "csv"}))[0]["name"] == "Acme"
