"""Optimistic concurrency in the API: every editable thing answers an ETag, and PUT and DELETE with
If-Match go through only while nobody else has changed it (app/etags.py)."""

from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import text

from app import common
from app.apps import customer_data
from app.apps import rules as app_rules
from app.auth import rules as auth_rules
from app.billing import overrides
from app.billing import rules as billing_rules
from app.customers import lifecycle as customer_lifecycle
from app.customers import rules as customer_rules
from app.customers.rules import CustomerInput
from app.extensions import db
from app.plans import rules as plan_rules
from app.problems import StaleEdit
from tests.openapi_check import assert_matches

STRIPE_KEY = "sk_test_1234567890abcdefXYZ"


@dataclass
class Editable:
    """One editable thing of the API: where it is read and replaced, where it is deleted, three
    values a PUT can give it, and how to read back the value it has."""

    url: str
    delete_url: str
    values: tuple[str, str, str]
    body: Callable[[str], object]
    value_of: Callable[[dict], str | None]


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.json
    return response.json


def _profile(client, name: str) -> dict:
    sandbox = next(p for p in client.get("/api/v1/billing/profiles").json["items"] if p["default"])
    app_id = sandbox["apps"]["tax"]["id"]
    body = {
        "name": name,
        "supplier": {"name": "Acme Kft.", "addresses": [{"country": "HU"}]},
        "apps": {"tax": app_id, "invoicing": app_id, "payment": app_id},
    }
    return _created(client.post("/api/v1/billing/profiles", json=body))


def _customer(client, key: str = "acme") -> dict:
    return _created(client.post("/api/v1/customers", json={"name": "Acme", "key": key}))


def customer(client) -> Editable:
    url = f"/api/v1/customers/{_customer(client)['id']}"
    return Editable(url, url, ("Acme 1", "Acme 2", "Acme 3"), lambda v: {"name": v, "key": "acme"}, lambda j: j["name"])


def customer_by_key(client) -> Editable:
    _customer(client)  # If-Match names it by its id, also when the path names it by key
    url = "/api/v1/customers/acme"
    return Editable(url, url, ("Acme 1", "Acme 2", "Acme 3"), lambda v: {"name": v, "key": "acme"}, lambda j: j["name"])


def plan(client) -> Editable:
    body = {"key": "pro", "name": "Pro", "currency": "EUR", "price": {"type": "flat", "amount": "10"}}
    url = f"/api/v1/plans/{_created(client.post('/api/v1/plans', json={**body, 'billingCadence': 'P1M'}))['id']}"
    return Editable(
        url,
        url,
        ("Pro 1", "Pro 2", "Pro 3"),
        lambda v: {"name": v, "price": {"type": "flat", "amount": "10"}, "billingCadence": "P1M"},
        lambda j: j["name"],
    )


def billing_profile(client) -> Editable:
    profile = _profile(client, "Europe")
    url = f"/api/v1/billing/profiles/{profile['id']}"
    read_back = {k: v for k, v in profile.items() if k not in ("id", "createdAt", "updatedAt")}
    return Editable(
        url, url, ("Europe 1", "Europe 2", "Europe 3"), lambda v: {**read_back, "name": v}, lambda j: j["name"]
    )


def app(client) -> Editable:
    installed = client.post(
        "/api/v1/marketplace/listings/custom_invoicing/install", json={"createBillingProfile": False}
    )
    url = f"/api/v1/apps/{_created(installed)['app']['id']}"
    return Editable(
        url, url, ("ERP 1", "ERP 2", "ERP 3"), lambda v: {"type": "custom_invoicing", "name": v}, lambda j: j["name"]
    )


def billing_override(client) -> Editable:
    """A customer's billing override: pinned to one of three profiles in turn."""
    profiles = tuple(_profile(client, name)["id"] for name in ("One", "Two", "Three"))
    url = f"/api/v1/billing/customers/{_customer(client)['id']}"
    return Editable(
        url,
        url,
        profiles,
        lambda v: {"billingProfileId": v},
        lambda j: j.get("customerOverride", {}).get("billingProfileId"),
    )


