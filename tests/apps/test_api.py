"""The apps and marketplace JSON API through Flask's test client: shapes, the secret key, every error path."""

import threading

import pytest
from flask_migrate import upgrade

from app import create_app
from app.auth.rules import create_token
from app.billing.models import BillingProfile
from app.extensions import db
from tests.openapi_check import assert_matches

APPS = "/api/v1/apps"
LISTINGS = "/api/v1/marketplace/listings"
SECRET = "sk_test_51SecretSecretSecretSecret1234567890xyz"


def problem_fields(response) -> dict[str, str]:
    assert response.content_type == "application/problem+json", response.data
    assert_matches(response.json, "Problem")
    return {e["field"]: e["code"] for e in response.json.get("extensions", {}).get("validationErrors", [])}


def install(client, app_type="custom_invoicing", **body) -> dict:
    suffix = "/install/apikey" if "apiKey" in body else "/install"
    response = client.post(f"{LISTINGS}/{app_type}{suffix}", json=body)
    assert response.status_code == 200, response.json
    assert_matches(response.json, "MarketplaceInstallResponse")
    return response.json


def sandbox(client) -> dict:
    return client.get(APPS).json["items"][0]


def test_the_sandbox_is_installed_from_the_start(client):
    listing = client.get(APPS).json
    assert_matches(listing, "AppPaginatedResponse")
    assert (listing["totalCount"], listing["page"], listing["pageSize"]) == (1, 1, 100)
    app = listing["items"][0]
    assert (app["type"], app["name"], app["status"]) == ("sandbox", "Sandbox", "ready")
    assert app["listing"]["installMethods"] == ["no_credentials_required"]
    assert client.get(f"{APPS}/{app['id']}").json == app


