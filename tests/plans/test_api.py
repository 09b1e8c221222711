"""The plans and subscriptions JSON API through Flask's test client: shapes, rules, errors and races."""

import threading

import pytest

from tests.helpers import problem_fields
from tests.openapi_check import assert_matches

PLANS = "/api/v1/plans"
SUBSCRIPTIONS = "/api/v1/subscriptions"
CUSTOMERS = "/api/v1/customers"


def make_plan(client, key="pro_eur", currency="EUR", amount="49.00", **body):
    body = {"key": key, "name": key, "currency": currency, "billingCadence": "P1M", "price": {"amount": amount}, **body}
    response = client.post(PLANS, json=body)
    assert response.status_code == 201, response.json
    return response.json


def make_customer(client, key="acme", currency="EUR", name="Acme"):
    body = {"name": name, "key": key, **({"currency": currency} if currency else {})}
    response = client.post(CUSTOMERS, json=body)
    assert response.status_code == 201, response.json
    return response.json


def subscribe(client, plan_key, **who):
    return client.post(SUBSCRIPTIONS, json={"plan": {"key": plan_key}, **who})


# --- Plans ------------------------------------------------------------------------------------


def test_create_a_plan_answers_201_in_openmeters_field_names(client):
    response = client.post(
        PLANS,
        json={
            "key": "pro_monthly",
            "name": "Pro",
            "description": "For teams",
            "currency": "EUR",
            "billingCadence": "P1M",
            "price": {"type": "flat", "amount": "49.9"},
        },
    )
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"{PLANS}/{body['id']}")
    assert body["price"] == {"type": "flat", "amount": "49.90"}
    assert (body["key"], body["currency"], body["billingCadence"]) == ("pro_monthly", "EUR", "P1M")
    assert body["createdAt"].endswith("Z") and "deletedAt" not in body
    assert_matches(body, "Plan")


def test_amounts_keep_the_currencys_decimals(client):
    assert make_plan(client, key="yen", currency="JPY", amount="1200")["price"]["amount"] == "1200"
    assert make_plan(client, key="dinar", currency="BHD", amount="1.5")["price"]["amount"] == "1.500"
    response = client.post(
        PLANS, json={"key": "x", "name": "X", "currency": "JPY", "billingCadence": "P1M", "price": {"amount": "1.5"}}
    )
    assert response.status_code == 400 and problem_fields(response) == {"price.amount": "too_many_decimals"}
    assert "JPY has no decimals" in response.json["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "name"),
        ({"key": None}, "key"),
        ({"key": "Pro-Plan"}, "key"),
        ({"currency": None}, "currency"),
        ({"currency": "ZZZ"}, "currency"),
        ({"price": None}, "price"),
        ({"price": "49.00"}, "price"),
        ({"price": {}}, "price.amount"),
        ({"price": {"amount": 49.0}}, "price.amount"),
        ({"price": {"amount": "49.001"}}, "price.amount"),
        ({"price": {"amount": "-1"}}, "price.amount"),
        ({"price": {"type": "unit", "amount": "1"}}, "price.type"),
        ({"billingCadence": "monthly"}, "billingCadence"),
        ({"billingCadence": None}, "billingCadence"),
        ({"description": "d" * 1025}, "description"),
    ],
)
def test_invalid_plans_are_400_naming_the_field(client, changes, field):
    body = {"key": "pro", "name": "Pro", "currency": "EUR", "billingCadence": "P1M", "price": {"amount": "1"}}
    body = {k: v for k, v in {**body, **changes}.items() if v is not None}
    response = client.post(PLANS, json=body)
    assert response.status_code == 400
    assert field in problem_fields(response), response.json
    assert_matches(response.json, "Problem")


def test_a_taken_key_is_409_naming_the_plan(client):
    make_plan(client, key="pro", name="Pro")
    response = client.post(
        PLANS,
        json={"key": "pro", "name": "Other", "currency": "USD", "billingCadence": "P1M", "price": {"amount": "1"}},
    )
    assert response.status_code == 409 and problem_fields(response) == {"key": "conflict"}
    assert '"Pro" (pro)' in response.json["detail"]


