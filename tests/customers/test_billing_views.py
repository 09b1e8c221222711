"""The customer's billing in the console: the profile choice on the form and page, the billing
profile column and filter of the list, and the app data editors on the customer page."""

import re

import pytest

from app.apps import rules as app_rules
from app.billing import overrides
from app.billing import rules as billing_rules
from app.extensions import db
from tests.helpers import HTMX, field_errors, make, post, text

SECRET = "sk_test_51SecretSecretSecretSecret1234567890xyz"


@pytest.fixture
def stripe(app):
    """A Stripe app, with its own (not default) billing profile: (app id, profile id)."""
    with app.app_context():
        installed, _ = app_rules.install("stripe", name="Stripe EU", api_key=SECRET)
        profile = billing_rules.live_profiles_using(installed.id)[0]
        if profile.is_default:  # installing Stripe over the sandbox makes it the default: undo that
            sandbox = next(p for p in billing_rules.live_profiles() if p.id != profile.id)
            billing_rules.make_default(sandbox.id)
        ids = installed.id, profile.id
        db.session.remove()
    return ids


@pytest.fixture
def invoicing(app):
    with app.app_context():
        installed, _ = app_rules.install("custom_invoicing", name="ERP", create_billing_profile=False)
        app_id = installed.id
        db.session.remove()
    return app_id


def customer_form(**fields):
    return {"name": "Acme", "key": "acme", "subject_keys-0": "", "metadata-0-key": "", **fields}


def pinned_id(app, customer_id):
    with app.app_context():
        billing = overrides.get(customer_id)
        return billing.override.billing_profile_id if billing.pinned else None


# --- The billing profile choice ------------------------------------------------------------


def test_the_form_offers_the_default_then_each_live_profile(client, stripe):
    page = client.get("/customers/new")
    assert re.search(
        r'<select[^>]*id="billing_profile"[^>]*><option (?:selected )?value="">'
        r"Default profile \(currently: Default billing profile\)</option>",
        page.text,
    )
    assert f'value="{stripe[1]}"' in page.text and "Stripe EU billing profile" in page.text


def test_pin_through_the_form_then_return_to_the_default(csrf_client, app, stripe):
    response = post(csrf_client, "/customers/new", customer_form(billing_profile=stripe[1]))
    assert response.status_code == 303
    customer_id = response.headers["Location"].rsplit("/", 1)[1]
    assert pinned_id(app, customer_id) == stripe[1]
    assert "Billing profile Stripe EU billing profile (pinned)" in text(csrf_client.get(f"/customers/{customer_id}"))
    edit = csrf_client.get(f"/customers/{customer_id}/edit")
    assert re.search(f'<option selected value="{stripe[1]}">', edit.text)

    versions = dict(re.findall(r'name="((?:billing_)?version)" type="hidden" value="(\d+)"', edit.text))
    back = post(csrf_client, f"/customers/{customer_id}/edit", customer_form(billing_profile="", **versions))
    assert back.status_code == 303
    assert pinned_id(app, customer_id) is None
    page = text(csrf_client.get(f"/customers/{customer_id}"))
    assert "Billing profile Default billing profile (default)" in page


def test_a_deleted_profile_is_refused_beside_the_field_and_nothing_is_saved(csrf_client, app, stripe):
    with app.app_context():
        billing_rules.delete(stripe[1])
    response = post(csrf_client, "/customers/new", customer_form(name="Kept Name", billing_profile=stripe[1]))
    assert response.status_code == 422
    assert any("is deleted" in e for e in field_errors(response))
    assert 'id="billing_profile-error"' in response.text and 'value="Kept Name"' in response.text
    assert "No customers yet" in text(csrf_client.get("/customers/"))


