"""The billing profiles JSON API through Flask's test client: shapes, the one default, every error path."""

import threading

import pytest

from tests.openapi_check import assert_matches

URL = "/api/v1/billing/profiles"


def problem_fields(response) -> dict[str, str]:
    assert response.content_type == "application/problem+json", response.data
    assert_matches(response.json, "Problem")
    return {e["field"]: e["code"] for e in response.json.get("extensions", {}).get("validationErrors", [])}


def default_profile(client) -> dict:
    return next(p for p in client.get(URL).json["items"] if p["default"])


def body(client, **changes) -> dict:
    app_id = default_profile(client)["apps"]["tax"]["id"]
    base = {
        "name": "EU profile",
        "supplier": {"name": "Acme Kft.", "addresses": [{"country": "HU"}]},
        "apps": {"tax": app_id, "invoicing": app_id, "payment": app_id},
    }
    return base | changes


def create(client, **changes) -> dict:
    response = client.post(URL, json=body(client, **changes))
    assert response.status_code == 201, response.json
    return response.json


def test_the_default_profile_exists_from_the_start(client):
    listing = client.get(URL).json
    assert_matches(listing, "BillingProfilePaginatedResponse")
    assert listing["totalCount"] == 1
    profile = listing["items"][0]
    assert profile["default"] is True
    assert profile["supplier"]["addresses"] == [{"country": "US"}]
    app = client.get(f"/api/v1/apps/{profile['apps']['tax']['id']}").json
    assert app["type"] == "sandbox"


def test_create_answers_201_with_every_field_in_camel_case(client):
    response = client.post(
        URL,
        json=body(
            client,
            description="For EU customers",
            metadata={"region": "eu"},
            supplier={
                "name": "Acme Kft.",
                "taxId": {"code": "HU12345678"},
                "addresses": [{"country": "HU", "city": "Budapest", "postalCode": "1051", "line1": "Andrássy út 1"}],
            },
            workflow={
                "collection": {
                    "alignment": {
                        "type": "anchored",
                        "recurringPeriod": {"interval": "MONTH", "anchor": "2025-01-01T00:00:00Z"},
                    },
                    "interval": "PT2H",
                },
                "invoicing": {
                    "autoAdvance": False,
                    "draftPeriod": "P1D",
                    "dueAfter": "P14D",
                    "progressiveBilling": False,
                    "defaultTaxConfig": {"behavior": "inclusive"},
                },
                "payment": {"collectionMethod": "send_invoice"},
                "tax": {"enabled": True, "enforced": True},
            },
        ),
    )
    assert response.status_code == 201
    profile = response.json
    assert_matches(profile, "BillingProfile")
    assert response.headers["Location"].endswith(f"{URL}/{profile['id']}")
    assert profile["default"] is False and profile["metadata"] == {"region": "eu"}
    assert profile["supplier"] == {
        "name": "Acme Kft.",
        "taxId": {"code": "HU12345678"},
        "addresses": [{"country": "HU", "city": "Budapest", "postalCode": "1051", "line1": "Andrássy út 1"}],
    }
    assert profile["workflow"] == {
        "collection": {
            "alignment": {
                "type": "anchored",
                "recurringPeriod": {"interval": "MONTH", "anchor": "2025-01-01T00:00:00.000Z"},
            },
            "interval": "PT2H",
        },
        "invoicing": {
            "autoAdvance": False,
            "draftPeriod": "P1D",
            "dueAfter": "P14D",
            "progressiveBilling": False,
            "defaultTaxConfig": {"behavior": "inclusive"},
        },
        "payment": {"collectionMethod": "send_invoice"},
        "tax": {"enabled": True, "enforced": True},
    }
    assert profile["createdAt"].endswith("Z") and "deletedAt" not in profile
    assert client.get(f"{URL}/{profile['id']}").json == profile