def test_get_by_id_or_key_and_list_with_filters(client):
    pro = make_plan(client, key="pro", currency="EUR")
    make_plan(client, key="basic", currency="USD")
    assert client.get(f"{PLANS}/{pro['id']}").json["key"] == "pro"
    assert client.get(f"{PLANS}/pro").json["id"] == pro["id"]
    assert client.get(f"{PLANS}/PRO").status_code == 404
    listing = client.get(PLANS).json
    assert [p["key"] for p in listing["items"]] == ["basic", "pro"] and listing["totalCount"] == 2
    assert_matches(listing, "PlanPaginatedResponse")
    assert [p["key"] for p in client.get(PLANS, query_string={"currency": "EUR"}).json["items"]] == ["pro"]
    assert [p["key"] for p in client.get(f"{PLANS}?key=basic&key=nope").json["items"]] == ["basic"]
    ordered = client.get(PLANS, query_string={"orderBy": "created_at", "order": "DESC", "pageSize": 1}).json
    assert [p["key"] for p in ordered["items"]] == ["basic"] and ordered["totalCount"] == 2
    for bad in ({"orderBy": "name"}, {"pageSize": 0}, {"includeDeleted": "maybe"}):
        assert client.get(PLANS, query_string=bad).status_code == 400


def test_put_replaces_a_plan_but_not_its_key_or_currency(client):
    pro = make_plan(client, key="pro", description="old")
    body = {"name": "Pro 2", "billingCadence": "P1Y", "price": {"amount": "490"}}
    response = client.put(f"{PLANS}/pro", json=body)
    assert response.status_code == 200
    assert response.json["price"]["amount"] == "490.00" and "description" not in response.json
    assert response.json["id"] == pro["id"] and response.json["billingCadence"] == "P1Y"
    refused = client.put(f"{PLANS}/pro", json={**body, "currency": "USD", "key": "pro_usd"})
    assert refused.status_code == 400 and problem_fields(refused) == {"key": "immutable", "currency": "immutable"}
    assert client.put(f"{PLANS}/pro", json={**body, "currency": "EUR", "key": "pro"}).status_code == 200


def test_delete_a_plan_frees_its_key(client):
    pro = make_plan(client, key="pro")
    assert client.delete(f"{PLANS}/pro").status_code == 204
    assert client.get(f"{PLANS}/pro").status_code == 404
    assert client.get(f"{PLANS}/{pro['id']}").json["deletedAt"]
    assert client.get(PLANS).json["totalCount"] == 0
    assert client.get(PLANS, query_string={"includeDeleted": "true"}).json["totalCount"] == 1
    assert client.delete(f"{PLANS}/{pro['id']}").status_code == 412
    assert (
        client.put(
            f"{PLANS}/{pro['id']}", json={"name": "x", "billingCadence": "P1M", "price": {"amount": "1"}}
        ).status_code
        == 412
    )
    make_plan(client, key="pro")


def test_a_plan_with_subscribers_cannot_be_deleted(client):
    make_plan(client, key="pro")
    make_customer(client, name="Acme Ltd")
    subscription = subscribe(client, "pro", customerKey="acme").json
    response = client.delete(f"{PLANS}/pro")
    assert response.status_code == 409 and "Acme Ltd" in response.json["detail"]
    client.post(f"{SUBSCRIPTIONS}/{subscription['id']}/cancel")
    assert client.delete(f"{PLANS}/pro").status_code == 204


# --- Subscriptions ----------------------------------------------------------------------------


def test_subscribe_with_openmeters_shape(client):
    plan = make_plan(client, key="pro")
    customer = make_customer(client)
    response = subscribe(client, "pro", customerId=customer["id"])
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"{SUBSCRIPTIONS}/{body['id']}")
    assert body["customerId"] == customer["id"] and body["plan"] == {"id": plan["id"], "key": "pro"}
    assert (body["status"], body["currency"], body["billingCadence"], body["name"]) == ("active", "EUR", "P1M", "pro")
    assert body["activeFrom"] == body["billingAnchor"] and "activeTo" not in body
    assert_matches(body, "Subscription")
    assert client.get(f"{SUBSCRIPTIONS}/{body['id']}").json == body
    assert client.get(f"{CUSTOMERS}/acme").json["currentSubscriptionId"] == body["id"]


