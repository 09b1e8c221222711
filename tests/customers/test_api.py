"""The customers JSON API through Flask's test client: shapes, filters and every error path."""

import threading

import pytest

from tests.helpers import problem_fields
from tests.openapi_check import assert_matches

URL = "/api/v1/customers"


def create(client, **body):
    body.setdefault("name", "Acme")
    response = client.post(URL, json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_create_answers_201_with_the_customer_in_camel_case(client):
    response = client.post(
        URL,
        json={
            "name": "Acme",
            "key": "acme",
            "primaryEmail": "billing@acme.example",
            "currency": "EUR",
            "billingAddress": {"country": "DE", "city": "Berlin", "postalCode": "10115", "phoneNumber": "+49 30 1"},
            "usageAttribution": {"subjectKeys": ["acme", "acme-batch"]},
            "metadata": {"crm": "42"},
        },
    )
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/customers/{body['id']}")
    assert body["usageAttribution"] == {"subjectKeys": ["acme", "acme-batch"]}
    assert body["billingAddress"] == {
        "country": "DE",
        "city": "Berlin",
        "postalCode": "10115",
        "phoneNumber": "+49 30 1",
    }
    assert body["createdAt"].endswith("Z") and "deletedAt" not in body
    assert_matches(body, "Customer")


def test_get_by_id_and_by_key(client):
    created = create(client, key="acme")
    assert client.get(f"{URL}/{created['id']}").json["id"] == created["id"]
    assert client.get(f"{URL}/acme").json["id"] == created["id"]
    assert client.get(f"{URL}/ACME").status_code == 404


def test_key_filter_is_exact_and_case_sensitive(client):
    create(client, key="acme")
    create(client, name="Upper", key="ACME")
    create(client, name="Longer", key="acme-2")
    response = client.get(URL, query_string={"key": "acme"})
    assert [c["key"] for c in response.json["items"]] == ["acme"]
    assert response.json["totalCount"] == 1
    assert client.get(URL, query_string={"key": "acm"}).json["items"] == []
    assert_matches(response.json, "CustomerPaginatedResponse")


def test_substring_filters_paging_and_ordering(client):
    for i, name in enumerate(["Charlie", "alpha", "Bravo"]):
        create(
            client,
            name=name,
            key=f"k{i}",
            primaryEmail=f"ops{i}@x.example",
            usageAttribution={"subjectKeys": [f"sub-{i}"]},
        )
    listing = client.get(URL, query_string={"orderBy": "createdAt", "order": "DESC", "pageSize": 2, "page": 1}).json
    assert [c["name"] for c in listing["items"]] == ["Bravo", "alpha"]
    assert (listing["totalCount"], listing["page"], listing["pageSize"]) == (3, 1, 2)
    assert [c["name"] for c in client.get(URL, query_string={"name": "LPH"}).json["items"]] == ["alpha"]
    assert [c["name"] for c in client.get(URL, query_string={"primaryEmail": "OPS2"}).json["items"]] == ["Bravo"]
    assert [c["name"] for c in client.get(URL, query_string={"subject": "SUB-0"}).json["items"]] == ["Charlie"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 1001}, "pageSize"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"orderBy": "email"}, "orderBy"),
        ({"order": "sideways"}, "order"),
        ({"includeDeleted": "maybe"}, "includeDeleted"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(client, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert field in problem_fields(response)


@pytest.mark.parametrize("empty", ["key", "planKey", "name"])
def test_an_empty_filter_leaves_the_unfiltered_list_whole(client, empty):
    """An empty exact filter matches nothing; it once left its condition in the unfiltered list's walk."""
    create(client, key="acme")
    for include_deleted in ("true", "false"):
        filtered = client.get(URL, query_string={empty: "", "includeDeleted": include_deleted}).json
        assert filtered["totalCount"] == (1 if empty == "name" else 0)
        assert client.get(URL, query_string={"includeDeleted": include_deleted}).json["totalCount"] == 1
        assert len(client.get(URL, query_string={"includeDeleted": include_deleted}).json["items"]) == 1


def test_deleted_customers_are_hidden_unless_asked_for(client):
    created = create(client, key="gone")
    assert client.delete(f"{URL}/gone").status_code == 204
    assert client.get(URL).json["totalCount"] == 0
    listing = client.get(URL, query_string={"includeDeleted": "true"}).json
    assert listing["items"][0]["deletedAt"]
    again = client.get(f"{URL}/{created['id']}")
    assert again.status_code == 200 and again.json["deletedAt"]
    assert client.get(f"{URL}/gone").status_code == 404
    assert client.put(f"{URL}/{created['id']}", json={"name": "x", "key": "x"}).status_code == 412
    assert client.delete(f"{URL}/{created['id']}").status_code == 412
    assert client.post(URL, json={"name": "Reborn", "key": "gone"}).status_code == 201


def test_put_replaces_the_whole_customer(client):
    created = create(client, key="acme", currency="USD", metadata={"a": "b"}, description="old")
    response = client.put(f"{URL}/acme", json={"name": "Acme 2", "key": "acme-2"})
    assert response.status_code == 200
    body = response.json
    assert body["id"] == created["id"] and body["key"] == "acme-2"
    assert "currency" not in body and "metadata" not in body and "description" not in body
    assert body["usageAttribution"] == {"subjectKeys": []}
    assert client.get(f"{URL}/acme").status_code == 404


def test_conflicts_are_409_naming_the_holder(client):
    holder = create(client, name="Holder Ltd", key="acme", usageAttribution={"subjectKeys": ["meter-1"]})
    response = client.post(URL, json={"name": "Dup", "key": "acme"})
    assert response.status_code == 409
    assert problem_fields(response) == {"key": "conflict"}
    assert "Holder Ltd" in response.json["detail"] and holder["id"] in response.json["detail"]
    response = client.post(
        URL, json={"name": "Dup", "key": "other", "usageAttribution": {"subjectKeys": ["x", "meter-1"]}}
    )
    assert problem_fields(response) == {"usageAttribution.subjectKeys[1]": "conflict"}
    other = create(client, name="Other", key="other")
    response = client.put(f"{URL}/{other['id']}", json={"name": "Other", "key": "meter-1"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": 5, "key": "k"}, "name"),
        ({"name": "A", "key": ""}, "key"),
        ({"name": "A", "key": 7}, "key"),
        ({"name": "A", "key": "k", "currency": "usd1"}, "currency"),
        ({"name": "A", "key": "k", "primaryEmail": "a@"}, "primaryEmail"),
        ({"name": "A", "key": "k", "billingAddress": "Main St"}, "billingAddress"),
        ({"name": "A", "key": "k", "billingAddress": {"country": "Hungary"}}, "billingAddress.country"),
        ({"name": "A", "key": "k", "usageAttribution": {"subjectKeys": "a"}}, "usageAttribution.subjectKeys"),
        ({"name": "A", "key": "k", "usageAttribution": {"subjectKeys": [None]}}, "usageAttribution.subjectKeys[0]"),
        ({"name": "A", "key": "k", "metadata": {"n": 1}}, "metadata.n"),
        ({"name": "A", "key": "k", "metadata": ["a"]}, "metadata"),
        ({"name": "A"}, "key"),
        ({"name": "A\u0000", "key": "k"}, "name"),
        ({"name": "A", "key": "k\ud800"}, "key"),
        ([], "body"),
        ("just a string", "body"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(client, body, field):
    response = client.post(URL, json=body)
    assert response.status_code == 400
    assert field in problem_fields(response), response.json
    assert_matches(response.json, "Problem")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"name": "A", "key": "k"}', "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_never_500(client, data, content_type):
    response = client.post(URL, data=data, content_type=content_type)
    if content_type == "text/plain":
        assert response.status_code == 201  # a JSON body is read as JSON whatever the label
    else:
        assert response.status_code == 400
        assert response.content_type == "application/problem+json"


def test_oversized_body_is_413(client):
    response = client.post(URL, json={"name": "A", "key": "k", "description": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("path", [f"{URL}/%00", f"{URL}/\u202e\u0000x", f"{URL}/" + "k" * 5000])
def test_odd_paths_are_404(client, path):
    assert client.get(path).status_code == 404


def test_unicode_round_trips(client):
    body = create(client, name="Ørsted 株式会社 🚀", key="ключ-🔑", usageAttribution={"subjectKeys": ["σ"]})
    assert client.get(f"{URL}/ключ-🔑").json["name"] == "Ørsted 株式会社 🚀"
    assert client.get(URL, query_string={"subject": "Σ"}).json["items"][0]["id"] == body["id"]


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    assert client.patch(f"{URL}/x").status_code == 405


def test_currencies_lists_iso_4217_fiat_codes(client):
    response = client.get("/api/v1/info/currencies")
    codes = {c["code"]: c for c in response.json}
    assert codes["HUF"]["name"] == "Forint" and codes["JPY"]["subunits"] == 0 and codes["USD"]["symbol"] == "$"
    assert "XAU" not in codes and "XXX" not in codes
    for item in response.json:
        assert_matches(item, "Currency")


@pytest.mark.parametrize("value_kind", ["key", "subject"])
def test_concurrent_creates_of_one_value_give_one_success(app, value_kind):
    """Many threads create customers holding the same key (or subject) at once: exactly one wins."""
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []

    def attempt(i: int):
        body = {"name": f"Racer {i}"}
        if value_kind == "key":
            body["key"] = "contested"
        else:
            body.update(key=f"racer-{i}", usageAttribution={"subjectKeys": ["contested"]})
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(URL, json=body).status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * (threads_count - 1)
    listing = app.test_client().get(URL, query_string={"subject" if value_kind == "subject" else "key": "contested"})
    assert listing.json["totalCount"] == 1
