"""The Apps console through Flask's test client: pages, install, edit, uninstall refusals, CSRF."""

import pytest

from app.apps import rules
from app.billing import rules as billing_rules
from tests.helpers import field_errors, make, post, text

KEY = "sk_test_1234567890abcdefXYZ"


def install_stripe(app, name="Stripe", key=KEY, profile=True):
    with app.app_context():
        return rules.install("stripe", name=name, api_key=key, create_billing_profile=profile)[0].id


def test_the_apps_page_lists_installed_apps_and_the_marketplace(client):
    page = text(client.get("/apps/"))
    assert "Sandbox" in page and "ready" in page and "Default billing profile" in page
    for listing in ("Install Sandbox", "Install Stripe", "Install Custom Invoicing"):
        assert listing in page
    assert 'aria-current="page"' in client.get("/apps/").text  # the nav marks Apps


def default_profile_id(app) -> str:
    with app.app_context():
        return billing_rules.default_profile().id


def test_installing_stripe_shows_only_the_masked_key(csrf_client, app):
    typed = {"name": "Stripe EU", "api_key": KEY, "create_billing_profile": "y"}
    response = post(csrf_client, "/apps/install/stripe", {**typed, "confirmed_default": default_profile_id(app)})
    assert response.status_code == 303 and response.headers["Location"] == "/apps/"
    page = csrf_client.get("/apps/")
    assert "sk_test_***XYZ" in page.text and KEY not in page.text
    flash = (
        "Stripe app “Stripe EU” installed. "
        "Billing profile “Stripe EU billing profile” bills through it, and is now the default."
    )
    assert flash in text(page)


def test_a_bad_key_is_refused_beside_its_field_and_the_name_is_kept_but_not_the_key(csrf_client):
    response = post(csrf_client, "/apps/install/stripe", {"name": "My Stripe", "api_key": "pk_test_nope123456789"})
    assert response.status_code == 422
    assert any("That is not a Stripe secret key" in e for e in field_errors(response))
    assert 'value="My Stripe"' in response.text
    assert "pk_test_nope" not in response.text  # a key, even a wrong one, is never echoed
    assert 'id="api_key-error"' in response.text


def test_installing_stripe_says_first_whom_its_default_profile_moves(client, app):
    make(app, name="Acme", key="acme")
    page = text(client.get("/apps/install/stripe"))
    assert "With a billing profile, this moves 1 customer to Stripe" in page
    assert "becomes the default in place of Default billing profile" in page
    assert f'name="confirmed_default" value="{default_profile_id(app)}"' in client.get("/apps/install/stripe").text
    # Custom invoicing does not take the default from a sandbox: nothing to say.
    assert "this moves" not in text(client.get("/apps/install/custom_invoicing"))


def test_a_stripe_install_not_confirmed_for_the_current_default_installs_nothing(csrf_client, app):
    typed = {"name": "Stripe EU", "api_key": KEY, "create_billing_profile": "y"}
    for confirmed in ({}, {"confirmed_default": "01JAAAAAAAAAAAAAAAAAAAAAAA"}):  # none, or another default
        response = post(csrf_client, "/apps/install/stripe", {**typed, **confirmed})
        assert response.status_code == 409 and "Read what installing does" in text(response)
        assert 'value="Stripe EU"' in response.text and KEY not in response.text
    with app.app_context():
        assert [a.type for a in rules.list_apps().items] == ["sandbox"]
    # Without a billing profile the default does not change: nothing to confirm.
    response = post(csrf_client, "/apps/install/stripe", {"name": "Stripe EU", "api_key": KEY})
    assert response.status_code == 303


def test_a_viewer_sees_no_app_actions(client_as):
    page = text(client_as("viewer").get("/apps/"))
    assert "Sandbox" in page
    for action in ("Install Stripe", "Edit", "Uninstall"):
        assert action not in page


def test_install_without_a_profile(csrf_client, app):
    post(csrf_client, "/apps/install/custom_invoicing", {"name": ""})
    with app.app_context():
        custom = [a for a in rules.list_apps().items if a.type == "custom_invoicing"]
        assert custom and not billing_rules.live_profiles_using(custom[0].id)


def test_an_unknown_listing_is_a_404(client):
    assert client.get("/apps/install/paypal").status_code == 404


def test_edit_an_app_keeps_the_key_unless_a_new_one_is_given(csrf_client, app):
    app_id = install_stripe(app)
    form = csrf_client.get(f"/apps/{app_id}/edit")
    assert form.status_code == 200 and "sk_test_***XYZ" in form.text and KEY not in form.text
    assert 'name="version" type="hidden" value="1"' in form.text
    response = post(
        csrf_client, f"/apps/{app_id}/edit", {"name": "Stripe renamed", "secret_api_key": "", "version": "1"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert rules.get(app_id).name == "Stripe renamed" and rules.get(app_id).stripe_secret_api_key == KEY
    bad = post(
        csrf_client, f"/apps/{app_id}/edit", {"name": "", "secret_api_key": "sk_live_1234567890abcdef", "version": "2"}
    )
    assert bad.status_code == 422
    errors = field_errors(bad)
    assert "Name is required." in errors and any("same mode" in e for e in errors)


def test_uninstall_is_refused_with_the_profiles_that_use_the_app(csrf_client, app):
    app_id = install_stripe(app)
    confirm = csrf_client.get(f"/apps/{app_id}/uninstall")
    assert confirm.status_code == 200 and "Uninstall Stripe?" in text(confirm)
    refused = post(csrf_client, f"/apps/{app_id}/uninstall", {})
    assert refused.status_code == 409
    page = text(refused)
    assert "Stripe cannot be uninstalled" in page and "Stripe billing profile" in page
    with app.app_context():
        assert not rules.get(app_id).is_deleted


def test_uninstall_an_unused_app(csrf_client, app):
    app_id = install_stripe(app, profile=False)
    response = post(csrf_client, f"/apps/{app_id}/uninstall", {})
    assert response.status_code == 303
    assert "App “Stripe” uninstalled." in text(csrf_client.get("/apps/"))
    assert csrf_client.get(f"/apps/{app_id}/edit").status_code == 303  # uninstalled apps are not edited


@pytest.mark.parametrize("url", ["/apps/install/stripe", "/apps/{id}/edit", "/apps/{id}/uninstall"])
def test_posts_without_a_csrf_token_are_refused(client, app, url):
    app_id = install_stripe(app, profile=False)
    response = client.post(url.format(id=app_id), data={"name": "x", "api_key": KEY})
    assert response.status_code == 400 and "The form has expired" in response.text
    with app.app_context():
        assert len(rules.list_apps().items) == 2 and not rules.get(app_id).is_deleted


def test_an_unknown_app_is_a_404_page(client):
    response = client.get("/apps/01ZZZZZZZZZZZZZZZZZZZZZZZZ/edit")
    assert response.status_code == 404 and "<html" in response.text