def test_another_currency_is_refused_naming_both(client):
    make_plan(client, key="pro_usd", currency="USD", name="Pro US")
    make_customer(client, currency="EUR")
    response = subscribe(client, "pro_usd", customerKey="acme")
    assert response.status_code == 400
    assert problem_fields(response) == {"plan.key": "currency_mismatch"}
    assert "priced in USD" in response.json["detail"] and "pays in EUR" in response.json["detail"]
    assert "currentSubscriptionId" not in client.get(f"{CUSTOMERS}/acme").json


def test_a_customer_without_currency_takes_the_plans(client):
    make_plan(client, key="pro_usd", currency="USD")
    make_customer(client, currency=None)
    assert subscribe(client, "pro_usd", customerKey="acme").status_code == 201
    assert client.get(f"{CUSTOMERS}/acme").json["currency"] == "USD"


def test_a_second_active_subscription_is_409(client):
    make_plan(client, key="pro")
    make_plan(client, key="basic")
    make_customer(client)
    first = subscribe(client, "pro", customerKey="acme").json
    response = subscribe(client, "basic", customerKey="acme")
    assert response.status_code == 409 and first["id"] in response.json["detail"]
    assert problem_fields(response) == {"customerId": "active_subscription"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"customerKey": "acme"}, 400, "plan"),
        ({"customerKey": "acme", "plan": {}}, 400, "plan.key"),
        ({"customerKey": "acme", "plan": "pro"}, 400, "plan"),
        ({"customerKey": "acme", "plan": {"key": 5}}, 400, "plan.key"),
        ({"plan": {"key": "pro"}}, 400, "customerId"),
        ({"customerKey": 7, "plan": {"key": "pro"}}, 400, "customerKey"),
        ({"customerKey": "acme", "plan": {"key": "pro"}, "timing": "next_billing_cycle"}, 400, "timing"),
        ({"customerKey": "acme", "customPlan": {"name": "x"}}, 400, "customPlan"),
        ({"customerKey": "acme", "plan": {"key": "nope"}}, 404, None),
        ({"customerKey": "nobody", "plan": {"key": "pro"}}, 404, None),
        ({"customerId": "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "plan": {"key": "pro"}}, 404, None),
        ([], 400, "body"),
    ],
)
def test_bad_subscribe_requests(client, body, status, field):
    make_plan(client, key="pro")
    make_customer(client)
    response = client.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == status, response.json
    if field:
        assert field in problem_fields(response)
    assert_matches(response.json, "Problem")


def test_a_deleted_customer_cannot_subscribe(client):
    make_plan(client, key="pro")
    customer = make_customer(client)
    client.delete(f"{CUSTOMERS}/acme")
    refused = subscribe(client, "pro", customerId=customer["id"])
    assert refused.status_code == 412 and "deleted" in refused.json["detail"]


def test_change_plan_answers_with_the_ended_and_the_new(client):
    make_plan(client, key="basic")
    pro = make_plan(client, key="pro")
    make_plan(client, key="pro_usd", currency="USD")
    make_customer(client)
    old = subscribe(client, "basic", customerKey="acme").json
    url = f"{SUBSCRIPTIONS}/{old['id']}/change"
    assert client.post(url, json={"timing": "immediate", "plan": {"key": "pro_usd"}}).status_code == 400
    assert client.post(url, json={"plan": {"key": "basic"}}).status_code == 400
    response = client.post(url, json={"timing": "immediate", "plan": {"key": "pro"}})
    assert response.status_code == 200
    current, new = response.json["current"], response.json["next"]
    assert current["id"] == old["id"] and current["status"] == "inactive" and current["activeTo"] == new["activeFrom"]
    assert new["plan"]["id"] == pro["id"] and new["status"] == "active"
    assert_matches(response.json, "SubscriptionChangeResponseBody")
    assert client.get(f"{CUSTOMERS}/acme").json["currentSubscriptionId"] == new["id"]
    assert client.post(url, json={"plan": {"key": "basic"}}).status_code == 412
    assert (
        client.post(f"{SUBSCRIPTIONS}/01ZZZZZZZZZZZZZZZZZZZZZZZZ/change", json={"plan": {"key": "basic"}}).status_code
        == 404
    )


