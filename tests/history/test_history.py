"""Every change is recorded with who made it and what it changed, in the same transaction."""

import re

import pytest
from sqlalchemy import select

from app.customers import rules
from app.customers.rules import CustomerInput
from app.extensions import db
from app.history.models import Change
from app.problems import Conflict


def changes(app, entity_type="customer", entity_id=None) -> list[Change]:
    with app.app_context():
        query = select(Change).where(Change.entity_type == entity_type).order_by(Change.id)
        if entity_id:
            query = query.where(Change.entity_id == entity_id)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def fields(change: Change) -> dict:
    return {c["field"]: (c["before"], c["after"]) for c in change.changes}


def csrf(client) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/customers/new").text).group(1)


def test_create_edit_delete_through_the_api(app, client):
    created = client.post("/api/v1/customers", json={"name": "Acme", "key": "acme", "metadata": {"tier": "gold"}})
    customer_id = created.json["id"]
    client.put("/api/v1/customers/acme", json={"name": "Acme Inc", "key": "acme", "currency": "EUR"})
    client.delete("/api/v1/customers/acme")

    create, edit, delete = changes(app, entity_id=customer_id)
    for change in (create, edit, delete):
        assert (change.actor_type, change.actor_name) == ("token", "token test admin")
    assert create.action == "create"
    assert fields(create)["name"] == (None, "Acme") and fields(create)["metadata"] == (None, {"tier": "gold"})
    assert edit.action == "update"
    assert fields(edit) == {"name": ("Acme", "Acme Inc"), "currency": (None, "EUR"), "metadata": ({"tier": "gold"}, {})}
    assert delete.action == "delete" and fields(delete)["deletedAt"][0] is None


def test_create_edit_delete_through_the_console(app, client):
    base = {"csrf_token": csrf(client), "name": "Acme", "key": "acme", "subject_keys-0": "acme", "action": "save"}
    response = client.post("/customers/new", data=base)
    customer_id = response.headers["Location"].rsplit("/", 1)[1]
    client.post(
        f"/customers/{customer_id}/edit",
        data={**base, "name": "Acme Ltd", "subject_keys-1": "acme-2", "version": "1", "billing_version": "0"},
    )
    client.post(f"/customers/{customer_id}/delete", data={"csrf_token": base["csrf_token"]})

    create, edit, delete = changes(app, entity_id=customer_id)
    assert {c.actor_type for c in (create, edit, delete)} == {"operator"}
    assert {c.actor_name for c in (create, edit, delete)} == {"test-admin"}
    assert fields(edit) == {
        "name": ("Acme", "Acme Ltd"),
        "usageAttribution.subjectKeys": (["acme"], ["acme", "acme-2"]),
    }
    assert [c.action for c in (create, edit, delete)] == ["create", "update", "delete"]

    page = client.get(f"/customers/{customer_id}").text
    assert "History" in page and "test-admin" in page and "Acme Ltd" in page and "acme-2" in page


def test_a_refused_write_leaves_no_history(app, client):
    client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"})
    assert client.post("/api/v1/customers", json={"name": "Copy", "key": "acme"}).status_code == 409
    assert client.post("/api/v1/customers", json={"name": "", "key": "x"}).status_code == 400
    assert len(changes(app)) == 1


def test_the_history_row_shares_the_transaction_of_the_change(app, ctx, monkeypatch):
    """A write the database refuses at commit takes its history row down with it."""
    rules.create(CustomerInput(name="Acme", key="acme"))
    monkeypatch.setattr(rules, "find_conflicts", lambda *a, **k: [])  # let the race reach the unique index
    with pytest.raises(Conflict):
        rules.create(CustomerInput(name="Racer", key="acme"))
    assert [
        c.changes[0]["after"] for c in db.session.scalars(select(Change).where(Change.entity_type == "customer"))
    ] == ["Acme"]


def test_an_edit_that_changes_nothing_is_not_recorded(app, client):
    client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"})
    client.put("/api/v1/customers/acme", json={"name": "Acme", "key": "acme"})
    assert len(changes(app)) == 1


