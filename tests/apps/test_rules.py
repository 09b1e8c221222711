"""The app rules (SPEC §2), called directly."""

import pytest

from app.apps import rules
from app.apps.rules import AppInput
from app.billing import rules as billing_rules
from app.problems import Conflict, Invalid, NotFound, PreconditionFailed
from tests.helpers import fields_of

pytestmark = pytest.mark.usefixtures("ctx")

TEST_KEY = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
LIVE_KEY = "rk_live_51ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210"


def sandbox():
    return billing_rules.default_profile().app


# --- the marketplace ---------------------------------------------------------------------------


def test_the_marketplace_lists_three_types_with_billing_capabilities():
    assert set(rules.LISTINGS) == {"sandbox", "stripe", "custom_invoicing"}
    for listing in rules.LISTINGS.values():
        assert [c.type for c in listing.capabilities] == ["calculateTax", "invoiceCustomers", "collectPayments"]
    assert rules.get_listing("stripe").install_methods == ("with_api_key",)
    assert rules.get_listing("custom_invoicing").install_methods == ("no_credentials_required",)
    with pytest.raises(NotFound):
        rules.get_listing("paypal")


# --- installing ----------------------------------------------------------------------------------


def test_first_start_installs_the_sandbox():
    app = sandbox()
    assert (app.type, app.name, app.status) == ("sandbox", "Sandbox", "ready")
    assert [a.id for a in rules.list_apps().items] == [app.id]


@pytest.mark.parametrize(("key", "live"), [(TEST_KEY, False), (LIVE_KEY, True)])
def test_stripe_is_installed_with_a_key_it_stores_but_shows_masked(key, live):
    app, _ = rules.install("stripe", api_key=key, create_billing_profile=False)
    assert app.stripe_secret_api_key == key
    assert app.stripe_livemode is live
    assert app.masked_api_key == key[:8] + "***" + key[-3:]
    assert key not in repr(app)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "pk_test_51AbCdEfGhIjKlMnOp",  # a publishable key
        "sk_prod_51AbCdEfGhIjKlMnOp",
        "sk_test_short",
        "sk_test_51AbCdEf GhIjKlMnOp",
        "sk_test_51AbCdEfGhIjKlMnOp\n",
        "sk_test_" + "a" * 300,
    ],
)
def test_bad_stripe_keys_are_refused_without_echoing_them(key):
    with pytest.raises(Invalid) as e:
        rules.install("stripe", api_key=key)
    assert fields_of(e.value) in ({"apiKey": "invalid_api_key"}, {"apiKey": "required"})
    if key:
        assert key not in e.value.detail and all(key not in err.message for err in e.value.errors)


def test_stripe_needs_a_key_and_the_others_take_none():
    with pytest.raises(Invalid) as e:
        rules.install("stripe")
    assert fields_of(e.value) == {"apiKey": "required"}
    with pytest.raises(Invalid) as e:
        rules.install("custom_invoicing", api_key=TEST_KEY)
    assert fields_of(e.value) == {"apiKey": "not_accepted"}


def test_install_names_the_app_after_its_listing_unless_named():
    assert rules.install("custom_invoicing", create_billing_profile=False)[0].name == "Custom Invoicing"
    assert rules.install("custom_invoicing", name="  ERP  ", create_billing_profile=False)[0].name == "ERP"
    with pytest.raises(Invalid) as e:
        rules.install("sandbox", name="n" * 257)
    assert fields_of(e.value) == {"name": "too_long"}


def test_a_stripe_install_takes_over_the_default_from_the_sandbox():
    old_default = billing_rules.default_profile()
    stripe, default_for = rules.install("stripe", api_key=TEST_KEY)
    assert default_for == ["calculateTax", "invoiceCustomers", "collectPayments"]
    new_default = billing_rules.default_profile()
    assert new_default.app_id == stripe.id and new_default.name == "Stripe billing profile"
    assert new_default.supplier_country == old_default.supplier_country == "US"  # the supplier is copied
    # A second Stripe app does not: the default no longer bills through the sandbox.
    second, default_for = rules.install("stripe", name="Stripe EU", api_key=LIVE_KEY)
    assert default_for == [] and billing_rules.default_profile().app_id == stripe.id
    assert [p.app_id for p in billing_rules.live_profiles_using(second.id)] == [second.id]


def test_other_installs_make_a_profile_that_is_not_the_default():
    app, default_for = rules.install("custom_invoicing")
    assert default_for == []
    assert not billing_rules.live_profiles_using(app.id)[0].is_default
    assert (app.enable_draft_sync_hook, app.enable_issuing_sync_hook) == (False, False)


