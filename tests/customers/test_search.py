"""The list's one search box: it finds a customer by any of its names and ids, folds accents,
jumps to the customer an exact id, key or Stripe id names, and offers the key typed in the wrong case."""

import re

import pytest

from app.customers import lifecycle
from tests.helpers import HTMX, make, text

STRIPE_KEY = "sk_test_51SecretSecretSecretSecret1234567890xyz"


def found(client, q: str, **args) -> str:
    return text(client.get("/customers/", query_string={"q": q, **args}))


def link_stripe(client, customer_key: str, stripe_id: str, payment_method: str | None = None) -> None:
    installed = client.post(
        "/api/v1/marketplace/listings/stripe/install/apikey", json={"apiKey": STRIPE_KEY, "createBillingProfile": False}
    )
    assert installed.status_code == 200, installed.json
    item = {"type": "stripe", "id": installed.json["app"]["id"], "stripeCustomerId": stripe_id}
    if payment_method:
        item["stripeDefaultPaymentMethodId"] = payment_method
    saved = client.put(f"/api/v1/customers/{customer_key}/apps", json=[item])
    assert saved.status_code == 200, saved.json


def test_accents_and_case_are_folded_both_ways(client, app):
    make(app, name="Café Olé", key="cafe-ole")
    make(app, name="Straße Logistik", key="strasse")
    make(app, name="Cafeteria", key="cafeteria")
    assert "Café Olé" in found(client, "cafe ole")
    assert "Café Olé" in found(client, "CAFÉ")
    assert "1–1 of 1 customer" in found(client, "olé")
    assert "Straße Logistik" in found(client, "strasse log")
    assert "Straße Logistik" in found(client, "STRAßE")
    # Fragments too short for the trigram index fold too.
    assert "Café Olé" in found(client, "lé")


def test_email_subject_and_key_fragments_are_found(client, app):
    make(app, name="Wind Power", key="acme-energy-0168", subjects=["turbine-17"], primary_email="ops@windpower.example")
    make(app, name="Other", key="other")
    assert "Wind Power" in found(client, "OPS@WIND") and "Other" not in found(client, "ops@wind")
    assert "Wind Power" in found(client, "turbine-1")
    assert "Wind Power" in found(client, "energy-01")


def test_enter_on_an_exact_key_or_id_opens_the_customer(client, app):
    customer_id = make(app, name="Wind Power", key="acme-energy-0168")
    make(app, name="Fan Club", key="acme-energy-fans")
    by_key = client.get("/customers/?q=acme-energy-0168&go=1")
    assert by_key.status_code == 303 and by_key.headers["Location"].endswith(f"/customers/{customer_id}")
    by_id = client.get(f"/customers/?q=+{customer_id}+&go=1")  # spaces around a pasted id are dropped
    assert by_id.status_code == 303 and by_id.headers["Location"].endswith(f"/customers/{customer_id}")
    # With htmx, the browser is told to go there (a redirect would swap the page into the list).
    htmx = client.get("/customers/?q=acme-energy-0168&go=1", headers={**HTMX, "HX-Target": "results"})
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"].endswith(f"/customers/{customer_id}")
    # Typing (no `go`) never jumps: the exact match is shown above the results instead.
    typing = client.get("/customers/?q=acme-energy-0168", headers={**HTMX, "HX-Target": "results"})
    assert typing.status_code == 200 and "HX-Redirect" not in typing.headers
    assert "“acme-energy-0168” is the key of Wind Power" in text(typing)
    assert f"“{customer_id}” is the id of Wind Power" in found(client, customer_id)
    # A fragment of a key is a search, even with Enter.
    fragment = client.get("/customers/?q=acme-energy&go=1")
    assert fragment.status_code == 200 and "1–2 of 2 customers" in text(fragment)


def test_the_address_bar_never_keeps_the_jump(client, app):
    make(app, name="Wind Power", key="wind")
    response = client.get("/customers/?q=win&go=1&size=20", headers={**HTMX, "HX-Target": "results"})
    assert response.headers["HX-Push-Url"] == "/customers/?q=win&size=20"
    odd = client.get("/customers/?q=win&go=1&_scheme=https&_anchor=x", headers={**HTMX, "HX-Target": "results"})
    assert odd.status_code == 200 and odd.headers["HX-Push-Url"] == "/customers/?q=win&_scheme=https&_anchor=x"