def test_changes_outside_a_request_are_the_systems(app, ctx):
    rules.create(CustomerInput(name="Acme", key="acme"))
    assert db.session.scalars(select(Change.actor_name).where(Change.entity_type == "customer")).one() == "system"


def test_billing_profiles_and_apps_are_recorded_too(app, client):
    installed = client.post(
        "/api/v1/marketplace/listings/stripe/install/apikey", json={"apiKey": "sk_test_" + "a" * 30}
    )
    app_id = installed.json["app"]["id"]
    client.put(
        f"/api/v1/apps/{app_id}", json={"type": "stripe", "name": "Stripe EU", "secretAPIKey": "sk_test_" + "b" * 30}
    )
    (app_create,), (app_edit,) = changes(app, "app", app_id)[:1], changes(app, "app", app_id)[1:]
    assert app_create.action == "create" and app_edit.actor_name == "token test admin"
    assert fields(app_edit)["name"] == ("Stripe", "Stripe EU")
    assert fields(app_edit)["maskedAPIKey"] == ("sk_test_***aaa", "sk_test_***bbb")
    assert "a" * 30 not in str([c.changes for c in changes(app, "app")])  # never the secret

    # Installing Stripe made its profile the default, demoting the sandbox's: both recorded.
    profiles = changes(app, "billing_profile")
    demoted = [c for c in profiles if c.action == "update"]
    assert len(demoted) == 1 and fields(demoted[0]) == {"default": (True, False)}
    assert any(c.action == "create" and fields(c)["apps"] == (None, app_id) for c in profiles)


def test_the_activity_page_filters_by_type_actor_and_date(app, client, client_as):
    client.post("/api/v1/customers", json={"name": "By token", "key": "a"})
    editor = client_as("editor")
    editor.post("/customers/new", data={"csrf_token": csrf(editor), "name": "By editor", "key": "b", "action": "save"})

    everything = client.get("/activity/").text
    assert "By token" in everything and "By editor" in everything and "Sandbox" in everything
    by_editor = client.get("/activity/?actor=test-editor&type=customer").text
    assert "By editor" in by_editor and "By token" not in by_editor
    assert "No change matches" in client.get("/activity/?since=2999-01-01").text
    assert "By token" in client.get("/activity/?until=2999-01-01&since=2000-01-01").text
    assert "is not a date" in client.get("/activity/?since=yesterday").text
    partial = client.get("/activity/?type=app", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in partial.text and "Sandbox" in partial.text and "By token" not in partial.text


def test_the_activity_page_pages(app, client):
    for i in range(55):
        client.post("/api/v1/customers", json={"name": f"C{i}", "key": f"k{i}"})
    first = client.get("/activity/?type=customer").text
    assert "1–50 of 55 changes" in first and 'rel="next"' in first
    assert "51–55 of 55 changes" in client.get("/activity/?type=customer&page=2").text


def test_control_characters_in_filters_match_nothing(client):
    assert "No change matches" in client.get("/activity/?actor=a%00&entity=%00").text


def test_billing_profile_choice_and_app_data_are_recorded_on_the_customer(app, client):
    from tests.billing.test_customer_overrides import install_stripe, make_customer, make_profile

    stripe = install_stripe(app)
    customer = make_customer(client)
    profile = make_profile(client, app, app_id=stripe)
    client.put(f"/api/v1/billing/customers/{customer}", json={"billingProfileId": profile})
    client.put(f"/api/v1/customers/{customer}/stripe", json={"stripeCustomerId": "cus_1"})
    client.delete(f"/api/v1/customers/{customer}/apps/{stripe}")
    client.delete(f"/api/v1/billing/customers/{customer}")

    pinned, stripe_set, stripe_cleared, unpinned = changes(app, entity_id=customer)[1:]
    assert fields(pinned) == {"billingProfileId": (None, profile)}
    assert fields(stripe_set)[f"apps.{stripe}"][1]["stripeCustomerId"] == "cus_1"
    assert fields(stripe_cleared)[f"apps.{stripe}"][1] is None
    assert fields(unpinned) == {"billingProfileId": (profile, None)}
    assert all(c.actor_type == "token" for c in (pinned, stripe_set, stripe_cleared, unpinned))