def test_an_omitted_workflow_gets_the_defaults(client):
    profile = create(client)
    assert profile["workflow"] == {
        "collection": {"alignment": {"type": "subscription"}, "interval": "PT1H"},
        "invoicing": {"autoAdvance": True, "draftPeriod": "P0D", "dueAfter": "P30D", "progressiveBilling": True},
        "payment": {"collectionMethod": "charge_automatically"},
        "tax": {"enabled": True, "enforced": False},
    }
    partial = create(client, workflow={"invoicing": {"dueAfter": "P7D"}, "tax": {"enabled": False}})
    assert partial["workflow"]["invoicing"]["dueAfter"] == "P7D" and partial["workflow"]["invoicing"]["autoAdvance"]
    assert partial["workflow"]["tax"] == {"enabled": False, "enforced": False}


@pytest.mark.parametrize("expand", [["apps"], ["apps", "apps"], ["apps,apps"]])
def test_expand_apps_gives_the_whole_app(client, expand):
    profile = client.get(URL, query_string={"expand": expand}).json["items"][0]
    assert profile["apps"]["tax"]["type"] == "sandbox" and profile["apps"]["tax"]["listing"]["name"] == "Sandbox"
    assert profile["apps"]["tax"] == profile["apps"]["invoicing"] == profile["apps"]["payment"]
    assert_matches(profile, "BillingProfile")
    one = client.get(f"{URL}/{profile['id']}", query_string={"expand": expand}).json
    assert one["apps"] == profile["apps"]
    plain = client.get(f"{URL}/{profile['id']}").json
    assert plain["apps"] == {role: {"id": profile["apps"]["tax"]["id"]} for role in ("tax", "invoicing", "payment")}


