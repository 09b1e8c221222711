"""Names sort as people sort them (text_rules.sort_key): case and accents do not split the
alphabet, in every list sorted by name, through the API and the console, on both databases."""

import re

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.billing.models import BillingProfile
from app.customers import lifecycle as customer_lifecycle
from app.customers import listing as customer_listing
from app.customers import rules
from app.customers.listing import CustomerFilters
from app.customers.rules import CustomerInput
from app.extensions import db
from app.text_rules import sort_key

PEOPLE = ["alpha", "Bravo", "Charlie", "Émile", "zeta"]
SHUFFLED = ["zeta", "Charlie", "alpha", "Émile", "Bravo"]


def shown_names(html: str, names: list[str]) -> list[str]:
    """Those of `names` that the page shows as a cell's or a link's whole text, in the page's order."""
    found = {n: re.search(rf">\s*{re.escape(n)}\s*<", html) for n in names}
    return sorted((n for n in names if found[n]), key=lambda n: found[n].start())


def test_the_sort_key_folds_case_and_accents():
    assert sorted(SHUFFLED) == ["Bravo", "Charlie", "alpha", "zeta", "Émile"]  # code points: what we avoid
    assert sorted(SHUFFLED, key=sort_key) == PEOPLE
    assert sort_key("Łódź Ørsted Straße Æther") == "lodz orsted strasse aether"
    assert sort_key("ﬁnance") == "finance"  # compatibility ligatures read as their letters


def test_customers_by_name_through_the_api_both_ways_and_page_by_page(client):
    for i, name in enumerate(SHUFFLED):
        assert client.post("/api/v1/customers", json={"name": name, "key": f"k{i}"}).status_code == 201
    listed = client.get("/api/v1/customers?orderBy=name").json["items"]
    assert [c["name"] for c in listed] == PEOPLE
    listed = client.get("/api/v1/customers?orderBy=name&order=DESC").json["items"]
    assert [c["name"] for c in listed] == PEOPLE[::-1]
    pages = [client.get(f"/api/v1/customers?orderBy=name&pageSize=2&page={n}").json["items"] for n in (1, 2, 3)]
    assert [c["name"] for page in pages for c in page] == PEOPLE


def test_names_equal_but_for_case_and_accents_keep_one_order_by_id(ctx):
    made = [
        rules.create(CustomerInput(name=n, key=f"k{i}")) for i, n in enumerate(("emile", "Émile", "EMILE", "Emile"))
    ]
    listed = customer_listing.list_customers(CustomerFilters()).items
    assert [c.id for c in listed] == sorted(c.id for c in made)


def test_the_console_list_and_its_keyset_pages_follow_the_same_order(client, ctx):
    names = [f"{name} {i}" for i in range(9) for name in SHUFFLED]  # 45: three pages of 20
    for i, name in enumerate(names):
        rules.create(CustomerInput(name=name, key=f"k{i}"))
    expected = sorted(names, key=sort_key)
    assert expected[:3] == ["alpha 0", "alpha 1", "alpha 2"] and expected[-1] == "zeta 8"
    walked, url = [], "/customers/?size=20"
    while url:
        html = client.get(url).text
        walked += shown_names(html, names)
        following = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert walked == expected


def test_a_rename_moves_the_customer_to_its_new_place(ctx):
    alpha = rules.create(CustomerInput(name="alpha", key="a"))
    rules.create(CustomerInput(name="Bravo", key="b"))
    customer_lifecycle.replace(alpha.id, CustomerInput(name="Zulu", key="a"))
    assert [c.name for c in customer_listing.list_customers(CustomerFilters()).items] == ["Bravo", "Zulu"]
    assert [c.name for c in customer_listing.list_customers(CustomerFilters(search="u")).items] == ["Zulu"]


def test_a_search_lists_its_matches_in_the_same_order(ctx):
    for i, name in enumerate(SHUFFLED):
        rules.create(CustomerInput(name=f"{name} Logistics", key=f"k{i}"))
    found = customer_listing.list_customers(CustomerFilters(search="logistics")).items
    assert [c.name for c in found] == [f"{n} Logistics" for n in PEOPLE]


def test_billing_profiles_by_name(client):
    app_id = next(p for p in client.get("/api/v1/billing/profiles").json["items"] if p["default"])["apps"]["tax"]["id"]
    for name in SHUFFLED:
        body = {
            "name": name,
            "supplier": {"name": "Acme Kft.", "addresses": [{"country": "HU"}]},
            "apps": {"tax": app_id, "invoicing": app_id, "payment": app_id},
        }
        assert client.post("/api/v1/billing/profiles", json=body).status_code == 201
    listed = client.get("/api/v1/billing/profiles?orderBy=name").json["items"]
    assert [p["name"] for p in listed if p["name"] in PEOPLE] == PEOPLE
    assert shown_names(client.get("/billing/profiles/").text, PEOPLE) == PEOPLE


def test_plans_by_name(client):
    for i, name in enumerate(SHUFFLED):
        body = {"key": f"plan{i}", "name": name, "currency": "EUR", "billingCadence": "P1M", "price": {"amount": "1"}}
        assert client.post("/api/v1/plans", json=body).status_code == 201
    assert shown_names(client.get("/plans/").text, PEOPLE) == PEOPLE


def test_apps_by_name(client):
    for name in SHUFFLED:
        response = client.post("/api/v1/marketplace/listings/custom_invoicing/install", json={"name": name})
        assert response.status_code == 200, response.json
    assert shown_names(client.get("/apps/").text, PEOPLE) == PEOPLE


def test_the_migration_gives_existing_names_their_sort_keys(app):
    """Migration 0011 on a database that already holds customers, plans and billing profiles."""
    with app.app_context():
        db.session.remove()
        downgrade(revision="0010_iso4217_minor_units")
        for i, name in enumerate(SHUFFLED):
            db.session.execute(
                text(
                    "INSERT INTO customers (id, name, key, subjects_text, metadata, created_at, updated_at, version) "
                    "VALUES (:id, :name, :key, '', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"id": f"01JMIGRATED000000000000000{i}"[-26:], "name": f"{name} Labs", "key": f"m{i}"},
            )
        db.session.commit()
        db.session.remove()
        upgrade()
        expected = [f"{name} Labs" for name in PEOPLE]
        assert [c.name for c in customer_listing.list_customers(CustomerFilters()).items] == expected
        assert [c.name for c in customer_listing.list_customers(CustomerFilters(search="labs")).items] == expected
        profile = db.session.scalars(select(BillingProfile)).one()
        assert profile.sort_name == sort_key(profile.name)
        db.session.remove()