def stripe_data(client) -> Editable:
    """A customer's Stripe customer id, in the Stripe app that (as the default profile's) bills it."""
    installed = client.post("/api/v1/marketplace/listings/stripe/install/apikey", json={"apiKey": STRIPE_KEY})
    app_id = _created(installed)["app"]["id"]
    customer_id = _customer(client)["id"]
    url = f"/api/v1/customers/{customer_id}/stripe"
    _created(client.put(url, json={"stripeCustomerId": "cus_First0"}))  # before it, GET is a 404
    return Editable(
        url,
        f"/api/v1/customers/{customer_id}/apps/{app_id}",
        ("cus_One1", "cus_Two2", "cus_Three3"),
        lambda v: {"stripeCustomerId": v},
        lambda j: j.get("stripeCustomerId"),
    )


EDITABLE = [customer, customer_by_key, plan, billing_profile, app, billing_override, stripe_data]


@pytest.fixture(params=EDITABLE, ids=[f.__name__ for f in EDITABLE])
def thing(request, client) -> Editable:
    return request.param(client)


def etag_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.json
    return response.headers["ETag"]


def assert_precondition_failed(response) -> None:
    assert response.status_code == 412, response.json
    assert response.content_type == "application/problem+json"
    assert_matches(response.json, "Problem")


def test_a_get_answers_a_strong_etag_and_a_put_with_it_answers_the_next(client, thing):
    etag = etag_of(client, thing.url)
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/
    assert etag_of(client, thing.url) == etag  # reading changes nothing
    first, _, _ = thing.values
    response = client.put(thing.url, json=thing.body(first), headers={"If-Match": etag})
    assert response.status_code == 200, response.json
    assert thing.value_of(response.json) == first
    assert response.headers["ETag"] not in (None, etag)
    assert etag_of(client, thing.url) == response.headers["ETag"]


def test_a_put_or_delete_from_a_stale_copy_is_412_and_changes_nothing(client, thing):
    mine = etag_of(client, thing.url)
    theirs, my_value, _ = thing.values
    assert client.put(thing.url, json=thing.body(theirs)).status_code == 200  # someone else, without If-Match

    put = client.put(thing.url, json=thing.body(my_value), headers={"If-Match": mine})
    assert_precondition_failed(put)
    assert "changed by someone else" in put.json["detail"]
    assert thing.value_of(client.get(thing.url).json) == theirs

    delete = client.delete(thing.delete_url, headers={"If-Match": mine})
    assert_precondition_failed(delete)
    read = client.get(thing.url)
    assert read.status_code == 200 and thing.value_of(read.json) == theirs and "deletedAt" not in read.json


def test_a_delete_with_the_current_etag_goes_through_once(client, thing):
    assert client.put(thing.url, json=thing.body(thing.values[0])).status_code == 200  # an override needs one
    current = etag_of(client, thing.url)
    assert client.delete(thing.delete_url, headers={"If-Match": current}).status_code == 204
    again = client.delete(thing.delete_url, headers={"If-Match": current})
    assert again.status_code in (404, 412) and again.content_type == "application/problem+json"


def test_if_match_star_or_no_if_match_take_whatever_is_current(client, thing):
    first, second, _ = thing.values
    # Without If-Match the last write wins, as in OpenMeter: two writers from one copy both succeed.
    assert client.put(thing.url, json=thing.body(first)).status_code == 200
    assert client.put(thing.url, json=thing.body(second)).status_code == 200
    starred = client.put(thing.url, json=thing.body(first), headers={"If-Match": "*"})
    assert starred.status_code == 200 and thing.value_of(starred.json) == first
    assert client.delete(thing.delete_url, headers={"If-Match": "*"}).status_code == 204


def test_one_of_several_etags_must_be_current(client, thing):
    current = etag_of(client, thing.url)
    first, second, _ = thing.values
    listed = f'"someone-else-1", {current}'
    assert client.put(thing.url, json=thing.body(first), headers={"If-Match": listed}).status_code == 200
    assert_precondition_failed(client.put(thing.url, json=thing.body(second), headers={"If-Match": listed}))


