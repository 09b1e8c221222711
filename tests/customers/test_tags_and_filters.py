"""Tags on customers, and the list's filters by metadata, tag, country, creation time, Stripe link
and email: in the rules, the API list and its export."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.apps import customer_data
from app.apps import rules as app_rules
from app.apps.customer_data import AppDataInput
from app.common import Address
from app.customers import rules
from app.customers.models import Customer, CustomerMetadataEntry, CustomerTag
from app.customers.rules import CustomerInput
from app.extensions import db
from app.problems import Invalid
from tests.helpers import fields_of, make, problem_fields

STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ"


def keys(response) -> list[str]:
    assert response.status_code == 200, response.json
    return sorted(c["key"] for c in response.json["items"])


def test_tags_are_lowercase_slugs_at_most_twenty_each_once(app):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            rules.create(CustomerInput(name="A", key="a", tags=["VIP", "key account", "ok", "ok", "-x"]))
        assert fields_of(refused.value) == {
            "tags[0]": "invalid_tag",
            "tags[1]": "invalid_tag",
            "tags[3]": "duplicate",
            "tags[4]": "invalid_tag",
        }
        assert 'did you mean "key-account"' in str(refused.value.errors[1].message)
        with pytest.raises(Invalid) as too_many:
            rules.create(CustomerInput(name="A", key="a", tags=[f"t{i}" for i in range(21)]))
        assert fields_of(too_many.value) == {"tags": "too_many"}


def test_tags_and_metadata_are_kept_for_filtering_on_every_write(app):
    customer_id = make(app, name="A", key="a", tags=["vip", "emea"], metadata={"tier": "gold"})
    with app.app_context():
        assert db.session.get(Customer, customer_id).tags == ["emea", "vip"]  # sorted
        tags = set(db.session.scalars(db.select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id)))
        assert tags == {"emea", "vip"}
        rules.replace("a", CustomerInput(name="A", key="a", tags=["apac"], metadata={"tier": "silver", "x": "1"}))
        tags = set(db.session.scalars(db.select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id)))
        entries = dict(
            db.session.execute(
                db.select(CustomerMetadataEntry.key, CustomerMetadataEntry.value).where(
                    CustomerMetadataEntry.customer_id == customer_id
                )
            ).all()
        )
        assert tags == {"apac"} and entries == {"tier": "silver", "x": "1"}


def test_the_api_reads_and_writes_tags(app, client):
    created = client.post("/api/v1/customers", json={"name": "T", "key": "t", "tags": ["vip"]})
    assert created.status_code == 201 and created.json["tags"] == ["vip"]
    assert client.get("/api/v1/customers/t").json["tags"] == ["vip"]
    bad = client.put("/api/v1/customers/t", json={"name": "T", "key": "t", "tags": ["Not A Tag"]})
    assert bad.status_code == 400 and "tags[0]" in problem_fields(bad)
    cleared = client.put("/api/v1/customers/t", json={"name": "T", "key": "t"})
    assert cleared.json["tags"] == []


@pytest.fixture
def population(app):
    """Customers that differ in each filtered way."""
    make(app, name="Gold", key="gold", tags=["vip"], metadata={"tier": "gold"}, primary_email="g@gold.example")
    make(app, name="Silver", key="silver", metadata={"tier": "silver"}, billing_address=Address(country="DE"))
    make(app, name="Plain", key="plain", billing_address=Address(country="FR"))
    linked = make(app, name="Linked", key="linked", tags=["vip", "emea"])
    paying = make(app, name="Paying", key="paying")
    with app.app_context():
        stripe = app_rules.install("stripe", name="Stripe", api_key=STRIPE_KEY, create_billing_profile=False)[0]
        customer_data.upsert(linked, [AppDataInput(type="stripe", app_id=stripe.id, stripe_customer_id="cus_1")])
        method = AppDataInput(
            type="stripe", app_id=stripe.id, stripe_customer_id="cus_2", stripe_default_payment_method_id="pm_2"
        )
        customer_data.upsert(paying, [method])
        long_ago = datetime(2020, 1, 15, tzinfo=UTC)
        db.session.execute(update(Customer).where(Customer.key == "plain").values(created_at=long_ago))
        db.session.commit()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=vip", ["gold", "linked"]),
        ("tag=nobody", []),
        ("metadata[tier]=gold", ["gold"]),
        ("hasMetadataKey=tier", ["gold", "silver"]),
        ("missingMetadataKey=tier", ["linked", "paying", "plain"]),
        ("hasMetadataKey=tier&tag=vip", ["gold"]),
        ("country=DE", ["silver"]),
        ("createdBefore=2021-01-01T00:00:00Z", ["plain"]),
        ("createdFrom=2021-01-01T00:00:00Z&hasMetadataKey=tier", ["gold", "silver"]),
        ("hasStripeCustomerId=true", ["linked", "paying"]),
        ("hasStripeCustomerId=false&hasMetadataKey=tier", ["gold", "silver"]),
        ("hasPaymentMethod=true", ["paying"]),
        ("hasPaymentMethod=false&hasStripeCustomerId=true", ["linked"]),
        ("hasPrimaryEmail=true", ["gold"]),
    ],
)
def test_the_api_list_filters(client, population, query, expected):
    assert keys(client.get(f"/api/v1/customers?{query}")) == expected


def test_the_export_takes_the_same_filters(client, population):
    body = client.get("/api/v1/customers/export?format=jsonl&tag=vip").get_data(as_text=True)
    assert sorted(line.split('"key": "')[1].split('"')[0] for line in body.splitlines()) == ["gold", "linked"]


@pytest.mark.parametrize(
    "query", ["createdFrom=yesterday", "hasPaymentMethod=maybe", "metadata[a%00]=x", "tag=%00", "country=%00"]
)
def test_bad_filter_values_are_named(client, query):
    answer = client.get(f"/api/v1/customers?{query}")
    assert answer.status_code == 400 and answer.content_type == "application/problem+json"


def test_a_recent_creation_window(client, app):
    make(app, name="New", key="new")
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert keys(client.get("/api/v1/customers", query_string={"createdFrom": since})) == ["new"]


# --- The console --------------------------------------------------------------------------------


def test_the_form_takes_tags_as_typed_and_shows_a_bad_one_beside_its_field(app, csrf_client):
    from tests.helpers import field_errors, post, text

    form = {"name": "Acme", "key": "acme", "subject_keys-0": "", "action": "save"}
    saved = post(csrf_client, "/customers/new", form | {"tags": "VIP, Key  Account"})
    assert saved.status_code == 303
    with app.app_context():
        assert rules.get("acme").tags == ["key-account", "vip"]
    page = text(csrf_client.get(saved.headers["Location"]))
    assert "key-account" in page and "vip" in page
    refused = post(csrf_client, "/customers/new", form | {"key": "b", "tags": "ok, no_underscores"})
    assert refused.status_code == 422
    assert any('Tag "no_underscores" is not a tag' in e for e in field_errors(refused))
    assert 'value="ok, no_underscores"' in refused.text  # kept as typed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=vip", {"Gold", "Linked"}),
        ("meta_key=tier&meta_op=is&meta_value=gold", {"Gold"}),
        ("meta_key=tier&meta_op=has", {"Gold", "Silver"}),
        ("meta_key=tier&meta_op=lacks", {"Linked", "Paying", "Plain"}),
        ("country=DE", {"Silver"}),
        ("created_to=2020-01-15", {"Plain"}),
        ("created_from=2020-01-16&meta_key=tier&meta_op=has", {"Gold", "Silver"}),
        ("stripe=with", {"Linked", "Paying"}),
        ("payment=without&stripe=with", {"Linked"}),
        ("email=with", {"Gold"}),
        ("created_from=not-a-date&tag=%00", {"Gold", "Silver", "Plain", "Linked", "Paying"}),
    ],
)
def test_the_console_list_filters(client, population, query, expected):
    from tests.helpers import text

    page = client.get(f"/customers/?{query}")
    assert page.status_code == 200
    shown = {name for name in ("Gold", "Silver", "Plain", "Linked", "Paying") if f">{name}</a>" in page.text}
    assert shown == expected, text(page)


def test_the_export_page_says_the_filters_in_words(client, population):
    from tests.helpers import text

    page = text(client.get("/customers/export?tag=vip&country=DE&meta_key=tier&meta_op=lacks&stripe=without"))
    assert "tagged vip" in page and "in Germany" in page and "metadata “tier” is absent" in page
    assert "without a Stripe customer" in page


def test_the_list_shows_the_columns_chosen(client, population, app):
    page = client.get("/customers/?cols=id,country,stripe,updated&meta_cols=tier")
    headers = re.findall(r'<th scope="col" class="col-([a-z]+)">', page.text)
    assert headers == ["select", "id", "country", "stripe", "updated", "meta"]
    assert "cus_1" in page.text and ">gold<" in page.text and ">DE<" in page.text
    assert "billing@" not in page.text  # the email column is not chosen
    default = client.get("/customers/").text
    assert 'class="col-email"' in default and 'class="col-country"' not in default
    none = client.get("/customers/?cols=name").text
    assert "col-key" not in none and "Gold" in none


def test_the_list_shows_the_customers_that_need_attention(client, population):
    page = client.get("/customers/?attention=no_address")
    shown = {name for name in ("Gold", "Silver", "Plain", "Linked", "Paying") if f">{name}</a>" in page.text}
    assert shown == {"Gold", "Linked", "Paying"}
    assert "Only the customers that need attention: no billing address" in " ".join(page.text.split())
    stripe = client.get("/customers/?attention=stripe_no_payment_method").text
    assert ">Linked</a>" in stripe and ">Paying</a>" not in stripe


def test_filters_give_the_same_customers_however_many_hold_their_value(client, population, monkeypatch):
    """A common value is looked up per customer (EXISTS), a rare one read from its index (IN)."""
    from app.customers import attention

    queries = ["tag=vip", "metadata[tier]=gold", "missingMetadataKey=tier", "hasStripeCustomerId=false"]

    def answers():
        found = {q: client.get(f"/api/v1/customers?{q}&pageSize=1") for q in queries}
        return {q: (keys(r), r.get_json()["totalCount"]) for q, r in found.items()}

    rare = answers()
    monkeypatch.setattr(attention, "FEW_FOR_A_PAGE", 1)  # a page by EXISTS, its count by IN
    assert answers() == rare
    monkeypatch.setattr(attention, "FEW", 1)  # both by EXISTS
    assert answers() == rare
