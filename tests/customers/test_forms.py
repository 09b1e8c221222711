"""The customer forms through Flask's test client: every error in one pass, the live checks, and
clearing an app's data only once confirmed."""

import re

import pytest

from app.apps import customer_data
from app.apps import rules as app_rules
from app.apps.customer_data import AppDataInput
from app.auth import rules as auth_rules
from app.customers import rules
from tests.helpers import HTMX, field_errors, make, post, text


def test_a_metadata_key_typed_twice_shows_with_every_other_error_at_once(csrf_client, app):
    make(app, name="Holder Ltd", key="taken", subjects=["busy"])
    response = post(
        csrf_client,
        "/customers/new",
        {
            "name": "Acme",
            "key": "taken",
            "primary_email": "not-an-email",
            "subject_keys-0": "busy",
            "metadata-0-key": "x",
            "metadata-0-value": "1",
            "metadata-1-key": "x",
            "metadata-1-value": "2",
            "action": "save",
        },
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert 'Metadata key "x" is used twice.' in errors
    assert any(e.startswith('Key "taken" is already the key of customer "Holder Ltd"') for e in errors)
    assert any(e.startswith('Subject key "busy" is already') for e in errors)
    assert any(e.startswith("Primary email is not valid") for e in errors)
    assert "There are 4 problems" in text(response)
    with app.app_context():
        assert rules.find_by_key("taken").name == "Holder Ltd"


def test_a_metadata_key_typed_twice_alone_saves_nothing(csrf_client, app):
    data = {"name": "Acme", "key": "acme", "metadata-0-key": "x", "metadata-1-key": "x", "action": "save"}
    response = post(csrf_client, "/customers/new", data)
    assert response.status_code == 422 and field_errors(response) == ['Metadata key "x" is used twice.']
    with app.app_context():
        assert rules.find_by_key("acme") is None


def test_an_edit_with_a_key_typed_twice_changes_nothing(csrf_client, app):
    customer_id = make(app, name="Acme", key="acme", metadata={"a": "1"})
    form = csrf_client.get(f"/customers/{customer_id}/edit").text
    version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', form).group(1)
    billing = re.search(r'id="billing_version" name="billing_version" type="hidden" value="(\d+)"', form).group(1)
    data = {
        "name": "Renamed",
        "key": "acme",
        "metadata-0-key": "a",
        "metadata-1-key": "a",
        "primary_email": "x@",
        "version": version,
        "billing_version": billing,
        "action": "save",
    }
    response = post(csrf_client, f"/customers/{customer_id}/edit", data)
    assert response.status_code == 422
    assert 'Metadata key "a" is used twice.' in field_errors(response)
    assert any(e.startswith("Primary email is not valid") for e in field_errors(response))
    with app.app_context():
        assert rules.get(customer_id).name == "Acme"


def test_two_differing_passwords_show_with_the_rules_errors(csrf_client, app):
    data = {"username": "bad name!", "role": "viewer", "password": "short", "confirm": "other"}
    response = post(csrf_client, "/operators/new", data)
    assert response.status_code == 422
    errors = field_errors(response)
    assert "The two passwords are not the same." in errors
    assert any(e.startswith("A username has") for e in errors) and len(errors) == 3  # and the short password
    with app.app_context():
        assert auth_rules.find_operator("bad name!") is None


# --- Live checks ------------------------------------------------------------------------------


def check(client, headers=None, **args):
    return text(client.get("/customers/check", query_string=args, headers={**HTMX, **(headers or {})}))


def test_the_live_check_says_when_a_subject_key_is_typed_twice_in_the_form(client):
    trigger = {"HX-Trigger-Name": "subject_keys-2"}
    twice = check(client, trigger, **{"subject_keys-0": "meter", "subject_keys-1": "other", "subject_keys-2": "meter"})
    assert 'Subject key "meter" is listed twice.' in twice and "No other customer" not in twice
    # The first of the two says the same when it is the one typed in.
    first = check(
        client, {"HX-Trigger-Name": "subject_keys-0"}, **{"subject_keys-0": "meter", "subject_keys-1": "meter"}
    )
    assert "listed twice" in first
    once = check(client, trigger, **{"subject_keys-0": "meter", "subject_keys-1": "", "subject_keys-2": "new"})
    assert "No other customer has this subject key." in once


def test_the_live_check_still_names_another_customers_subject_key(client, app):
    make(app, name="Holder Ltd", key="holder", subjects=["meter-1"])
    said = check(client, {"HX-Trigger-Name": "subject_keys-1"}, **{"subject_keys-0": "x", "subject_keys-1": "meter-1"})
    assert "Holder Ltd" in said


@pytest.mark.parametrize(
    ("email", "said"),
    [
        ("ops@example.com", "✓ A valid email address."),
        ("not-an-email", "Primary email is not valid"),
        ("a" * 300 + "@example.com", "too long"),
        ("a" * 400 + "@example.com", "at most 320"),
        ("  ", ""),
    ],
)
def test_the_live_email_check_applies_the_saving_rule(client, email, said):
    shown = check(client, primary_email=email)
    assert said in shown if said else shown.strip() == ""


def test_the_form_asks_for_the_live_email_check(client):
    page = client.get("/customers/new").text
    assert 'hx-get="/customers/check"' in page and 'hx-target="#primary_email-check"' in page
    assert 'hx-include="#subjects-fieldset"' in page


# --- Clearing an app's data is confirmed first ------------------------------------------------

STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ"


@pytest.fixture
def stripe_customer(app):
    customer_id = make(app, name="Acme", key="acme")
    with app.app_context():
        stripe = app_rules.install("stripe", name="Stripe EU", api_key=STRIPE_KEY, create_billing_profile=False)[0]
        data = AppDataInput(type="stripe", app_id=stripe.id, stripe_customer_id="cus_123")
        customer_data.upsert(customer_id, [data], indexed=False)
        return customer_id, stripe.id


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["no-js", "htmx"])
def test_clearing_stripe_data_asks_first_and_a_post_without_confirming_clears_nothing(
    csrf_client, app, stripe_customer, headers
):
    customer_id, stripe_id = stripe_customer
    url = f"/customers/{customer_id}/apps/{stripe_id}"
    page = csrf_client.get(f"/customers/{customer_id}").text
    version = re.search(rf'name="app-{stripe_id}-version" type="hidden" value="(\d+)"', page).group(1)
    asked = post(csrf_client, url, {f"app-{stripe_id}-version": version, "action": "clear"}, headers=headers)
    assert asked.status_code == 200
    said = text(asked)
    assert "Remove the Stripe EU data of Acme?" in said and "cus_123" in said and "Keep it" in said
    with app.app_context():
        assert customer_data.list_for(customer_id, "stripe")[1][0].stripe_customer_id == "cus_123"
    assert f'name="app-{stripe_id}-version" type="hidden" value="{version}"' in asked.text  # carried on
    confirmed = {f"app-{stripe_id}-version": version, "action": "clear", "confirmed": "1"}
    done = post(csrf_client, url, confirmed, headers=headers)
    assert done.status_code in (200, 303)
    with app.app_context():
        assert customer_data.list_for(customer_id, "stripe")[1] == []


@pytest.mark.parametrize("email", ["a\x00b@example.com", "x" * 5000, "@", "a@b@c", "ü@例え.jp", "\u202e@x.io"])
def test_the_live_email_check_takes_any_text(client, email):
    response = client.get("/customers/check", query_string={"primary_email": email}, headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