@pytest.mark.parametrize("header", ["3", '"unterminated', "", '"a" "b"', "W/", '"a",,"b"'])
def test_a_malformed_if_match_is_400_naming_it_and_changes_nothing(client, header):
    url = customer(client).url
    response = client.put(url, json={"name": "Changed", "key": "acme"}, headers={"If-Match": header})
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert [e["field"] for e in response.json["extensions"]["validationErrors"]] == ["If-Match"]
    assert client.delete(url, headers={"If-Match": header}).status_code == 400
    assert client.get(url).json["name"] == "Acme"


def test_a_weak_etag_or_the_etag_of_another_thing_never_matches(client):
    url = customer(client).url
    current = etag_of(client, url)
    other = etag_of(client, f"/api/v1/customers/{_customer(client, 'other')['id']}")
    for header in (f"W/{current}", other):
        assert_precondition_failed(
            client.put(url, json={"name": "Changed", "key": "acme"}, headers={"If-Match": header})
        )
    assert client.get(url).json["name"] == "Acme"


def test_the_412_says_which_version_the_copy_is_and_who_changed_it_since(client):
    url = customer(client).url
    mine = etag_of(client, url)
    client.put(url, json={"name": "Theirs", "key": "acme"})
    detail = client.put(url, json={"name": "Mine", "key": "acme"}, headers={"If-Match": mine}).json["detail"]
    assert "your copy is version 1, it is now version 2" in detail
    assert "latest recorded change was by token test admin at" in detail


def test_creates_answer_the_etag_of_what_they_made(client):
    made = client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"})
    assert made.status_code == 201 and made.headers["ETag"] == etag_of(client, made.headers["Location"])
    plan_body = {"key": "pro", "name": "Pro", "currency": "EUR", "price": {"type": "flat", "amount": "1"}}
    made = client.post("/api/v1/plans", json={**plan_body, "billingCadence": "P1M"})
    assert made.status_code == 201 and made.headers["ETag"] == etag_of(client, made.headers["Location"])


def test_a_put_of_several_apps_data_needs_the_etag_of_each(client):
    thing = stripe_data(client)
    customer_url = thing.url.removesuffix("/stripe")
    app_id = thing.delete_url.rsplit("/", 1)[1]
    item = {"type": "stripe", "id": app_id, "stripeCustomerId": "cus_Batch1"}
    current = etag_of(client, thing.url)
    assert client.put(f"{customer_url}/apps", json=[item], headers={"If-Match": current}).status_code == 200
    # The same ETag again is stale now; an ETag of something else names no version of this data.
    for header in (current, etag_of(client, customer_url)):
        assert_precondition_failed(client.put(f"{customer_url}/apps", json=[item], headers={"If-Match": header}))
    assert client.get(thing.url).json["stripeCustomerId"] == "cus_Batch1"


def test_openmeter_shaped_calls_without_if_match_are_unchanged(client):
    """OpenMeter's clients send no If-Match: a read, edit and PUT back works as it always did."""
    url = customer(client).url
    read = client.get(url).json
    assert client.put(url, json={"name": "Renamed", "key": read["key"]}).status_code == 200
    assert client.delete(url).status_code == 204


# --- The database decides ---------------------------------------------------------------------
# A copy read at a version, then a change committed by another connection before the write: the
# rule's own check still sees the version it read, so only the version in the UPDATE's (or
# DELETE's) WHERE can refuse the write. It must, and nothing may change.


def _bump_elsewhere(table: str, where: str, **params) -> None:
    with db.engine.connect() as other:
        other.execute(text(f"UPDATE {table} SET version = version + 1 WHERE {where}"), params)
        other.commit()