def test_install_without_a_billing_profile():
    app, default_for = rules.install("stripe", api_key=TEST_KEY, create_billing_profile=False)
    assert default_for == [] and billing_rules.live_profiles_using(app.id) == []


# --- replacing ---------------------------------------------------------------------------------


def test_replace_sets_name_description_metadata_and_hooks():
    app, _ = rules.install("custom_invoicing", create_billing_profile=False)
    replaced = rules.replace(
        app.id,
        AppInput(
            type="custom_invoicing",
            name=" ERP ",
            description="Our ERP",
            metadata={"team": "finance"},
            enable_draft_sync_hook=True,
            enable_issuing_sync_hook=True,
        ),
    )
    assert (replaced.name, replaced.description, replaced.metadata_) == ("ERP", "Our ERP", {"team": "finance"})
    assert replaced.enable_draft_sync_hook and replaced.enable_issuing_sync_hook
    cleared = rules.replace(app.id, AppInput(type="custom_invoicing", name="ERP"))
    assert cleared.description is None and cleared.metadata_ == {} and not cleared.enable_draft_sync_hook


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (AppInput(type="stripe", name="S"), "type", "type_mismatch"),
        (AppInput(type="sandbox", name=""), "name", "required"),
        (AppInput(type="sandbox", name="S", description="d" * 1025), "description", "too_long"),
        (AppInput(type="sandbox", name="S", metadata={"k": "v" * 501}), "metadata.k", "too_long"),
    ],
)
def test_replace_names_each_bad_field(data, field, code):
    with pytest.raises(Invalid) as e:
        rules.replace(sandbox().id, data)
    assert fields_of(e.value).get(field) == code


def test_a_stripe_key_can_be_rotated_within_its_mode():
    app, _ = rules.install("stripe", api_key=TEST_KEY, create_billing_profile=False)
    rotated = "rk_test_" + "Z" * 30
    assert (
        rules.replace(app.id, AppInput(type="stripe", name="S", secret_api_key=rotated)).stripe_secret_api_key
        == rotated
    )
    assert rules.replace(app.id, AppInput(type="stripe", name="S")).stripe_secret_api_key == rotated  # kept
    with pytest.raises(Invalid) as e:
        rules.replace(app.id, AppInput(type="stripe", name="S", secret_api_key=LIVE_KEY))
    assert fields_of(e.value) == {"secretAPIKey": "livemode_change"}
    with pytest.raises(Invalid) as e:
        rules.replace(app.id, AppInput(type="stripe", name="S", secret_api_key="sk_test_x"))
    assert fields_of(e.value) == {"secretAPIKey": "invalid_api_key"}


# --- uninstalling ------------------------------------------------------------------------------


def test_an_app_used_by_a_live_profile_cannot_be_uninstalled():
    app, _ = rules.install("custom_invoicing", name="ERP")
    profile = billing_rules.live_profiles_using(app.id)[0]
    with pytest.raises(Conflict) as e:
        rules.uninstall(app.id)
    assert [(err.field, err.code, err.holder_id) for err in e.value.errors] == [("id", "in_use", profile.id)]
    assert profile.name in e.value.detail and profile.id in e.value.detail
    assert not rules.get(app.id).is_deleted
    billing_rules.delete(profile.id)
    assert rules.uninstall(app.id).is_deleted


def test_the_sandbox_under_the_default_profile_cannot_be_uninstalled():
    with pytest.raises(Conflict) as e:
        rules.uninstall(sandbox().id)
    assert "Default billing profile" in e.value.detail


def test_an_uninstalled_app_stays_readable_but_is_hidden_and_read_only():
    app, _ = rules.install("custom_invoicing", create_billing_profile=False)
    rules.uninstall(app.id)
    assert rules.get(app.id).deleted_at is not None
    assert app.id not in [a.id for a in rules.list_apps().items]
    with pytest.raises(PreconditionFailed):
        rules.uninstall(app.id)
    with pytest.raises(PreconditionFailed):
        rules.replace(app.id, AppInput(type="custom_invoicing", name="x"))


@pytest.mark.parametrize("bad", ["", "sandbox", "01arz3ndektsv4rrffq69g5fav", "\x00" * 26])
def test_get_with_a_bad_id_is_not_found(bad):
    with pytest.raises(NotFound):
        rules.get(bad)


def test_list_pages_oldest_first():
    for i in range(3):
        rules.install("custom_invoicing", name=f"App {i}", create_billing_profile=False)
    page = rules.list_apps(page=2, page_size=2)
    assert [a.name for a in page.items] == ["App 1", "App 2"] and page.total == 4