def test_cancel_then_delete_the_customer(client):
    make_plan(client, key="pro")
    make_customer(client)
    subscription = subscribe(client, "pro", customerKey="acme").json
    refused = client.delete(f"{CUSTOMERS}/acme")
    assert refused.status_code == 409 and subscription["id"] in refused.json["detail"]
    assert problem_fields(refused) == {"currentSubscriptionId": "active_subscription"}
    assert client.post(f"{SUBSCRIPTIONS}/{subscription['id']}/cancel", json={"timing": "later"}).status_code == 400
    response = client.post(f"{SUBSCRIPTIONS}/{subscription['id']}/cancel")  # no body: cancel now
    assert response.status_code == 200 and response.json["status"] == "inactive" and response.json["activeTo"]
    assert client.post(f"{SUBSCRIPTIONS}/{subscription['id']}/cancel", json={}).status_code == 412
    assert "currentSubscriptionId" not in client.get(f"{CUSTOMERS}/acme").json
    assert client.delete(f"{CUSTOMERS}/acme").status_code == 204


def test_the_currency_of_a_subscribed_customer_is_locked(client):
    make_plan(client, key="pro")
    make_customer(client, currency="EUR")
    subscription = subscribe(client, "pro", customerKey="acme").json
    refused = client.put(f"{CUSTOMERS}/acme", json={"name": "Acme", "key": "acme", "currency": "USD"})
    assert refused.status_code == 409 and problem_fields(refused) == {"currency": "locked_by_subscription"}
    assert client.put(f"{CUSTOMERS}/acme", json={"name": "Acme", "key": "acme"}).status_code == 409  # clearing it too
    kept = client.put(f"{CUSTOMERS}/acme", json={"name": "Acme 2", "key": "acme", "currency": "EUR"})
    assert kept.status_code == 200 and kept.json["currentSubscriptionId"] == subscription["id"]
    client.post(f"{SUBSCRIPTIONS}/{subscription['id']}/cancel")
    assert client.put(f"{CUSTOMERS}/acme", json={"name": "Acme", "key": "acme", "currency": "USD"}).status_code == 200


def test_customer_subscriptions_list_with_status_and_order(client):
    make_plan(client, key="basic")
    make_plan(client, key="pro")
    customer = make_customer(client)
    first = subscribe(client, "basic", customerKey="acme").json
    second = client.post(f"{SUBSCRIPTIONS}/{first['id']}/change", json={"plan": {"key": "pro"}}).json["next"]
    url = f"{CUSTOMERS}/acme/subscriptions"
    listing = client.get(url).json
    assert [s["id"] for s in listing["items"]] == [first["id"], second["id"]] and listing["totalCount"] == 2
    assert_matches(listing, "SubscriptionPaginatedResponse")
    assert [s["id"] for s in client.get(url, query_string={"order": "DESC"}).json["items"]] == [
        second["id"],
        first["id"],
    ]
    assert [s["id"] for s in client.get(url, query_string={"status": "active"}).json["items"]] == [second["id"]]
    assert [s["id"] for s in client.get(url, query_string={"status": "inactive"}).json["items"]] == [first["id"]]
    assert client.get(f"{url}?status=active&status=inactive").json["totalCount"] == 2
    assert client.get(url, query_string={"status": "canceled"}).json["totalCount"] == 0
    assert client.get(f"{CUSTOMERS}/{customer['id']}/subscriptions").json["totalCount"] == 2
    assert client.get(url, query_string={"status": "gone"}).status_code == 400
    assert client.get(url, query_string={"orderBy": "name"}).status_code == 400
    assert client.get(f"{CUSTOMERS}/nobody/subscriptions").status_code == 404


def test_customers_list_by_plan_key_with_current_subscription(client):
    make_plan(client, key="pro")
    make_plan(client, key="basic")
    make_customer(client, key="a", name="A")
    make_customer(client, key="b", name="B")
    make_customer(client, key="c", name="C")
    on_pro = subscribe(client, "pro", customerKey="a").json
    subscribe(client, "basic", customerKey="b")
    listing = client.get(CUSTOMERS, query_string={"planKey": "pro"}).json
    assert [c["key"] for c in listing["items"]] == ["a"] and listing["items"][0]["currentSubscriptionId"] == on_pro[
        "id"
    ]
    everyone = {c["key"]: c.get("currentSubscriptionId") for c in client.get(CUSTOMERS).json["items"]}
    assert everyone["a"] == on_pro["id"] and everyone["b"] and everyone["c"] is None
    assert client.get(CUSTOMERS, query_string={"planKey": "nope"}).json["totalCount"] == 0
    assert_matches(listing, "CustomerPaginatedResponse")