def test_list_parameters(client):
    create(client, name="Bravo")
    create(client, name="Alpha", default=True)
    names = lambda **q: [p["name"] for p in client.get(URL, query_string=q).json["items"]]  # noqa: E731
    assert names() == ["Default billing profile", "Bravo", "Alpha"]
    assert names(orderBy="name") == ["Alpha", "Bravo", "Default billing profile"]
    assert names(orderBy="default", order="DESC")[0] == "Alpha"
    assert names(orderBy="updatedAt", order="DESC")[0] == "Alpha"
    page = client.get(URL, query_string={"page": 2, "pageSize": 2}).json
    assert [p["name"] for p in page["items"]] == ["Alpha"] and (page["totalCount"], page["page"]) == (3, 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"expand": "customers"}, "expand"),
        ({"orderBy": "id"}, "orderBy"),
        ({"order": "UP"}, "order"),
        ({"includeArchived": "maybe"}, "includeArchived"),
        ({"page": -1}, "page"),
        ({"page": 10**20}, "page"),
        ({"pageSize": 0}, "pageSize"),
    ],
)
def test_bad_list_parameters_are_400(client, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 400 and field in problem_fields(response)


def test_making_a_profile_default_demotes_the_old_one(client):
    old = default_profile(client)
    new = create(client, default=True)
    assert new["default"] is True
    assert client.get(f"{URL}/{old['id']}").json["default"] is False
    assert [p["id"] for p in client.get(URL).json["items"] if p["default"]] == [new["id"]]
    # And back, through PUT.
    back = client.put(f"{URL}/{old['id']}", json={**body(client), "name": old["name"], "default": True})
    assert back.status_code == 200 and back.json["default"] is True
    assert client.get(f"{URL}/{new['id']}").json["default"] is False


def test_the_default_cannot_be_unset_nor_deleted(client):
    default = default_profile(client)
    response = client.put(f"{URL}/{default['id']}", json={"name": "x", "supplier": default["supplier"]})
    assert response.status_code == 400
    assert problem_fields(response) == {"default": "default_required"}
    assert "make another profile the default" in response.json["detail"]
    response = client.delete(f"{URL}/{default['id']}")
    assert response.status_code == 400 and problem_fields(response) == {"default": "is_default"}
    assert client.get(f"{URL}/{default['id']}").json["default"] is True


def test_a_profile_read_edited_and_put_back_round_trips(client):
    profile = client.get(URL, query_string={"expand": "apps"}).json["items"][0]
    edited = {**profile, "name": "Main profile", "description": "Edited"}
    response = client.put(f"{URL}/{profile['id']}", json=edited)
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Main profile" and response.json["workflow"] == profile["workflow"]
    assert response.json["updatedAt"] >= profile["updatedAt"]


def test_put_replaces_and_cannot_change_the_apps(client):
    profile = create(client, description="old", metadata={"a": "b"}, workflow={"invoicing": {"dueAfter": "P7D"}})
    response = client.put(f"{URL}/{profile['id']}", json={"name": "New", "supplier": profile["supplier"]})
    assert response.status_code == 200
    assert "description" not in response.json and "metadata" not in response.json
    assert response.json["workflow"]["invoicing"]["dueAfter"] == "P30D"
    assert response.json["apps"] == profile["apps"]
    other = client.post("/api/v1/marketplace/listings/custom_invoicing/install", json={"createBillingProfile": False})
    other_id = other.json["app"]["id"]
    response = client.put(
        f"{URL}/{profile['id']}",
        json={"name": "New", "supplier": profile["supplier"], "apps": {"tax": other_id, "invoicing": other_id}},
    )
    assert response.status_code == 400
    assert problem_fields(response) == {"apps.tax": "fixed", "apps.invoicing": "fixed"}


def test_delete_is_soft(client):
    profile = create(client)
    assert client.delete(f"{URL}/{profile['id']}").status_code == 204
    gone = client.get(f"{URL}/{profile['id']}")
    assert gone.status_code == 200 and gone.json["deletedAt"]
    assert profile["id"] not in [p["id"] for p in client.get(URL).json["items"]]
    archived = client.get(URL, query_string={"includeArchived": "true"}).json
    assert profile["id"] in [p["id"] for p in archived["items"]] and archived["totalCount"] == 2
    assert client.delete(f"{URL}/{profile['id']}").status_code == 412
    assert client.put(f"{URL}/{profile['id']}", json=body(client)).status_code == 412


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"default": "true"}, "default"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"supplier": None}, "supplier.name"),
        ({"supplier": "Acme"}, "supplier"),
        ({"supplier": {"addresses": [{"country": "US"}]}}, "supplier.name"),
        ({"supplier": {"name": "S"}}, "supplier.addresses[0].country"),
        ({"supplier": {"name": "S", "addresses": []}}, "supplier.addresses[0].country"),
        ({"supplier": {"name": "S", "addresses": {"country": "US"}}}, "supplier.addresses"),
        ({"supplier": {"name": "S", "addresses": ["US"]}}, "supplier.addresses[0]"),
        ({"supplier": {"name": "S", "addresses": [{"country": "ZZ"}]}}, "supplier.addresses[0].country"),
        ({"supplier": {"name": "S", "addresses": [{"country": 1}]}}, "supplier.addresses[0].country"),
        ({"supplier": {"name": "S", "addresses": [{"country": "US"}, {"country": "DE"}]}}, "supplier.addresses"),
        ({"supplier": {"name": "S", "taxId": "x", "addresses": [{"country": "US"}]}}, "supplier.taxId"),
        (
            {"supplier": {"name": "S", "taxId": {"code": "c" * 33}, "addresses": [{"country": "US"}]}},
            "supplier.taxId.code",
        ),
        ({"workflow": []}, "workflow"),
        ({"workflow": {"collection": {"interval": "PT0S"}}}, "workflow.collection.interval"),
        ({"workflow": {"collection": {"interval": 3600}}}, "workflow.collection.interval"),
        ({"workflow": {"collection": {"alignment": {}}}}, "workflow.collection.alignment.type"),
        ({"workflow": {"collection": {"alignment": {"type": "weekly"}}}}, "workflow.collection.alignment.type"),
        (
            {"workflow": {"collection": {"alignment": {"type": "anchored"}}}},
            "workflow.collection.alignment.recurringPeriod.anchor",
        ),
        (
            {
                "workflow": {
                    "collection": {
                        "alignment": {
                            "type": "anchored",
                            "recurringPeriod": {"interval": "P2Y", "anchor": "2025-01-01T00:00:00Z"},
                        }
                    }
                }
            },
            "workflow.collection.alignment.recurringPeriod.interval",
        ),
        (
            {
                "workflow": {
                    "collection": {
                        "alignment": {"type": "anchored", "recurringPeriod": {"interval": "DAY", "anchor": "yesterday"}}
                    }
                }
            },
            "workflow.collection.alignment.recurringPeriod.anchor",
        ),
        ({"workflow": {"invoicing": {"dueAfter": "thirty days"}}}, "workflow.invoicing.dueAfter"),
        ({"workflow": {"invoicing": {"dueAfter": "-P1D"}}}, "workflow.invoicing.dueAfter"),
        ({"workflow": {"invoicing": {"draftPeriod": "P2Y"}}}, "workflow.invoicing.draftPeriod"),
        ({"workflow": {"invoicing": {"autoAdvance": "no"}}}, "workflow.invoicing.autoAdvance"),
        (
            {"workflow": {"invoicing": {"defaultTaxConfig": {"behavior": "both"}}}},
            "workflow.invoicing.defaultTaxConfig.behavior",
        ),
        ({"workflow": {"payment": {"collectionMethod": "cash"}}}, "workflow.payment.collectionMethod"),
        ({"workflow": {"tax": {"enabled": False, "enforced": True}}}, "workflow.tax.enforced"),
        ({"workflow": {"tax": {"enabled": 0}}}, "workflow.tax.enabled"),
        ({"apps": None}, "apps"),
        ({"apps": "sandbox"}, "apps"),
        ({"apps": {"tax": 1, "invoicing": 1, "payment": 1}}, "apps.tax"),
        ({"apps": {"tax": "01ARZ3NDEKTSV4RRFFQ69G5FAV"} | {"invoicing": "x", "payment": "x"}}, "apps.invoicing"),
        (
            {
                "apps": {"tax": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
                | {"invoicing": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "payment": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
            },
            "apps",
        ),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(client, changes, field):
    data = {k: v for k, v in (body(client) | changes).items() if v is not None}
    response = client.post(URL, json=data)
    assert response.status_code == 400
    assert field in problem_fields(response), response.json


@pytest.mark.parametrize("data", [b"{not json", b"", b"[", b"\xff", b"null", b'"x"'])
def test_malformed_bodies_are_400(client, data):
    response = client.post(URL, data=data, content_type="application/json")
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    profile_id = default_profile(client)["id"]
    assert client.put(f"{URL}/{profile_id}", data=data, content_type="application/json").status_code == 400


@pytest.mark.parametrize(
    "path", [f"{URL}/nope", f"{URL}/%00", f"{URL}/01ARZ3NDEKTSV4RRFFQ69G5FAV", f"{URL}/" + "x" * 5000]
)
def test_bad_ids_are_404(client, path):
    for response in (client.get(path), client.put(path, json=body(client)), client.delete(path)):
        assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_concurrent_make_default_requests_leave_exactly_one_default(app):
    """Several profiles made the default at once, by PUT and by POST: never a 500, always one default."""
    client = app.test_client()
    racers = [create(client, name=f"Racer {i}") for i in range(4)]
    for _ in range(3):
        threads_count = len(racers) + 1
        barrier = threading.Barrier(threads_count)
        statuses: list[int] = []

        def promote(profile):
            c = app.test_client()
            data = {**body(c), "name": profile["name"], "default": True}
            barrier.wait()
            statuses.append(c.put(f"{URL}/{profile['id']}", json=data).status_code)

        def create_default():
            c = app.test_client()
            data = body(c, name="New default", default=True)
            barrier.wait()
            statuses.append(c.post(URL, json=data).status_code)

        threads = [threading.Thread(target=promote, args=(p,)) for p in racers]
        threads.append(threading.Thread(target=create_default))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(statuses) <= {200, 201, 409} and 500 not in statuses, statuses
        assert statuses.count(200) + statuses.count(201) >= 1
        defaults = [p for p in client.get(URL).json["items"] if p["default"]]
        assert len(defaults) == 1, defaults