def _edits(app_):
    """(name, read: () -> (thing, table, where, params), write: (thing, expected version) -> None)."""
    with app_.app_context():
        customer_id = customer_rules.create(CustomerInput(name="Acme", key="acme")).id
        plan_id = plan_rules.create_plan(
            plan_rules.PlanInput(name="Pro", key="pro", currency="EUR", amount="10", billing_cadence="P1M")
        ).id
        default = billing_rules.default_profile()
        installed, _ = app_rules.install("stripe", name="Stripe", api_key=STRIPE_KEY)
        stripe_app_id = installed.id
        customer_data.upsert(customer_id, [customer_data.AppDataInput("stripe", stripe_app_id, "cus_Old1")], False)
        overrides.pin(customer_id, default.id)
        operator_id = auth_rules.create_operator("dora", "viewer", "correct horse battery staple").id
        profile_input = billing_rules.ProfileInput(
            name="Europe",
            supplier=billing_rules.Supplier(name="Acme", addresses=[common.Address(country="DE")]),
            apps=billing_rules.AppIds(default.app_id, default.app_id, default.app_id),
        )
        profile_id = billing_rules.create(profile_input).id
        db.session.remove()
    app_data_key = "customer_id = :c AND app_id = :a"
    return {
        "customer replace": (
            lambda: (customer_rules.get(customer_id), "customers", "id = :id", {"id": customer_id}),
            lambda v: customer_lifecycle.replace(customer_id, CustomerInput(name="Mine", key="acme"), v),
        ),
        "customer delete": (
            lambda: (customer_rules.get(customer_id), "customers", "id = :id", {"id": customer_id}),
            lambda v: customer_lifecycle.delete(customer_id, v),
        ),
        "plan replace": (
            lambda: (plan_rules.get_plan(plan_id), "plans", "id = :id", {"id": plan_id}),
            lambda v: plan_rules.replace_plan(
                plan_id, plan_rules.PlanInput(name="Mine", amount="10", billing_cadence="P1M"), v
            ),
        ),
        "profile replace": (
            lambda: (billing_rules.get(profile_id), "billing_profiles", "id = :id", {"id": profile_id}),
            lambda v: billing_rules.replace(profile_id, profile_input, v),
        ),
        "app replace": (
            lambda: (app_rules.get(stripe_app_id), "apps", "id = :id", {"id": stripe_app_id}),
            lambda v: app_rules.replace(stripe_app_id, app_rules.AppInput("stripe", "Mine"), v),
        ),
        "operator update": (
            lambda: (auth_rules.get_operator(operator_id), "operators", "id = :id", {"id": operator_id}),
            lambda v: auth_rules.update_operator(operator_id, role="editor", expected_version=v),
        ),
        "override pin": (
            lambda: (overrides.get(customer_id).override, "customer_overrides", "customer_id = :c", {"c": customer_id}),
            lambda v: overrides.pin(customer_id, None, v),
        ),
        "override unpin": (
            lambda: (overrides.get(customer_id).override, "customer_overrides", "customer_id = :c", {"c": customer_id}),
            lambda v: overrides.unpin(customer_id, v),
        ),
        "app data upsert": (
            lambda: (
                customer_data.list_for(customer_id)[1][0],
                "customer_app_data",
                app_data_key,
                {"c": customer_id, "a": stripe_app_id},
            ),
            lambda v: customer_data.upsert(
                customer_id,
                [customer_data.AppDataInput("stripe", stripe_app_id, "cus_Mine1")],
                False,
                {stripe_app_id: v},
            ),
        ),
        "app data delete": (
            lambda: (
                customer_data.list_for(customer_id)[1][0],
                "customer_app_data",
                app_data_key,
                {"c": customer_id, "a": stripe_app_id},
            ),
            lambda v: customer_data.delete(customer_id, stripe_app_id, v),
        ),
    }


EDITS = [
    "customer replace",
    "customer delete",
    "plan replace",
    "profile replace",
    "app replace",
    "operator update",
    "override pin",
    "override unpin",
    "app data upsert",
    "app data delete",
]


@pytest.mark.parametrize("edit", EDITS)
def test_the_version_in_the_write_refuses_a_change_committed_after_the_read(app, edit):
    read, write = _edits(app)[edit]
    with app.app_context():
        thing, table, where, params = read()
        read_at = thing.version
        _bump_elsewhere(table, where, **params)
        with pytest.raises(StaleEdit):
            write(read_at)  # the copy in this session still says `read_at`
        db.session.remove()
        current = db.session.execute(text(f"SELECT version FROM {table} WHERE {where}"), params).scalar_one()
        assert current == read_at + 1  # the other change stands, and this one wrote nothing
