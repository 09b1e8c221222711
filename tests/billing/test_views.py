"""The Billing profiles console through Flask's test client: list, editor, make default, delete, CSRF."""

import re

import pytest

from app.apps import rules as app_rules
from app.billing import rules
from app.billing.forms import from_iso, to_iso
from app.customers import rules as customer_rules
from app.customers.rules import CustomerInput
from tests.helpers import HTMX, field_errors, post, text

KEY = "sk_test_1234567890abcdefXYZ"


def sandbox_id(app) -> str:
    with app.app_context():
        return rules.default_profile().app_id


def profile_data(app_id, **changes) -> dict:
    data = {
        "name": "Europe",
        "supplier_name": "Acme Kft.",
        "supplier_country": "HU",
        "alignment": "subscription",
        "collection_interval_amount": "2",
        "collection_interval_unit": "hours",
        "auto_advance": "y",
        "draft_period_amount": "0",
        "draft_period_unit": "days",
        "due_after_amount": "14",
        "due_after_unit": "days",
        "progressive_billing": "y",
        "collection_method": "send_invoice",
        "tax_enabled": "y",
        "app_id": app_id,
    }
    return {**data, **changes}


def make_profile(app, name="Europe", default=False) -> str:
    with app.app_context():
        app_id = rules.default_profile().app_id
        data = rules.ProfileInput(
            name=name,
            supplier=rules.Supplier(name="Acme", addresses=[rules.Address(country="DE")]),
            default=default,
            apps=rules.AppIds(app_id, app_id, app_id),
        )
        return rules.create(data).id


@pytest.mark.parametrize(
    "amount, unit, iso", [("30", "days", "P30D"), ("1", "hours", "PT1H"), ("0", "days", "P0D"), ("2", "weeks", "P2W")]
)
def test_durations_are_typed_as_a_number_and_a_unit_and_stored_as_iso_8601(amount, unit, iso):
    assert to_iso(amount, unit) == iso and from_iso(iso) == (amount, unit)


def test_compound_and_bad_durations():
    assert from_iso("P1DT2H") == ("26", "hours") and to_iso("abc", "days") is None and to_iso("3", "fortnights") is None


def test_the_list_marks_the_default_and_counts_pinned_customers(client, app):
    make_profile(app, "Europe")
    page = text(client.get("/billing/profiles/"))
    assert "Default billing profile default Sandbox" in page and "Europe" in page
    assert page.count("Make default") == 1  # only the one that is not the default


def test_the_new_profile_form_has_the_defaults(client):
    page = client.get("/billing/profiles/new")
    for legend in ("Supplier", "Collection", "Invoicing", "Payment", "Tax", "Apps"):
        assert f"<legend>{legend}</legend>" in page.text
    assert re.search(r'id="due_after_amount"[^>]*value="30"', page.text)
    assert re.search(r'<option selected value="days">days</option>', page.text)


def test_create_a_profile_stores_iso_durations(csrf_client, app):
    response = post(csrf_client, "/billing/profiles/new", profile_data(sandbox_id(app)))
    assert response.status_code == 303 and response.headers["Location"] == "/billing/profiles/"
    with app.app_context():
        profile = next(p for p in rules.list_profiles().items if p.name == "Europe")
        assert (profile.invoicing_due_after, profile.collection_interval, profile.invoicing_draft_period) == (
            "P14D",
            "PT2H",
            "P0D",
        )
        assert profile.payment_collection_method == "send_invoice" and not profile.is_default


def test_errors_show_beside_their_fields_with_input_kept(csrf_client, app):
    data = profile_data(
        sandbox_id(app),
        supplier_name="Kept supplier",
        supplier_country="",
        due_after_amount="soon",
        collection_interval_amount="0",
        tax_enabled="",
        tax_enforced="y",
        name="",
    )
    data.pop("tax_enabled")
    response = post(csrf_client, "/billing/profiles/new", data)
    assert response.status_code == 422
    errors = field_errors(response)
    assert "Name is required." in errors
    assert "Supplier country is required." in errors
    assert "Enter a whole number, e.g. 30, and a unit." in errors
    assert "Collection interval must be longer than zero." in errors
    assert "Tax can only be enforced when it is enabled." in errors
    for field_id in ("name", "supplier_country", "due_after_amount", "collection_interval_amount", "tax_enforced"):
        assert f'id="{field_id}-error"' in response.text
    assert 'value="Kept supplier"' in response.text and 'value="soon"' in response.text
    assert 'id="error-summary"' in response.text


def test_a_profile_needs_an_app(csrf_client):
    response = post(csrf_client, "/billing/profiles/new", profile_data(""))
    assert response.status_code == 422 and 'id="app_id-error"' in response.text


