"""The one way every console form shows a rule's problem: beside the field it names, or at the top."""

import re
from dataclasses import dataclass
from typing import Callable

import pytest
from wtforms import StringField

from app.auth import rules as auth_rules
from app.formutil import MISSING_VERSION, ProblemForm
from app.problems import FieldError, Invalid, PreconditionFailed
from tests.billing.test_views import make_profile, profile_data, sandbox_id
from tests.helpers import text as visible
from tests.test_etags import STRIPE_KEY


class PlanChoice(ProblemForm):
    FIELD_FOR = {"plan.key": "plan"}
    plan = StringField("Plan")
    note = StringField("Note")


def shown(form) -> list[tuple[str, str]]:
    return [(field_id, error.message) for field_id, error in form.all_errors()]


def test_errors_go_beside_the_fields_they_name_and_the_rest_to_the_top(app):
    with app.test_request_context():
        form = PlanChoice(meta={"csrf": False})
        form.show_problem(
            Invalid([FieldError("other", "x", "Not a field here"), FieldError("plan.key", "y", "No such plan")])
        )
        assert [e.message for e in form.plan.errors] == ["No such plan"] and not form.note.errors
        assert shown(form) == [("plan", "No such plan"), ("", "Not a field here")]  # fields first, in page order


def test_a_problem_without_field_errors_shows_its_detail_at_the_top_or_at_the_fallback(app):
    with app.test_request_context():
        form = PlanChoice(meta={"csrf": False})
        form.show_problem(PreconditionFailed("The customer is deleted."))
        assert shown(form) == [("", "The customer is deleted.")]
        form = PlanChoice(meta={"csrf": False})
        form.fallback_field = "plan"
        form.show_problem(PreconditionFailed("The customer is deleted."))
        assert shown(form) == [("plan", "The customer is deleted.")]


# --- Edit forms carry the version they were read at ------------------------------------------


@dataclass
class EditPage:
    """A console edit form: the page that shows it, where it posts, what the operator typed, how the
    form shows that again, what is saved now, and someone else saving meanwhile (through the API)."""

    page: str
    url: str
    typed: dict
    kept: str
    saved: Callable[[], str | None]
    change_elsewhere: Callable[[], object]


def _api(response) -> dict:
    assert response.status_code in (200, 201), response.json
    return response.json


def customer_form(app, client) -> EditPage:
    api = f"/api/v1/customers/{_api(client.post('/api/v1/customers', json={'name': 'Acme', 'key': 'acme'}))['id']}"
    typed = {"name": "Typed name", "key": "acme", "subject_keys-0": "", "metadata-0-key": "", "action": "save"}
    return EditPage(
        f"{api.removeprefix('/api/v1')}/edit",
        f"{api.removeprefix('/api/v1')}/edit",
        typed,
        'value="Typed name"',
        lambda: client.get(api).json["name"],
        lambda: client.put(api, json={"name": "Theirs", "key": "acme"}),
    )


def plan_form(app, client) -> EditPage:
    body = {"name": "Pro", "price": {"type": "flat", "amount": "10"}, "billingCadence": "P1M"}
    api = f"/api/v1/plans/{_api(client.post('/api/v1/plans', json={**body, 'key': 'pro', 'currency': 'EUR'}))['id']}"
    return EditPage(
        f"{api.removeprefix('/api/v1')}/edit",
        f"{api.removeprefix('/api/v1')}/edit",
        {"name": "Typed name", "amount": "12", "billing_cadence": "P1M"},
        'value="Typed name"',
        lambda: client.get(api).json["name"],
        lambda: client.put(api, json={**body, "name": "Theirs"}),
    )


def billing_profile_form(app, client) -> EditPage:
    app_id = sandbox_id(app)
    profile = make_profile(app)
    api = f"/api/v1/billing/profiles/{profile}"
    read_back = {k: v for k, v in client.get(api).json.items() if k not in ("id", "createdAt", "updatedAt")}
    return EditPage(
        f"/billing/profiles/{profile}/edit",
        f"/billing/profiles/{profile}/edit",
        profile_data(app_id, name="Typed name"),
        'value="Typed name"',
        lambda: client.get(api).json["name"],
        lambda: client.put(api, json={**read_back, "name": "Theirs"}),
    )


def app_form(app, client) -> EditPage:
    installed = client.post(
        "/api/v1/marketplace/listings/custom_invoicing/install", json={"createBillingProfile": False}
    )
    api = f"/api/v1/apps/{_api(installed)['app']['id']}"
    return EditPage(
        f"{api.removeprefix('/api/v1')}/edit",
        f"{api.removeprefix('/api/v1')}/edit",
        {"name": "Typed name", "secret_api_key": ""},
        'value="Typed name"',
        lambda: client.get(api).json["name"],
        lambda: client.put(api, json={"type": "custom_invoicing", "name": "Theirs"}),
    )