def test_the_first_request_of_a_process_makes_the_defaults(app):
    """On a new database the first request installs the sandbox and the default profile."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        _, token = create_token("fresh", "viewer")
    fresh = create_app(dict(app.config))
    listed = fresh.test_client().get(APPS, headers={"Authorization": f"Bearer {token}"})
    assert [a["type"] for a in listed.json["items"]] == ["sandbox"]
    with app.app_context():
        assert db.session.query(BillingProfile).filter_by(is_default=True).count() == 1


def test_the_first_request_waits_for_the_migration(tmp_path):
    """A worker started before `flask db upgrade` serves, and makes the defaults once the tables exist."""
    fresh = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/new.sqlite"}
    )
    client = fresh.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 401  # served, if only to say a token is needed
    with fresh.app_context():
        upgrade()
        _, token = create_token("fresh", "viewer")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert [a["type"] for a in client.get(APPS).json["items"]] == ["sandbox"]
    with fresh.app_context():
        db.engine.dispose()


def test_marketplace_listings(client):
    page = client.get(LISTINGS).json
    assert_matches(page, "MarketplaceListingPaginatedResponse")
    assert [item["type"] for item in page["items"]] == ["sandbox", "stripe", "custom_invoicing"]
    stripe = client.get(f"{LISTINGS}/stripe").json
    assert_matches(stripe, "MarketplaceListing")
    assert {c["type"] for c in stripe["capabilities"]} == {"calculateTax", "invoiceCustomers", "collectPayments"}
    assert stripe["installMethods"] == ["with_api_key"]
    second = client.get(LISTINGS, query_string={"page": 2, "pageSize": 2}).json
    assert [item["type"] for item in second["items"]] == ["custom_invoicing"] and second["totalCount"] == 3
    response = client.get(f"{LISTINGS}/paypal")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_stripe_install_never_echoes_the_secret(client):
    body = install(client, "stripe", apiKey=SECRET, name="Stripe US")
    app = body["app"]
    assert (app["type"], app["name"], app["livemode"]) == ("stripe", "Stripe US", False)
    assert app["maskedAPIKey"] == "sk_test_***xyz"
    assert "secretAPIKey" not in app and body["defaultForCapabilityTypes"] == [
        "calculateTax",
        "invoiceCustomers",
        "collectPayments",
    ]
    responses = [
        client.get(APPS),
        client.get(f"{APPS}/{app['id']}"),
        client.put(f"{APPS}/{app['id']}", json={"type": "stripe", "name": "Renamed"}),
        client.get("/api/v1/billing/profiles", query_string={"expand": "apps"}),
        client.put(f"{APPS}/{app['id']}", json={"type": "stripe", "name": "R", "secretAPIKey": SECRET + "!"}),
        client.post(f"{LISTINGS}/stripe/install/apikey", json={"apiKey": SECRET + " "}),
    ]
    for response in responses:
        assert SECRET[8:-3] not in response.get_data(as_text=True), response.request.path
    assert responses[2].json["maskedAPIKey"] == "sk_test_***xyz"
    assert problem_fields(responses[4]) == {"secretAPIKey": "invalid_api_key"}


def test_a_new_stripe_key_replaces_the_old(client):
    app = install(client, "stripe", apiKey=SECRET, createBillingProfile=False)["app"]
    new_key = "sk_test_" + "N" * 40 + "abc"
    response = client.put(f"{APPS}/{app['id']}", json={"type": "stripe", "name": "Stripe", "secretAPIKey": new_key})
    assert response.status_code == 200 and response.json["maskedAPIKey"] == "sk_test_***abc"
    live = client.put(
        f"{APPS}/{app['id']}", json={"type": "stripe", "name": "S", "secretAPIKey": "sk_live_" + "L" * 30}
    )
    assert problem_fields(live) == {"secretAPIKey": "livemode_change"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("stripe/install/apikey", {}, "apiKey"),
        ("stripe/install/apikey", {"apiKey": 123}, "apiKey"),
        ("stripe/install/apikey", {"apiKey": "pk_live_0123456789abcdef"}, "apiKey"),
        ("stripe/install/apikey", {"apiKey": SECRET, "createBillingProfile": "yes"}, "createBillingProfile"),
        ("stripe/install/apikey", {"apiKey": SECRET, "name": ["x"]}, "name"),
        ("stripe/install/apikey", [], "body"),
        ("stripe/install", {}, "apiKey"),
        ("sandbox/install/apikey", {"apiKey": SECRET}, "apiKey"),
        ("custom_invoicing/install", {"name": "n" * 257}, "name"),
    ],
)
def test_bad_installs_are_400_naming_the_field(client, path, body, field):
    response = client.post(f"{LISTINGS}/{path}", json=body)
    assert response.status_code == 400
    assert field in problem_fields(response)


def test_install_without_credentials_and_without_a_body(client):
    response = client.post(f"{LISTINGS}/custom_invoicing/install")
    assert response.status_code == 200 and response.json["app"]["name"] == "Custom Invoicing"
    assert response.json["defaultForCapabilityTypes"] == []
    assert (response.json["app"]["enableDraftSyncHook"], response.json["app"]["enableIssuingSyncHook"]) == (
        False,
        False,
    )
    assert client.post(f"{LISTINGS}/paypal/install", json={}).status_code == 404
    assert (
        client.post(f"{LISTINGS}/custom_invoicing/install", data=b"{oops", content_type="application/json").status_code
        == 400
    )


def test_create_billing_profile_false_makes_no_profile(client):
    before = client.get("/api/v1/billing/profiles").json["totalCount"]
    install(client, "custom_invoicing", createBillingProfile=False)
    assert client.get("/api/v1/billing/profiles").json["totalCount"] == before
    install(client, "custom_invoicing")
    assert client.get("/api/v1/billing/profiles").json["totalCount"] == before + 1


def test_put_replaces_an_app(client):
    app = install(client, "custom_invoicing", createBillingProfile=False)["app"]
    response = client.put(
        f"{APPS}/{app['id']}",
        json={
            "type": "custom_invoicing",
            "name": "ERP",
            "description": "Ours",
            "metadata": {"team": "finance"},
            "enableDraftSyncHook": True,
            "enableIssuingSyncHook": False,
        },
    )
    assert response.status_code == 200
    assert_matches(response.json, "App")
    assert (response.json["name"], response.json["metadata"], response.json["enableDraftSyncHook"]) == (
        "ERP",
        {"team": "finance"},
        True,
    )
    cleared = client.put(f"{APPS}/{app['id']}", json={"type": "custom_invoicing", "name": "ERP"}).json
    assert "description" not in cleared and "metadata" not in cleared and cleared["enableDraftSyncHook"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Sandbox"}, "type"),
        ({"type": "stripe", "name": "Sandbox"}, "type"),
        ({"type": "sandbox"}, "name"),
        ({"type": "sandbox", "name": 7}, "name"),
        ({"type": "sandbox", "name": "S", "metadata": {"k": 1}}, "metadata.k"),
        ({"type": "sandbox", "name": "S", "description": "\x00"}, "description"),
        ({"type": "sandbox", "name": "S", "enableDraftSyncHook": "true"}, "enableDraftSyncHook"),
        ("sandbox", "body"),
    ],
)
def test_bad_puts_are_400_naming_the_field(client, body, field):
    response = client.put(f"{APPS}/{sandbox(client)['id']}", json=body)
    assert response.status_code == 400
    assert field in problem_fields(response)


def test_uninstall_is_refused_while_a_profile_uses_the_app(client):
    app = install(client, "custom_invoicing", name="ERP")["app"]
    profile = next(
        p for p in client.get("/api/v1/billing/profiles").json["items"] if p["apps"]["invoicing"]["id"] == app["id"]
    )
    response = client.delete(f"{APPS}/{app['id']}")
    assert response.status_code == 409
    assert problem_fields(response) == {"id": "in_use"}
    assert profile["name"] in response.json["detail"] and profile["id"] in response.json["detail"]

    assert client.delete(f"/api/v1/billing/profiles/{profile['id']}").status_code == 204
    assert client.delete(f"{APPS}/{app['id']}").status_code == 204
    gone = client.get(f"{APPS}/{app['id']}")
    assert gone.status_code == 200 and gone.json["deletedAt"]
    assert app["id"] not in [a["id"] for a in client.get(APPS).json["items"]]
    assert client.delete(f"{APPS}/{app['id']}").status_code == 412
    assert client.put(f"{APPS}/{app['id']}", json={"type": "custom_invoicing", "name": "x"}).status_code == 412


@pytest.mark.parametrize("path", [f"{APPS}/nope", f"{APPS}/%00", f"{APPS}/" + "A" * 26, f"{APPS}/" + "k" * 5000])
def test_bad_ids_are_404(client, path):
    for response in (client.get(path), client.put(path, json={"type": "sandbox", "name": "x"}), client.delete(path)):
        assert response.status_code == 404 and response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": 10**20}, "page"),
        ({"pageSize": 1001}, "pageSize"),
        ({"pageSize": "x"}, "pageSize"),
    ],
)
def test_bad_paging_is_400(client, query, field):
    assert field in problem_fields(client.get(APPS, query_string=query))
    assert field in problem_fields(client.get(LISTINGS, query_string=query))


def test_uninstall_racing_a_new_profile_on_the_app_never_leaves_a_live_profile_on_it(app):
    """Either the profile is made and the uninstall refused, or the uninstall wins and the profile is refused."""
    client = app.test_client()
    for _ in range(5):
        target = install(client, "custom_invoicing", createBillingProfile=False)["app"]["id"]
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}
        body = {
            "name": "Racer",
            "supplier": {"name": "S", "addresses": [{"country": "US"}]},
            "apps": {"tax": target, "invoicing": target, "payment": target},
        }

        def create_profile():
            c = app.test_client()
            barrier.wait()
            results["create"] = c.post("/api/v1/billing/profiles", json=body).status_code

        def uninstall():
            c = app.test_client()
            barrier.wait()
            results["uninstall"] = c.delete(f"{APPS}/{target}").status_code

        threads = [threading.Thread(target=create_profile), threading.Thread(target=uninstall)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results in ({"create": 201, "uninstall": 409}, {"create": 400, "uninstall": 204}), results
