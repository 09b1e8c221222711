"""The gate, over every URL the app serves: nothing answers without a login or a token, each role
does exactly what it may, and console writes need their CSRF token."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.auth import PUBLIC, role_needed

# A value for each URL argument the app's routes have; ids that exist nowhere are fine: the gate
# decides before the view looks anything up.
ARGS = {
    "customer_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "customer_id_or_key": "acme",
    "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "type": "sandbox",
    "operator_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "token_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "filename": "css/console.css",
    "app_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "app_type": "stripe",
    "plan_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "plan_id_or_key": "pro",
    "profile_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "subscription_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "job_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "view_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _routes():
    """(endpoint, method, url) for every rule of the app and every method it answers."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "collect"})
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{name}>", ARGS[name], url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(pytest.param(rule.endpoint, method, url, id=f"{method} {rule.rule}"))
    return routes


ROUTES = _routes()
API = [r for r in ROUTES if r.values[2].startswith("/api/")]
CONSOLE = [r for r in ROUTES if not r.values[2].startswith("/api/") and r.values[0] not in PUBLIC]
API_WRITES = [r for r in API if r.values[1] in WRITES]
CONSOLE_WRITES = [r for r in CONSOLE if r.values[1] in WRITES]


def csrf_token(client) -> str:
    page = client.get("/customers/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def assert_problem(response, status: int):
    assert response.status_code == status, response.data
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == status and response.json["detail"]


def test_the_lists_cover_the_app():
    assert len(API) >= 20 and len(CONSOLE) >= 10 and API_WRITES and CONSOLE_WRITES


@pytest.mark.parametrize(("endpoint", "method", "url"), CONSOLE)
def test_console_needs_a_login_and_comes_back_after_it(anonymous, endpoint, method, url):
    response = anonymous.open(url, method=method)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [url]


def test_htmx_without_a_login_loads_the_login_page_instead_of_swapping_it_in(anonymous):
    response = anonymous.get("/customers/?q=a", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize(("endpoint", "method", "url"), API)
def test_api_needs_a_token(anonymous, endpoint, method, url):
    response = anonymous.open(url, method=method, json={})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer bcc_wrong", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bcc_no_scheme"):
        assert_problem(anonymous.open(url, method=method, json={}, headers={"Authorization": header}), 401)


def test_a_console_login_does_not_open_the_api(client, anonymous):
    """The API knows callers by token only: a session cookie (which a browser sends by itself) is not enough."""
    with anonymous.session_transaction() as session:
        session["sid"] = client.account.session
    assert anonymous.get("/customers/").status_code == 200
    assert_problem(anonymous.get("/api/v1/customers"), 401)


@pytest.mark.parametrize(("endpoint", "method", "url"), API_WRITES)
def test_a_viewer_token_cannot_write(client_as, endpoint, method, url):
    assert_problem(client_as("viewer").open(url, method=method, json={}), 403)


@pytest.mark.parametrize(("endpoint", "method", "url"), [r for r in API if r.values[1] == "GET"])
def test_a_viewer_token_reads(client_as, endpoint, method, url):
    assert client_as("viewer").get(url).status_code in (200, 404)


@pytest.mark.parametrize(("endpoint", "method", "url"), CONSOLE_WRITES)
def test_a_viewer_cannot_write_in_the_console(client_as, endpoint, method, url):
    viewer = client_as("viewer")
    response = viewer.open(url, method=method, data={"csrf_token": csrf_token(viewer), "name": "x"})
    if endpoint in ("auth.logout", "auth.sessions"):
        assert response.status_code == 303  # anyone logged in may log out, and end their own other sessions
    elif endpoint == "customers.export_list":
        assert response.status_code == 200 and response.mimetype == "text/csv"  # an export changes nothing
    elif endpoint in ("saved_views.save", "saved_views.change", "overview.refresh"):
        # Their own views of the list, and counting the overview again, change no customer.
        assert response.status_code in (303, 404)
    else:
        assert response.status_code == 403
        assert "needs the" in response.text and "<html" in response.text


@pytest.mark.parametrize(("endpoint", "method", "url"), CONSOLE_WRITES)
def test_a_console_write_without_csrf_is_refused(client, endpoint, method, url):
    response = client.open(url, method=method, data={"name": "x"})
    assert response.status_code == 400 and "The form has expired" in response.text


def test_the_login_form_needs_csrf_too(anonymous):
    assert anonymous.post("/login", data={"username": "test-admin", "password": "x"}).status_code == 400


@pytest.mark.parametrize(("endpoint", "method", "url"), [r for r in CONSOLE if r.values[1] == "GET"])
def test_every_console_page_answers_an_admin_without_error(client, endpoint, method, url):
    assert client.get(url).status_code < 500


@pytest.mark.parametrize("url", ["/operators/", "/operators/new", "/tokens/", "/activity/"])
@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_admin_pages_are_for_admins(client_as, url, role):
    assert client_as(role).get(url).status_code == 403


def test_viewers_do_not_get_forms_they_could_not_submit(client, client_as):
    customer_id = client.post("/api/v1/customers", json={"name": "Acme", "key": "acme"}).json["id"]
    for url in ["/customers/new", f"/customers/{customer_id}/edit", f"/customers/{customer_id}/delete"]:
        assert client_as("viewer").get(url).status_code == 403
        assert client_as("editor").get(url).status_code == 200
    assert "Edit</a>" not in client_as("viewer").get(f"/customers/{customer_id}").text


def test_every_console_form_page_needs_the_role_that_may_post_it():
    """A page that shows a form is the form: a viewer is not shown one it could not send."""
    form_pages = {r.values[0] for r in CONSOLE if r.values[1] == "POST"} & {
        r.values[0] for r in CONSOLE if r.values[1] == "GET"
    }
    assert "plans.subscribe" in form_pages
    assert {e: role_needed(e, "GET") for e in form_pages} == {e: role_needed(e, "POST") for e in form_pages}


def test_viewers_are_not_offered_subscription_changes(client, client_as):
    from tests.plans.test_api import make_customer, make_plan

    customer_id = make_customer(client)["id"]
    make_plan(client, key="pro")
    make_plan(client, key="pro_plus")  # Change plan is offered when another plan fits the currency
    subscription = client.post("/api/v1/subscriptions", json={"customerId": customer_id, "plan": {"key": "pro"}})
    assert subscription.status_code == 201, subscription.json
    subscription_id = subscription.json["id"]
    for page in (f"/customers/{customer_id}", f"/subscriptions/{subscription_id}"):
        viewer, editor = client_as("viewer").get(page).text, client_as("editor").get(page).text
        assert "Change plan" in editor and "Cancel subscription" in editor
        assert "Change plan" not in viewer and "Cancel subscription" not in viewer
    assert client_as("viewer").get(f"/customers/{customer_id}/subscribe").status_code == 403


def test_the_nav_shows_only_what_the_role_may_open(client, client_as):
    assert "API tokens" in client.get("/customers/").text
    viewer_page = client_as("viewer").get("/customers/").text
    assert "API tokens" not in viewer_page and "Activity" not in viewer_page and "New customer" not in viewer_page


def test_each_role_does_exactly_what_it_should(client, client_as):
    customer = {"name": "Acme", "key": "acme"}
    profile = client.get("/api/v1/billing/profiles").json["items"][0]
    editor, viewer = client_as("editor"), client_as("viewer")

    assert viewer.post("/api/v1/customers", json=customer).status_code == 403
    assert editor.post("/api/v1/customers", json=customer).status_code == 201
    assert editor.put("/api/v1/customers/acme", json={**customer, "name": "Acme 2"}).status_code == 200
    # Billing profiles and apps are the admins'.
    assert editor.put(f"/api/v1/billing/profiles/{profile['id']}", json=profile).status_code == 403
    assert editor.post("/api/v1/marketplace/listings/custom_invoicing/install").status_code == 403
    assert client.put(f"/api/v1/billing/profiles/{profile['id']}", json=profile).status_code == 200
    assert editor.delete("/api/v1/customers/acme").status_code == 204

    new = {"csrf_token": csrf_token(editor), "name": "Beta", "key": "beta", "action": "save"}
    assert editor.post("/customers/new", data=new).status_code == 303


@pytest.mark.parametrize(
    ("endpoint", "method", "expected"),
    [
        ("customers.index", "GET", "viewer"),
        ("customers.edit", "GET", "editor"),
        ("customers.edit", "POST", "editor"),
        ("customers_api.create_customer", "POST", "editor"),
        ("billing_api.create_profile", "POST", "admin"),
        ("apps_api.install_app", "POST", "admin"),
        ("operators.index", "GET", "admin"),
        ("activity.index", "GET", "admin"),
        ("auth.logout", "POST", "viewer"),
        ("auth.sessions", "POST", "viewer"),
        ("operators.sign_out_everywhere", "POST", "admin"),
        ("some_new_area.write", "POST", "admin"),  # unlisted writes need an admin
    ],
)
def test_the_role_table(endpoint, method, expected):
    assert role_needed(endpoint, method) == expected


def test_a_disabled_operator_is_logged_out_at_once(client, client_as):
    editor = client_as("editor")
    assert editor.get("/customers/").status_code == 200
    from app.auth import rules

    with client.application.app_context():
        rules.update_operator(editor.account.operator_id, active=False)
    assert editor.get("/customers/").status_code == 302


def test_a_revoked_token_is_refused_at_once(client, client_as):
    viewer = client_as("viewer")
    assert viewer.get("/api/v1/customers").status_code == 200
    from app.auth import rules
    from app.auth.models import ApiToken

    with client.application.app_context():
        token = ApiToken.query.filter_by(name="test viewer").one()
        rules.revoke_token(token.id)
    assert_problem(viewer.get("/api/v1/customers"), 401)
