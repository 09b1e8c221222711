"""Customer overrides (SPEC §3) and customer app data (SPEC §2) through the API, with their races."""

import threading

import pytest

from app.apps import rules as app_rules
from app.billing import rules
from app.extensions import db

STRIPE_KEY = "sk_test_1234567890abcdefXYZ"


def make_customer(client, key="acme", name="Acme"):
    response = client.post("/api/v1/customers", json={"name": name, "key": key})
    assert response.status_code == 201, response.json
    return response.json["id"]


def default_id(app):
    with app.app_context():
        return rules.default_profile().id


def make_profile(client, app, name="Europe", app_id=None):
    with app.app_context():
        app_id = app_id or rules.default_profile().app_id
    body = {
        "name": name,
        "supplier": {"name": "Acme", "addresses": [{"country": "DE"}]},
        "apps": {"tax": app_id, "invoicing": app_id, "payment": app_id},
    }
    response = client.post("/api/v1/billing/profiles", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def install_stripe(app, name="Stripe"):
    """A Stripe app whose profile becomes the default (it replaces the Sandbox default)."""
    with app.app_context():
        return app_rules.install("stripe", name=name, api_key=STRIPE_KEY)[0].id


def fields(response):
    return [e["field"] for e in response.json["extensions"]["validationErrors"]]


# --- overrides ---------------------------------------------------------------------------------


def test_an_unpinned_customer_has_the_current_default(client, app):
    customer = make_customer(client)
    body = client.get(f"/api/v1/billing/customers/{customer}").json
    assert body["baseBillingProfileId"] == default_id(app) and "customerOverride" not in body
    assert set(body["customerProfile"]) == {"supplier", "workflow", "apps"}
    other = make_profile(client, app)
    client.put(
        f"/api/v1/billing/profiles/{other}",
        json={**client.get(f"/api/v1/billing/profiles/{other}").json, "default": True},
    )
    assert client.get(f"/api/v1/billing/customers/{customer}").json["baseBillingProfileId"] == other


def test_pin_and_unpin(client, app):
    customer = make_customer(client)
    profile = make_profile(client, app)
    pinned = client.put(f"/api/v1/billing/customers/{customer}", json={"billingProfileId": profile})
    assert pinned.status_code == 200
    assert pinned.json["baseBillingProfileId"] == profile
    assert pinned.json["customerOverride"]["billingProfileId"] == profile
    assert pinned.json["customerOverride"]["customerId"] == customer
    expanded = client.get("/api/v1/billing/customers/acme?expand=apps&expand=customer").json
    assert expanded["customer"]["key"] == "acme" and expanded["customerProfile"]["apps"]["tax"]["type"] == "sandbox"
    assert client.delete(f"/api/v1/billing/customers/{customer}").status_code == 204
    assert client.get(f"/api/v1/billing/customers/{customer}").json["baseBillingProfileId"] == default_id(app)
    follows = client.put(f"/api/v1/billing/customers/{customer}", json={})
    assert follows.status_code == 200 and "billingProfileId" not in follows.json["customerOverride"]


def test_the_override_list_costs_the_same_queries_for_few_or_many_customers(client, app, count_queries):
    profile = make_profile(client, app)

    def queries_for_list() -> int:
        count_queries.clear()
        response = client.get("/api/v1/billing/customers?expand=apps&expand=customer")
        assert response.status_code == 200
        return len(count_queries)

    make_customer(client, key="c0", name="C0")
    few = queries_for_list()
    for i in range(1, 20):
        customer = make_customer(client, key=f"c{i}", name=f"C{i}")
        if i % 2:
            client.put(f"/api/v1/billing/customers/{customer}", json={"billingProfileId": profile})
    assert queries_for_list() == few, "\n".join(q[:90] for q in count_queries)
    items = client.get("/api/v1/billing/customers?orderBy=customerName").json["items"]
    assert [i["baseBillingProfileId"] == profile for i in items[:3]] == [False, True, False]  # C0, C1, C10


@pytest.mark.parametrize("profile", ["01ZZZZZZZZZZZZZZZZZZZZZZZZ", "nope", "deleted"])
def test_pinning_to_an_unknown_or_deleted_profile_is_refused(client, app, profile):
    customer = make_customer(client)
    if profile == "deleted":
        profile = make_profile(client, app)
        assert client.delete(f"/api/v1/billing/profiles/{profile}").status_code == 204
    response = client.put(f"/api/v1/billing/customers/{customer}", json={"billingProfileId": profile})
    assert response.status_code == 400 and fields(response) == ["billingProfileId"]


def test_overrides_of_unknown_or_deleted_customers(client, app):
    assert client.get("/api/v1/billing/customers/nobody").status_code == 404
    customer = make_customer(client)
    client.delete(f"/api/v1/customers/{customer}")
    assert client.put(f"/api/v1/billing/customers/{customer}", json={}).status_code == 412
    assert client.delete(f"/api/v1/billing/customers/{customer}").status_code == 412
    assert (
        client.put(f"/api/v1/billing/customers/{customer}", data="{", content_type="application/json").status_code
        == 400
    )


def test_a_pinned_profile_cannot_be_deleted_and_the_customers_are_named(client, app):
    profile = make_profile(client, app)
    for key in ("a", "b"):
        client.put(
            f"/api/v1/billing/customers/{make_customer(client, key, key.upper() + ' Corp')}",
            json={"billingProfileId": profile},
        )
    response = client.delete(f"/api/v1/billing/profiles/{profile}")
    assert response.status_code == 400
    assert '2 customers are pinned to it ("A Corp", "B Corp")' in response.json["detail"]
    assert client.get(f"/api/v1/billing/profiles/{profile}").json.get("deletedAt") is None
    client.delete("/api/v1/customers/a")
    client.delete("/api/v1/billing/customers/b")
    assert client.delete(f"/api/v1/billing/profiles/{profile}").status_code == 204


def test_the_override_list_filters_and_pages(client, app):
    profile = make_profile(client, app)
    ids = {k: make_customer(client, k, f"Customer {k}") for k in ("a", "b", "c")}
    client.put(f"/api/v1/billing/customers/{ids['a']}", json={"billingProfileId": profile})
    everyone = client.get("/api/v1/billing/customers").json
    assert everyone["totalCount"] == 3 and everyone["page"] == 1
    by_profile = client.get(f"/api/v1/billing/customers?billingProfile={profile}").json
    assert [i["customerOverride"]["customerId"] for i in by_profile["items"]] == [ids["a"]]
    by_default = client.get(f"/api/v1/billing/customers?billingProfile={default_id(app)}").json
    assert by_default["totalCount"] == 2
    assert client.get("/api/v1/billing/customers?customersWithoutPinnedProfile=true").json["totalCount"] == 2
    assert client.get("/api/v1/billing/customers?includeAllCustomers=false").json["totalCount"] == 1
    assert client.get("/api/v1/billing/customers?customerKey=b").json["totalCount"] == 1
    assert client.get("/api/v1/billing/customers?customerName=customer").json["totalCount"] == 3
    page = client.get("/api/v1/billing/customers?pageSize=2&page=2&orderBy=customerName&order=DESC").json
    assert page["items"][0]["baseBillingProfileId"] == profile and len(page["items"]) == 1  # "Customer a"
    assert client.get("/api/v1/billing/customers?orderBy=nope").status_code == 400
    assert client.get("/api/v1/billing/customers?page=100000000000000000000").status_code == 400
    # The customers API filters by billing profile too.
    assert client.get(f"/api/v1/customers?billingProfile={profile}").json["totalCount"] == 1


def test_pin_racing_profile_delete_never_leaves_a_pin_on_a_deleted_profile(client, app):
    profile = make_profile(client, app)
    customers = [make_customer(client, f"k{i}") for i in range(4)]
    barrier = threading.Barrier(len(customers) + 1)
    results = []

    def pin(customer_id):
        with app.test_client() as c:
            barrier.wait()
            results.append(
                c.put(f"/api/v1/billing/customers/{customer_id}", json={"billingProfileId": profile}).status_code
            )

    def delete():
        with app.test_client() as c:
            barrier.wait()
            results.append(("delete", c.delete(f"/api/v1/billing/profiles/{profile}").status_code))

    threads = [threading.Thread(target=pin, args=(c,)) for c in customers] + [threading.Thread(target=delete)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deleted = ("delete", 204) in results
    with app.app_context():
        pinned = rules.pinned_counts().get(profile, 0)
        db.session.remove()
    assert not (deleted and pinned), results
    assert all(r in (200, 400) for r in results if not isinstance(r, tuple)), results


# --- app data ----------------------------------------------------------------------------------


def test_stripe_data_through_the_profile_and_the_shortcut(client, app):
    stripe = install_stripe(app)
    customer = make_customer(client)
    put = client.put(
        f"/api/v1/customers/{customer}/stripe",
        json={"stripeCustomerId": "cus_123", "stripeDefaultPaymentMethodId": "pm_9"},
    )
    assert put.status_code == 200 and put.json["id"] == stripe and put.json["stripeCustomerId"] == "cus_123"
    got = client.get("/api/v1/customers/acme/stripe").json
    assert got["stripeDefaultPaymentMethodId"] == "pm_9" and got["app"]["maskedAPIKey"] == "sk_test_***XYZ"
    listed = client.get("/api/v1/customers/acme/apps").json
    assert listed["totalCount"] == 1 and listed["items"][0]["type"] == "stripe"
    assert client.get("/api/v1/customers/acme/apps?type=sandbox").json["totalCount"] == 0
    again = client.put(f"/api/v1/customers/{customer}/apps", json=[{"type": "stripe", "stripeCustomerId": "cus_456"}])
    assert again.status_code == 200 and again.json[0]["stripeCustomerId"] == "cus_456"
    assert "stripeDefaultPaymentMethodId" not in again.json[0]
    assert client.delete(f"/api/v1/customers/{customer}/apps/{stripe}").status_code == 204
    assert client.get(f"/api/v1/customers/{customer}/stripe").status_code == 404
    assert client.delete(f"/api/v1/customers/{customer}/apps/{stripe}").status_code == 404


@pytest.mark.parametrize(
    "item, field",
    [
        ({"type": "stripe", "stripeCustomerId": "cust_1"}, "[0].stripeCustomerId"),
        ({"type": "stripe"}, "[0].stripeCustomerId"),
        (
            {"type": "stripe", "stripeCustomerId": "cus_1", "stripeDefaultPaymentMethodId": "card_1"},
            "[0].stripeDefaultPaymentMethodId",
        ),
        ({"type": "custom_invoicing", "id": "APP", "metadata": {"k" * 41: "v"}}, "[0].metadata." + "k" * 41),
        ({"type": "paypal"}, "[0].type"),
        ({"type": "sandbox", "id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ"}, "[0].id"),
        ({"type": "stripe", "id": "SANDBOX", "stripeCustomerId": "cus_1"}, "[0].type"),
        ({"type": 3}, "[0].type"),
    ],
)
def test_app_data_is_checked_per_type(client, app, item, field):
    install_stripe(app)
    with app.app_context():
        custom = app_rules.install("custom_invoicing", create_billing_profile=False)[0].id
        sandbox = next(a.id for a in app_rules.list_apps().items if a.type == "sandbox")
    item = {k: {"APP": custom, "SANDBOX": sandbox}.get(v, v) if k == "id" else v for k, v in item.items()}
    customer = make_customer(client)
    response = client.put(f"/api/v1/customers/{customer}/apps", json=[item])
    assert response.status_code == 400 and field in fields(response), response.json


def test_custom_invoicing_metadata_and_sandbox_data(client, app):
    with app.app_context():
        custom = app_rules.install("custom_invoicing", create_billing_profile=False)[0].id
    customer = make_customer(client)
    response = client.put(
        f"/api/v1/customers/{customer}/apps",
        json=[{"type": "custom_invoicing", "id": custom, "metadata": {"erp": "E-1"}}, {"type": "sandbox"}],
    )
    assert response.status_code == 200
    assert [(i["type"], i.get("metadata")) for i in response.json] in (
        [("sandbox", None), ("custom_invoicing", {"erp": "E-1"})],
        [("custom_invoicing", {"erp": "E-1"}), ("sandbox", None)],
    )
    assert client.put(f"/api/v1/customers/{customer}/apps", json={"type": "sandbox"}).status_code == 400


def test_an_item_without_an_app_id_needs_that_app_in_the_billing_profile(client, app):
    customer = make_customer(client)  # the default profile bills through the Sandbox
    response = client.put(f"/api/v1/customers/{customer}/apps", json=[{"type": "stripe", "stripeCustomerId": "cus_1"}])
    assert response.status_code == 412 and "has no stripe app" in response.json["detail"]
    assert client.get(f"/api/v1/customers/{customer}/stripe").status_code == 412
    assert client.put(f"/api/v1/customers/{customer}/stripe", json={"stripeCustomerId": "cus_1"}).status_code == 412


def test_one_live_customer_per_stripe_customer_id_per_app(client, app):
    stripe = install_stripe(app)
    first = make_customer(client, "first", "First Ltd")
    second = make_customer(client, "second")
    client.put(f"/api/v1/customers/{first}/stripe", json={"stripeCustomerId": "cus_same"})
    response = client.put(f"/api/v1/customers/{second}/stripe", json={"stripeCustomerId": "cus_same"})
    assert response.status_code == 409
    assert f'already belongs to customer "First Ltd" ({first})' in response.json["detail"]
    other_stripe = install_stripe(app, "Stripe 2")  # another app: the same id is fine there
    ok = client.put(
        f"/api/v1/customers/{second}/apps",
        json=[{"type": "stripe", "id": other_stripe, "stripeCustomerId": "cus_same"}],
    )
    assert ok.status_code == 200
    # A customer's delete removes its app data and frees its Stripe customer id.
    client.delete(f"/api/v1/customers/{first}")
    assert client.get(f"/api/v1/customers/{first}/apps").json["totalCount"] == 0
    assert (
        client.put(
            f"/api/v1/customers/{second}/apps", json=[{"type": "stripe", "id": stripe, "stripeCustomerId": "cus_same"}]
        ).status_code
        == 200
    )
    assert client.put(f"/api/v1/customers/{first}/stripe", json={"stripeCustomerId": "cus_x"}).status_code == 412


def test_a_race_for_one_stripe_customer_id_has_one_winner(client, app):
    install_stripe(app)
    customers = [make_customer(client, f"racer{i}") for i in range(5)]
    barrier = threading.Barrier(len(customers))
    results = []

    def claim(customer_id):
        with app.test_client() as c:
            barrier.wait()
            r = c.put(f"/api/v1/customers/{customer_id}/stripe", json={"stripeCustomerId": "cus_race"})
            results.append((r.status_code, r.json))

    threads = [threading.Thread(target=claim, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in results)
    assert statuses == [200, 409, 409, 409, 409], results
    assert all("already belongs to customer" in body["detail"] for s, body in results if s == 409)