def test_an_edit_whose_billing_choice_is_refused_saves_nothing(csrf_client, app, stripe):
    """The customer and its billing choice are saved in one transaction: when someone else changed
    the choice since the form was read, the renamed customer is not saved either."""
    created = post(csrf_client, "/customers/new", customer_form())
    customer_id = created.headers["Location"].rsplit("/", 1)[1]
    edit = csrf_client.get(f"/customers/{customer_id}/edit")
    versions = dict(re.findall(r'name="((?:billing_)?version)" type="hidden" value="(\d+)"', edit.text))
    with app.app_context():
        overrides.pin(customer_id, stripe[1])  # someone else pins it meanwhile

    response = post(
        csrf_client, f"/customers/{customer_id}/edit", customer_form(name="Renamed", billing_profile="", **versions)
    )
    assert response.status_code == 409
    assert "billing override of customer" in text(response) and "changed by someone else" in text(response)
    assert 'value="Renamed"' in response.text and 'id="billing_profile-error"' in response.text
    assert "Renamed" not in text(csrf_client.get(f"/customers/{customer_id}"))
    assert pinned_id(app, customer_id) == stripe[1]


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_and_filters_by_the_effective_profile(client, app, stripe):
    make(app, name="Follows", key="follows")
    pinned = make(app, name="Pinned", key="pinned")
    with app.app_context():
        overrides.pin(pinned, stripe[1])
    page = client.get("/customers/").text
    cells = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)]
    rows = {row.split()[0]: row for row in cells[1:]}  # by the customer's name, after the header row
    # A row names the profile it is pinned to; the default is not repeated on every other row.
    assert "Stripe EU billing profile (pinned)" in rows["Pinned"]
    assert "Default billing profile" not in rows["Follows"] and "pinned" not in rows["Follows"]
    filtered = client.get(f"/customers/?billing_profile={stripe[1]}")
    assert "1–1 of 1 customer" in text(filtered) and "Pinned" in text(filtered)
    assert f'<option value="{stripe[1]}" selected>' in filtered.text
    assert "Follows" in text(client.get("/customers/?billing_profile=unknown"))  # an unknown id is no filter


# --- App data ------------------------------------------------------------------------------


def app_url(customer_id, app_id):
    return f"/customers/{customer_id}/apps/{app_id}"


def stripe_data(app_id, customer="", method="", version="0", **more):
    """What the Stripe editor posts; `version` is the one its page carried (0: no data yet)."""
    return {
        f"app-{app_id}-stripe_customer_id": customer,
        f"app-{app_id}-stripe_default_payment_method_id": method,
        f"app-{app_id}-version": version,
        **more,
    }


def editor_version(client, customer_id, app_id) -> str:
    """The version an app's editor on the customer page carries, as a browser posts it back."""
    page = client.get(f"/customers/{customer_id}").text
    return re.search(rf'name="app-{app_id}-version" type="hidden" value="(\d+)"', page).group(1)


def test_the_page_lists_each_installed_app(client, app, stripe, invoicing):
    customer = make(app)
    page = client.get(f"/customers/{customer}")
    visible = text(page)
    assert "App metadata" in visible and "Nothing to set for the Sandbox app." in visible
    assert f'id="app-{stripe[0]}"' in page.text and "Stripe customer id" in visible
    assert f'id="app-{invoicing}"' in page.text and "Metadata key 1" in visible


def test_set_change_and_clear_a_stripe_customer_id_without_javascript(csrf_client, app, stripe):
    customer = make(app)
    response = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "cus_First1"))
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/customers/{customer}#app-{stripe[0]}"
    )
    page = csrf_client.get(f"/customers/{customer}")
    assert "Stripe EU data saved." in text(page) and 'value="cus_First1"' in page.text
    version = editor_version(csrf_client, customer, stripe[0])
    post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "cus_Second2", "pm_Card1", version))
    assert 'value="cus_Second2"' in csrf_client.get(f"/customers/{customer}").text
    version = editor_version(csrf_client, customer, stripe[0])
    # Clearing asks first; its button posts again, confirmed.
    asked = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], version=version, action="clear"))
    assert asked.status_code == 200 and "Remove the Stripe EU data of" in text(asked)
    confirmed = stripe_data(stripe[0], version=version, action="clear", confirmed="1")
    cleared = post(csrf_client, app_url(customer, stripe[0]), confirmed)
    assert cleared.status_code == 303
    page = csrf_client.get(f"/customers/{customer}")
    # Gone from the form (the History section still tells what it was).
    assert "Stripe EU data removed." in text(page) and 'value="cus_Second2"' not in page.text