def test_edit_a_profile_and_its_app_stays(csrf_client, app):
    profile_id = make_profile(app)
    form = csrf_client.get(f"/billing/profiles/{profile_id}/edit")
    assert form.status_code == 200 and 'value="Europe"' in form.text and "cannot change" in form.text
    with app.app_context():
        version = rules.get(profile_id).version
    data = profile_data("ignored", name="Europe 2", due_after_amount="1", due_after_unit="months", version=str(version))
    response = post(csrf_client, f"/billing/profiles/{profile_id}/edit", data)
    assert response.status_code == 303
    with app.app_context():
        profile = rules.get(profile_id)
        assert profile.name == "Europe 2" and profile.invoicing_due_after == "P1M" and profile.app_id == sandbox_id(app)
    stale = post(csrf_client, f"/billing/profiles/{profile_id}/edit", {**data, "name": "Late"})
    assert stale.status_code == 409 and "Someone else changed this profile" in stale.text


def follower(app, name: str) -> str:
    """A customer that follows the default profile (none pinned)."""
    with app.app_context():
        return customer_rules.create(CustomerInput(name=name, key=name.lower())).id


def test_make_default_asks_first_saying_whom_it_moves(client, app):
    profile_id = make_profile(app)
    follower(app, "Acme")
    page = text(client.get(f"/billing/profiles/{profile_id}/default"))
    assert "Make Europe the default?" in page
    assert "This moves 1 customer to Europe" in page
    assert (
        "the customer that follows the default, billed now by Default billing profile, will be billed by Europe" in page
    )
    follower(app, "Globex")
    assert "This moves 2 customers to Europe" in text(client.get(f"/billing/profiles/{profile_id}/default"))


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["no-js", "htmx"])
def test_a_post_without_confirming_makes_nothing_the_default(csrf_client, app, headers):
    profile_id = make_profile(app)
    response = post(csrf_client, f"/billing/profiles/{profile_id}/default", {}, headers=headers)
    assert response.status_code == 200 and "Make Europe the default?" in text(response)
    with app.app_context():
        assert rules.default_profile().id != profile_id


def test_make_default_once_confirmed_redirects_with_a_flash(csrf_client, app):
    profile_id = make_profile(app)
    response = post(csrf_client, f"/billing/profiles/{profile_id}/default", {"confirmed": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/billing/profiles/"
    assert "“Europe” is now the default billing profile." in text(csrf_client.get("/billing/profiles/"))
    with app.app_context():
        assert rules.default_profile().id == profile_id


def test_a_viewer_sees_no_profile_actions(client_as, app):
    make_profile(app)
    page = text(client_as("viewer").get("/billing/profiles/"))
    assert "Europe" in page
    for action in ("Make default", "Edit", "Delete", "New billing profile"):
        assert action not in page


def test_the_default_checkbox_says_whom_it_moves(client, app):
    follower(app, "Acme")
    assert "ticking this moves 1 customer to this profile" in text(client.get("/billing/profiles/new"))


def test_deleting_the_default_is_refused_with_its_reason(csrf_client, app):
    with app.app_context():
        default_id = rules.default_profile().id
    assert "Delete Default billing profile?" in text(csrf_client.get(f"/billing/profiles/{default_id}/delete"))
    response = post(csrf_client, f"/billing/profiles/{default_id}/delete", {})
    assert response.status_code == 400
    page = text(response)
    assert "cannot be deleted" in page and "is the default and cannot be deleted" in page


def test_delete_a_profile(csrf_client, app):
    profile_id = make_profile(app)
    response = post(csrf_client, f"/billing/profiles/{profile_id}/delete", {})
    assert response.status_code == 303
    assert "Billing profile “Europe” deleted." in text(csrf_client.get("/billing/profiles/"))
    assert csrf_client.get(f"/billing/profiles/{profile_id}/edit").status_code == 303


@pytest.mark.parametrize(
    "url",
    [
        "/billing/profiles/new",
        "/billing/profiles/{id}/edit",
        "/billing/profiles/{id}/default",
        "/billing/profiles/{id}/delete",
    ],
)
def test_posts_without_a_csrf_token_are_refused(client, app, url):
    profile_id = make_profile(app)
    response = client.post(url.format(id=profile_id), data=profile_data(sandbox_id(app), name="Hacked"))
    assert response.status_code == 400 and "The form has expired" in response.text
    with app.app_context():
        assert rules.get(profile_id).name == "Europe" and not rules.get(profile_id).is_default
        assert not rules.get(profile_id).is_deleted and len(rules.list_profiles().items) == 2


def test_apps_of_stripe_are_offered_in_the_editor(client, app):
    with app.app_context():
        app_rules.install("stripe", api_key=KEY, create_billing_profile=False)
    assert "Stripe (stripe)" in client.get("/billing/profiles/new").text