def stripe_data_form(app, client) -> EditPage:
    """The Stripe editor on the customer page (the Stripe app bills through the default profile)."""
    installed = client.post("/api/v1/marketplace/listings/stripe/install/apikey", json={"apiKey": STRIPE_KEY})
    app_id = _api(installed)["app"]["id"]
    customer_id = _api(client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"}))["id"]
    api = f"/api/v1/customers/{customer_id}/stripe"
    typed = {f"app-{app_id}-stripe_customer_id": "cus_Typed1", f"app-{app_id}-stripe_default_payment_method_id": ""}
    return EditPage(
        f"/customers/{customer_id}",
        f"/customers/{customer_id}/apps/{app_id}",
        typed,
        'value="cus_Typed1"',
        lambda: client.get(api).json.get("stripeCustomerId"),
        lambda: client.put(api, json={"stripeCustomerId": "cus_Theirs1"}),
    )


def operator_form(app, client) -> EditPage:
    with app.app_context():
        operator_id = auth_rules.create_operator("dora", "viewer", "correct horse battery staple").id

    def role() -> str:
        with app.app_context():
            return auth_rules.get_operator(operator_id).role

    def change_elsewhere():
        with app.app_context():
            auth_rules.update_operator(operator_id, role="admin")

    return EditPage(
        f"/operators/{operator_id}",
        f"/operators/{operator_id}",
        {"role": "editor", "active": "y"},
        '<option selected value="editor">',
        role,
        change_elsewhere,
    )


EDIT_FORMS = [customer_form, plan_form, billing_profile_form, app_form, stripe_data_form, operator_form]


@pytest.fixture(params=EDIT_FORMS, ids=[f.__name__ for f in EDIT_FORMS])
def edit_page(request, app, client) -> EditPage:
    return request.param(app, client)


def hidden_versions(html: str) -> dict[str, str]:
    """The versions a page's forms carry, by field name, as a browser posts them back."""
    return dict(re.findall(r'name="([\w-]*version)" type="hidden" value="(\d*)"', html))


def page_versions(client, url: str) -> dict[str, str]:
    return hidden_versions(client.get(url).text)


@pytest.mark.parametrize("bad", [None, "", "abc", "²"], ids=["missing", "empty", "letters", "superscript"])
def test_an_edit_form_without_a_usable_version_is_refused_keeping_what_was_typed(csrf_client, edit_page, bad):
    versions = page_versions(csrf_client, edit_page.page)
    assert versions, "the page carries no version"
    sent = {} if bad is None else {name: bad for name in versions}
    response = csrf_client.post(edit_page.url, data={"csrf_token": csrf_client.token, **edit_page.typed, **sent})
    assert response.status_code == 400
    assert MISSING_VERSION in visible(response)
    assert edit_page.kept in response.text
    assert edit_page.saved() not in ("Typed name", "cus_Typed1", "editor")


def test_an_edit_form_from_a_stale_copy_is_a_conflict_until_saved_again_knowingly(csrf_client, edit_page):
    versions = page_versions(csrf_client, edit_page.page)
    edit_page.change_elsewhere()
    before = edit_page.saved()
    stale = csrf_client.post(edit_page.url, data={"csrf_token": csrf_client.token, **edit_page.typed, **versions})
    assert stale.status_code == 409
    assert "changed" in visible(stale) and edit_page.kept in stale.text
    assert edit_page.saved() == before
    # The conflict's form carries the version saved now: saving it again is a deliberate choice.
    again = csrf_client.post(
        edit_page.url, data={"csrf_token": csrf_client.token, **edit_page.typed, **hidden_versions(stale.text)}
    )
    assert again.status_code == 303
    assert edit_page.saved() in ("Typed name", "cus_Typed1", "editor")


def test_a_billing_choice_changed_elsewhere_is_not_undone_by_the_customer_form(csrf_client, client):
    customer_id = _api(client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"}))["id"]
    versions = page_versions(csrf_client, f"/customers/{customer_id}/edit")  # follows the default
    default_id = next(p for p in client.get("/api/v1/billing/profiles").json["items"] if p["default"])["id"]
    client.put(f"/api/v1/billing/customers/{customer_id}", json={"billingProfileId": default_id})  # pinned elsewhere
    typed = {"name": "Typed name", "key": "acme", "billing_profile": "", "action": "save"}
    response = csrf_client.post(
        f"/customers/{customer_id}/edit", data={"csrf_token": csrf_client.token, **typed, **versions}
    )
    assert response.status_code == 409
    assert "The billing override of customer" in visible(response) and "changed by someone else" in visible(response)
    billing = client.get(f"/api/v1/billing/customers/{customer_id}").json
    assert billing["customerOverride"]["billingProfileId"] == default_id  # their pin stands