# --- Races --------------------------------------------------------------------------------------


def _race(app, requests: list) -> list[int]:
    """Send the requests from one thread each, released together; return their statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def send(method, url, body):
        client = app.test_client()
        barrier.wait()
        statuses.append(getattr(client, method)(url, json=body).status_code)

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_concurrent_subscribes_of_one_customer_give_one_success(app, client):
    for i in range(8):
        make_plan(client, key=f"plan_{i}")
    make_customer(client, currency="EUR")
    requests = [("post", SUBSCRIPTIONS, {"customerKey": "acme", "plan": {"key": f"plan_{i}"}}) for i in range(8)]
    assert sorted(_race(app, requests)) == [201] + [409] * 7
    assert client.get(f"{CUSTOMERS}/acme/subscriptions").json["totalCount"] == 1


def test_concurrent_first_subscribes_in_several_currencies_give_one_currency(app, client):
    """A customer without currency and plans in four currencies: one subscription wins and sets the
    currency; a loser is refused as a conflict, or by the currency rule if it saw the winner's."""
    currencies = ["EUR", "USD", "GBP", "HUF"]
    for i in range(8):
        make_plan(client, key=f"plan_{i}", currency=currencies[i % 4])
    make_customer(client, currency=None)
    requests = [("post", SUBSCRIPTIONS, {"customerKey": "acme", "plan": {"key": f"plan_{i}"}}) for i in range(8)]
    statuses = _race(app, requests)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 400, 409}
    subscriptions = client.get(f"{CUSTOMERS}/acme/subscriptions").json["items"]
    assert len(subscriptions) == 1
    assert client.get(f"{CUSTOMERS}/acme").json["currency"] == subscriptions[0]["currency"]


def test_concurrent_changes_and_cancels_leave_at_most_one_active(app, client):
    for key in ("basic", "pro", "team", "max"):
        make_plan(client, key=key)
    make_customer(client)
    current = subscribe(client, "basic", customerKey="acme").json
    change = f"{SUBSCRIPTIONS}/{current['id']}/change"
    requests = [("post", change, {"plan": {"key": key}}) for key in ("pro", "team", "max")]
    requests += [("post", f"{SUBSCRIPTIONS}/{current['id']}/cancel", {})]
    statuses = _race(app, requests)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409, 412}
    active = client.get(f"{CUSTOMERS}/acme/subscriptions", query_string={"status": "active"}).json["items"]
    assert len(active) <= 1


def test_a_customer_deleted_while_subscribing_ends_consistent(app, client):
    make_plan(client, key="pro")
    make_customer(client)
    statuses = _race(
        app,
        [
            ("post", SUBSCRIPTIONS, {"customerKey": "acme", "plan": {"key": "pro"}}),
            ("delete", f"{CUSTOMERS}/acme", None),
        ],
    )
    assert set(statuses) <= {201, 204, 404, 409, 412}
    subscribed = 201 in statuses
    deleted = 204 in statuses
    assert subscribed != deleted  # one of the two wins, never both


def test_a_plan_deleted_while_customers_subscribe_ends_consistent(app, client):
    make_plan(client, key="pro")
    for i in range(6):
        make_customer(client, key=f"c{i}", name=f"C{i}")
    requests = [("post", SUBSCRIPTIONS, {"customerKey": f"c{i}", "plan": {"key": "pro"}}) for i in range(6)]
    statuses = _race(app, [*requests, ("delete", f"{PLANS}/pro", None)])
    assert 500 not in statuses
    plan = client.get(PLANS, query_string={"includeDeleted": "true"}).json["items"][0]
    active = sum(
        len(client.get(f"{CUSTOMERS}/c{i}/subscriptions", query_string={"status": "active"}).json["items"])
        for i in range(6)
    )
    if "deletedAt" in plan:
        assert active == 0 and statuses.count(201) == 0
    else:
        assert active == statuses.count(201) >= 1