def test_a_deleted_customer_opens_by_id_but_not_by_key(client, app):
    customer_id = make(app, name="Gone Ltd", key="gone")
    with app.app_context():
        lifecycle.delete(customer_id)
    assert client.get("/customers/?q=gone&go=1").status_code == 200
    by_id = client.get(f"/customers/?q={customer_id}&go=1")
    assert by_id.status_code == 303 and by_id.headers["Location"].endswith(f"/customers/{customer_id}")


def test_a_stripe_customer_id_finds_and_opens_its_customer(client, app):
    customer_id = make(app, name="Paying Co", key="paying")
    make(app, name="Other Co", key="other")
    link_stripe(client, "paying", "cus_NffrFeUfNV2Hib")
    assert "“cus_NffrFeUfNV2Hib” is the Stripe customer id of Paying Co" in found(client, "cus_NffrFeUfNV2Hib")
    jump = client.get("/customers/?q=cus_NffrFeUfNV2Hib&go=1")
    assert jump.status_code == 303 and jump.headers["Location"].endswith(f"/customers/{customer_id}")
    assert client.get("/customers/?q=cus_Nffr&go=1").status_code == 200  # no such id: a search


def test_a_key_in_the_wrong_case_offers_the_right_one(client, app):
    customer_id = make(app, name="Wind Power", key="acme-energy-0168")
    response = client.get("/customers/?q=ACME-Energy-0168&go=1")
    assert response.status_code == 200  # keys are case-sensitive: no jump
    assert "Did you mean acme-energy-0168 ?" in text(response)
    assert f'href="/customers/{customer_id}"><code>acme-energy-0168</code>' in response.text
    looked_up = client.get("/customers/lookup?key=ACME-ENERGY-0168")
    assert looked_up.status_code == 404
    assert "No live customer has the key ACME-ENERGY-0168" in text(looked_up)
    assert "Did you mean acme-energy-0168 ?" in text(looked_up)
    assert "Did you mean" not in found(client, "acme-energy-0168")
    assert "Did you mean" not in found(client, "ACME-ENERGY")  # a fragment is no key


def test_the_key_lookup_opens_by_id_too(client, app):
    customer_id = make(app, name="Wind Power", key="wind")
    response = client.get(f"/customers/lookup?key={customer_id}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/customers/{customer_id}")


@pytest.mark.parametrize(
    "odd",
    [
        '"',
        '"quoted" AND name:x OR',
        "{name key}: x",
        "NEAR(a b)",
        "a*",
        "^abc",
        "(((",
        "100%",
        "a_b",
        "\\",
        "x" * 5000,
        "nul\x00here",
        "tab\there",
        "\u202eevil",
        "😀😀😀",
        "cus_",
        "cus_" + "x" * 300,
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "ǅ",
        "ﬁnance",
        "\u0301\u0301\u0301",
    ],
)
def test_odd_search_text_never_fails(client, app, odd):
    make(app, name="Acme", key="acme")
    for args in ({"q": odd}, {"q": odd, "go": "1"}, {"q": odd, "sort": "-created"}):
        assert client.get("/customers/", query_string=args).status_code == 200
        assert client.get("/customers/", query_string=args, headers={**HTMX, "HX-Target": "results"}).status_code == 200
    assert client.get("/customers/lookup", query_string={"key": odd}).status_code == 404


def test_the_currency_filter_lists_the_currencies_in_use_first(client, app):
    make(app, name="A", key="a", currency="HUF")
    make(app, name="B", key="b", currency="EUR")
    page = client.get("/customers/").text
    in_use = re.search(r'<optgroup label="In use">(.*?)</optgroup>', page, re.DOTALL).group(1)
    assert re.findall(r'value="([A-Z]{3})"', in_use) == ["EUR", "HUF"]
    others = re.search(r'<optgroup label="Other currencies">(.*?)</optgroup>', page, re.DOTALL).group(1)
    assert 'value="USD"' in others and 'value="EUR"' not in others