def test_htmx_gets_only_the_section_back(csrf_client, app, stripe):
    customer = make(app)
    response = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "cus_Htmx1"), headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.strip().startswith(f'<section class="app-data" id="app-{stripe[0]}"')
    assert "Stripe EU data saved." in response.text and 'value="cus_Htmx1"' in response.text


def test_errors_are_shown_in_place_with_the_input_kept(csrf_client, app, stripe):
    customer = make(app)
    response = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "nope", "pm_Ok1"), headers=HTMX)
    assert response.status_code == 422 and "<html" not in response.text
    assert any('starts with "cus_"' in e for e in field_errors(response))
    assert 'value="nope"' in response.text and 'value="pm_Ok1"' in response.text
    full = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], ""))
    assert full.status_code == 422 and "<html" in full.text
    assert "A Stripe customer id is required." in field_errors(full)


def test_a_stripe_customer_id_of_another_customer_names_and_links_it(csrf_client, app, stripe):
    holder = make(app, name="Holder Ltd", key="holder")
    customer = make(app)
    post(csrf_client, app_url(holder, stripe[0]), stripe_data(stripe[0], "cus_Taken1"))
    response = post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "cus_Taken1"), headers=HTMX)
    assert response.status_code == 409
    assert any('already belongs to customer "Holder Ltd"' in e for e in field_errors(response))
    assert f'href="/customers/{holder}">Open that customer</a>' in response.text
    assert 'value="cus_Taken1"' in response.text


def test_custom_invoicing_rows_are_added_removed_and_saved(csrf_client, app, invoicing):
    customer = make(app)
    prefix = f"app-{invoicing}-metadata"
    added = post(
        csrf_client,
        app_url(customer, invoicing),
        {f"{prefix}-0-key": "erp", f"{prefix}-0-value": "E-1", "action": "add_metadata"},
    )
    assert added.status_code == 200 and "Metadata key 2" in text(added) and 'value="E-1"' in added.text
    twice = post(
        csrf_client,
        app_url(customer, invoicing),
        {
            f"{prefix}-0-key": "erp",
            f"{prefix}-0-value": "1",
            f"{prefix}-1-key": "erp",
            f"{prefix}-1-value": "2",
            f"app-{invoicing}-version": "0",
        },
        headers=HTMX,
    )
    assert twice.status_code == 422 and 'Metadata key "erp" is used twice.' in field_errors(twice)
    saved = post(
        csrf_client,
        app_url(customer, invoicing),
        {
            f"{prefix}-0-key": "erp",
            f"{prefix}-0-value": "E-1",
            f"{prefix}-1-key": "team",
            f"{prefix}-1-value": "ops",
            f"app-{invoicing}-version": "0",
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        from app.apps.customer_data import list_for

        assert list_for(customer)[1][0].metadata_ == {"erp": "E-1", "team": "ops"}


def test_a_viewer_sees_the_data_but_cannot_post(client_as, app, stripe, csrf_client):
    customer = make(app)
    post(csrf_client, app_url(customer, stripe[0]), stripe_data(stripe[0], "cus_Seen1"))
    viewer = client_as("viewer")
    page = viewer.get(f"/customers/{customer}")
    assert "cus_Seen1" in text(page) and '<form method="post" action="/customers/' not in page.text
    refused = viewer.post(app_url(customer, stripe[0]), data=stripe_data(stripe[0], "cus_Other1"))
    assert refused.status_code == 403
    editor = client_as("editor")
    assert "Save Stripe EU data" in editor.get(f"/customers/{customer}").text
