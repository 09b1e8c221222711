"""No input gives a 500, in the API or the console (issue 15).

Every route of the URL map is walked, logged in as an admin: its path variables filled with real ids
and with hostile values, each query parameter it reads set to each hostile value, and (POST, PUT)
hostile JSON bodies or form fields. Nothing may answer 5xx. Then a sample of the known cases, with
their exact status and the field they name.
"""

import base64
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from flask import request
from werkzeug.datastructures import ImmutableMultiDict

from app import create_app
from app.auth import rules as auth_rules
from app.customers import saved_views
from app.customers import export
from app.customers.listing import CustomerFilters
from app.jobs import rules as job_rules
from app.numbers import MAX_PAGE
from tests.conftest import PASSWORD, make_account
from tests.helpers import problem_fields

# --- The catalogue ---------------------------------------------------------------------------


def _cursor(value) -> str:
    """What the customers list takes as `after`: URL-safe base64 of JSON, unpadded."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed id that names nothing
CURSORS = [
    _cursor(["acme", ID, 10**30]),
    _cursor(["acme", ID, -(10**30)]),
    _cursor([[[["acme"]]], ID]),
    _cursor([1.5e308, ID]),
    _cursor(b'[NaN, "x"]'),
    _cursor(["a\u0000", ID]),
    _cursor(["acme", "\u0000"]),
    _cursor(["9999-12-31T23:59:59-14:00", ID]),
    _cursor([None, None, -1.5]),
    _cursor({"a": 1, "b": 2}),
    _cursor("ab"),
    _cursor(b"[" * 5000),
    _cursor(b"\xff\xfe"),
    "!!!not base64",
]

# Text as it arrives in a query string, a path or a form field (bytes: sent as they are).
HOSTILE_TEXT = [
    "99999999999999999999999",
    "1" * 5000,  # past int()'s 4300-digit limit
    "-1",
    "0",
    "1_000",
    "²",  # str.isdigit() says yes, int() says no
    "١",  # an Arabic-Indic one: int() and \d say yes
    "\x00",
    "\x00" * 26,  # as long as an id
    "\r\nX-Injected: 1",
    "x" * 3000,
    'a" OR 1 * : ^(x) %_\\',  # search syntax: FTS5's, LIKE's
    "😀\u202e\u0301",
    "9999-12-31",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1e999",
    "NaN",
    "/\\evil.example",
    b"\xed\xa0\x80",  # a UTF-16 surrogate, encoded: not UTF-8
    b"\xff",
]
# What a form field gets, each in turn (fewer: each post renders a whole page).
FORM_TEXT = [
    "99999999999999999999999",
    "1" * 5000,
    "²",
    "\x00",
    "\r\nX-Injected: 1",
    "x" * 3000,
    "9999-12-31T23:59:59-14:00",
]
# JSON values put in place of each part of a valid body.
HOSTILE_JSON = [
    None,
    True,
    -1,
    10**30,
    "²",
    "P١M",
    "\u0000",
    "\u0000" * 26,
    "\ud800",
    "x" * 3000,
    "9999-12-31T23:59:59-14:00",
    [],
    {},
]
# Whole bodies that are not what any endpoint takes.
HOSTILE_BODIES = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[" * 100_000,
    b"1e999999",
    b"NaN",
    b"null",
    b"[]",
    b"{}",
    b'"x"',
    b"-1",
    b"9" * 5000,
    b'{"name": "\\ud800", "key": "\\u0000"}',
    b'{"name": "a", "name": {"x": [1, 2]}}',
]
RAW_QUERIES = ["page", "=x", "page=1&page=%C2%B2", "%ZZ=%ZZ", "a" * 2000 + "=1"]
HOSTILE_HEADERS = [
    {"HX-Request": "true", "HX-Target": "results", "HX-History-Restore-Request": "x"},
    {"HX-Request": "true", "HX-Target": "\x7f²"},
    {"If-Match": '"²"', "If-None-Match": 'W/"99999999999999999999999"'},
    {"If-Match": '*, \x00, "-1"'},
    {"Content-Type": "application/json; charset=utf-16"},
    {"Accept": "application/json;q=²", "Accept-Language": "x" * 1000},
    {"Host": "x" * 300},  # not a host name: werkzeug's router refuses it
    {"Cookie": "session=" + "A" * 5000 + "; session=\x00"},
    {"Authorization": "Bearer om_\x00²"},
]


def _quote(value: str | bytes) -> str:
    return quote(value, safe="")


# --- The routes -------------------------------------------------------------------------------

_MAP_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
# Each path of the URL map, with the endpoint of each method it takes.
ROUTES: dict[str, dict[str, str]] = {}
for _rule in _MAP_APP.url_map.iter_rules():
    for _method in _rule.methods - {"HEAD", "OPTIONS"}:
        ROUTES.setdefault(_rule.rule, {})[_method] = _rule.endpoint
# A console page that holds the form a POST-only route takes.
FORM_PAGE = {
    "customers.save_app_data": "/customers/{customer_id}",
    "billing.make_default": "/billing/profiles/",
    "tokens.revoke": "/tokens/",
    "auth.logout": "/customers/",
}


@pytest.fixture
def world(client) -> dict:
    """One of everything, for the real values of path variables and bodies."""

    def made(response):
        assert response.status_code in (200, 201), response.data
        return response.json

    stripe = made(
        client.post(
            "/api/v1/marketplace/listings/stripe/install/apikey",
            json={"apiKey": "sk_test_" + "a" * 24, "createBillingProfile": False},
        )
    )["app"]
    customer = made(
        client.post(
            "/api/v1/customers",
            json={"name": "Acme", "key": "acme", "currency": "USD", "usageAttribution": {"subjectKeys": ["acme-1"]}},
        )
    )
    plan = made(client.post("/api/v1/plans", json=PLAN))
    made(client.post("/api/v1/plans", json=PLAN | {"key": "pro_yearly", "billingCadence": "P1Y"}))
    subscription = made(
        client.post("/api/v1/subscriptions", json={"customerId": customer["id"], "plan": {"key": "pro"}})
    )
    sandbox = next(a for a in client.get("/api/v1/apps").json["items"] if a["type"] == "sandbox")
    profile = made(client.post("/api/v1/billing/profiles", json=profile_body(stripe["id"]) | {"name": "Second"}))
    made(client.put(f"/api/v1/billing/customers/{customer['id']}", json={"billingProfileId": profile["id"]}))
    made(client.put(f"/api/v1/customers/{customer['id']}/stripe", json={"stripeCustomerId": "cus_acme"}))
    app = client.application
    viewer = make_account(app, "viewer")
    with app.app_context():
        token_id = next(t.id for t in auth_rules.list_tokens() if t.name == "test viewer")
        everyone = export.to_params(export.Export(CustomerFilters()), "csv")
        job_id = job_rules.start("export", "Export", app.accounts["admin"].operator_id, everyone).id
        view_id = saved_views.save(app.accounts["admin"].operator_id, "admin", "EUR", "currency=EUR", True, True).id
    return {
        "job_id": job_id,
        "view_id": view_id,
        "customer": customer,
        "plan": plan,
        "subscription": subscription,
        "profile": profile,
        "stripe": stripe,
        "sandbox": sandbox,
        "operator_id": viewer.operator_id,
        "token_id": token_id,
    }


PLAN = {
    "key": "pro",
    "name": "Pro",
    "currency": "USD",
    "billingCadence": "P1M",
    "price": {"type": "flat", "amount": "10.00"},
}


def profile_body(app_id: str) -> dict:
    return {
        "name": "EU",
        "description": "d",
        "metadata": {"k": "v"},
        "default": False,
        "supplier": {
            "name": "Acme Kft.",
            "taxId": {"code": "HU1"},
            "addresses": [{"country": "HU", "city": "Budapest", "postalCode": "1051", "line1": "x"}],
        },
        "workflow": {
            "collection": {
                "alignment": {
                    "type": "anchored",
                    "recurringPeriod": {"interval": "P1M", "anchor": "2025-01-01T00:00:00Z"},
                },
                "interval": "PT2H",
            },
            "invoicing": {
                "autoAdvance": False,
                "draftPeriod": "P1D",
                "dueAfter": "P14D",
                "progressiveBilling": False,
                "defaultTaxConfig": {"behavior": "inclusive"},
            },
            "payment": {"collectionMethod": "send_invoice"},
            "tax": {"enabled": True, "enforced": True},
        },
        "apps": {"tax": app_id, "invoicing": app_id, "payment": app_id},
    }


def real_value(endpoint: str, variable: str, world: dict) -> str:
    """A real value for a path variable; a new route's variable must be added here."""
    values = {
        "customer_id_or_key": world["customer"]["id"],
        "customer_id": world["customer"]["id"],
        "plan_id_or_key": world["plan"]["id"],
        "plan_id": world["plan"]["id"],
        "subscription_id": world["subscription"]["id"],
        "app_id": world["stripe"]["id"],
        "type": "stripe",
        "app_type": "stripe",
        "profile_id": world["profile"]["id"],
        "operator_id": world["operator_id"],
        "token_id": world["token_id"],
        "job_id": world["job_id"],
        "view_id": world["view_id"],
        "filename": "css/app.css",
        "id": world["profile"]["id"] if endpoint.startswith("billing_api.") else world["stripe"]["id"],
    }
    assert variable in values, f"tests/test_hostile_input.py: give <{variable}> of {endpoint} a real value"
    return values[variable]


def json_template(endpoint: str, world: dict):
    """A valid body for each JSON write; a new one must be added here."""
    customer_body = {
        "name": "Acme",
        "key": "acme",
        "description": "d",
        "primaryEmail": "a@example.com",
        "currency": "USD",
        "billingAddress": {"country": "DE", "city": "Berlin", "postalCode": "10115", "line1": "x", "phoneNumber": "1"},
        "usageAttribution": {"subjectKeys": ["acme-1"]},
        "metadata": {"k": "v"},
    }
    templates = {
        "customers_api.create_customer": customer_body | {"key": "acme2", "usageAttribution": {"subjectKeys": []}},
        "customers_api.replace_customer": customer_body,
        "plans_api.create_plan": PLAN | {"key": "basic", "description": "d"},
        "plans_api.replace_plan": PLAN | {"description": "d"},
        "plans_api.create_subscription": {
            "customerId": world["customer"]["id"],
            "customerKey": "acme",
            "plan": {"key": "pro"},
            "timing": "immediate",
        },
        "plans_api.change_subscription": {"plan": {"key": "pro_yearly"}, "timing": "immediate"},
        "plans_api.cancel_subscription": {"timing": "immediate"},
        "apps_api.replace_app": {
            "type": "stripe",
            "name": "Stripe",
            "description": "d",
            "metadata": {"k": "v"},
            "secretAPIKey": "sk_test_" + "b" * 24,
            "enableDraftSyncHook": True,
            "enableIssuingSyncHook": False,
        },
        "apps_api.install_app": {"name": "Mine", "createBillingProfile": False},
        "apps_api.install_app_with_api_key": {
            "name": "Mine",
            "apiKey": "sk_test_" + "c" * 24,
            "createBillingProfile": False,
        },
        "billing_api.create_profile": profile_body(world["sandbox"]["id"]),
        "billing_api.replace_profile": profile_body(world["sandbox"]["id"]),
        "billing_api.upsert_override": {"billingProfileId": world["profile"]["id"]},
        "apps_api.upsert_customer_apps": [
            {
                "type": "stripe",
                "id": world["stripe"]["id"],
                "stripeCustomerId": "cus_x",
                "stripeDefaultPaymentMethodId": "pm_x",
            },
            {"type": "custom_invoicing", "metadata": {"k": "v"}},
        ],
        "apps_api.upsert_customer_stripe": {"stripeCustomerId": "cus_x", "stripeDefaultPaymentMethodId": "pm_x"},
    }
    assert endpoint in templates, f"tests/test_hostile_input.py: give {endpoint} a valid JSON body"
    return templates[endpoint]


def mutations(body):
    """`body` with each of its parts (and itself) replaced in turn by each hostile JSON value."""
    yield from HOSTILE_JSON
    items = body.items() if isinstance(body, dict) else enumerate(body) if isinstance(body, list) else []
    for key, value in items:
        for changed in mutations(value):
            copy = dict(body) if isinstance(body, dict) else list(body)
            copy[key] = changed
            yield copy


class _FormValues(HTMLParser):
    """The (name, value) pairs a browser would post from a page's forms: enough for a valid baseline."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "checkbox", "radio", "button"):
            self.values.setdefault(name, a.get("value") or "")
        elif tag == "input" and name and "checked" in a:
            self.values.setdefault(name, a.get("value") or "y")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, "")
        elif tag == "button" and name and a.get("value"):
            self.values.setdefault(name, a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(html: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


class _RecordingArgs(ImmutableMultiDict):
    """request.args that notes which names a view asks for."""

    asked: set[str] = set()

    def get(self, key, *args, **kwargs):
        self.asked.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        self.asked.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


# Query parameters sent with the hostile one, so that it gets as far as it can (a cursor is only read
# for a page after the first; the check of a key also reads whose key it is).
BASE_QUERY = {
    "customers.index": {"page": "2", "sort": "created"},
    "customers.lookup": {"page": "2", "key": "nobody"},
    "customers.check": {"key": "fresh"},
}
# Query parameters that a view reads only once another is set (so asking it once finds them not).
ALSO_READ = {"customers.check": ["subject_keys-0"]}


def parameters_read(app, client, url: str, endpoint: str) -> set[str]:
    """The query parameters a GET of `url` reads."""

    def record():
        request.args = _RecordingArgs(request.args)

    asked: set[str] = set()
    _RecordingArgs.asked = asked
    app.before_request_funcs.setdefault(None, []).insert(0, record)
    try:
        client.get(url)
    finally:
        app.before_request_funcs[None].remove(record)
    return (asked | set(ALSO_READ.get(endpoint, []))) - {"csrf_token"}


def fill(rule: str, values: dict[str, str]) -> str:
    path = rule
    for variable, value in values.items():
        path = path.replace(f"<{variable}>", value).replace(f"<path:{variable}>", value)
    return path


def variables(rule: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", rule)


# --- The walk ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(ROUTES))
def test_no_input_gives_a_500(app, client, world, caplog, rule):
    endpoints = ROUTES[rule]
    methods = sorted(endpoints, key=["GET", "POST", "PUT", "DELETE"].index)  # DELETE last: it may succeed
    failures = []
    baseline: dict[str, str] = {}  # a console form's fields as its page fills them

    def send(method: str, url: str, **kwargs):
        caplog.clear()
        response = client.open(url, method=method, **kwargs)
        if response.status_code >= 500:
            data = kwargs.pop("data", None)
            if isinstance(data, dict):
                kwargs["changed"] = {k: v[:60] for k, v in data.items() if v != baseline.get(k)}
            elif data is not None:
                kwargs["data"] = data[:300]
            # The app logs the exception behind a 500 (app/__init__.py, handle_unexpected).
            logged = [r.exc_info[1] for r in caplog.records if r.exc_info]
            failures.append(f"{method} {url[:200]} {kwargs} -> {response.status_code} {logged!r:.300}")
        return response

    names = variables(rule)
    real = {name: real_value(next(iter(endpoints.values())), name, world) for name in names}
    # Each path variable hostile in turn, the others real.
    for name in names:
        for value in HOSTILE_TEXT:
            for method in methods:
                send(method, fill(rule, real | {name: _quote(value)}))

    url = fill(rule, real)
    if "GET" in endpoints:
        base = BASE_QUERY.get(endpoints["GET"], {})
        query = "".join(f"&{k}={v}" for k, v in base.items())
        for parameter in sorted(parameters_read(app, client, f"{url}?{query}", endpoints["GET"])):
            others = "".join(f"&{k}={v}" for k, v in base.items() if k != parameter)
            for value in HOSTILE_TEXT + (CURSORS if parameter == "after" else []):
                send("GET", f"{url}?{_quote(parameter)}={_quote(value)}{others}")
        for raw in RAW_QUERIES:
            send("GET", f"{url}?{raw}")
        for headers in HOSTILE_HEADERS:
            send("GET", url, headers=headers)

    for method in (m for m in methods if m in ("POST", "PUT") and rule.startswith("/api/")):
        for body in HOSTILE_BODIES:
            send(method, url, data=body, content_type="application/json")
        send(method, url, data={"a": "b"})  # a form, not JSON
        for body in mutations(json_template(endpoints[method], world)):
            send(method, url, data=json.dumps(body), content_type="application/json")

    if "POST" in endpoints and not rule.startswith("/api/"):  # a console form
        page = FORM_PAGE.get(endpoints["POST"], url).format(customer_id=world["customer"]["id"])
        baseline.update(form_values(client.get(page).text))
        for field in [*baseline, "action", "version"]:
            if field == "csrf_token":
                continue
            for value in FORM_TEXT:
                send("POST", url, data=baseline | {field: value})
        send("POST", url, data=baseline, headers={"HX-Request": "true", "HX-Target": "x"})

    for method in ("HEAD", "OPTIONS", "PATCH"):
        send(method, url)
    if "DELETE" in endpoints:
        for headers in HOSTILE_HEADERS:
            send("DELETE", url, headers=headers)
        send("DELETE", url)

    assert not failures, f"{len(failures)} answers were 5xx:\n" + "\n".join(failures[:40])


# --- The known cases: the exact answer, naming the field ---------------------------------------


LISTS = [
    "/api/v1/customers",
    "/api/v1/plans",
    "/api/v1/customers/acme/subscriptions",
    "/api/v1/customers/acme/apps",
    "/api/v1/billing/profiles",
    "/api/v1/billing/customers",
    "/api/v1/apps",
    "/api/v1/marketplace/listings",
]


def test_a_page_out_of_bounds_or_not_in_ascii_digits_is_400(client, world):
    bad = [
        ("page=99999999999999999999999", "page"),
        (f"page={MAX_PAGE + 1}", "page"),
        ("page=%C2%B2", "page"),  # ²
        ("page=%D9%A1", "page"),  # ١
        ("page=1_0", "page"),
        ("page=%201", "page"),
        ("pageSize=%D9%A1", "pageSize"),
        ("pageSize=" + "1" * 5000, "pageSize"),
    ]
    for url in LISTS:
        for query, field in bad:
            response = client.get(f"{url}?{query}")
            assert response.status_code == 400 and problem_fields(response) == {field: "out_of_range"}, (url, query)
        assert client.get(f"{url}?page={MAX_PAGE}").status_code == 200, url


def test_every_page_parameter_states_its_bound(client):
    document = client.get("/api/v1/openapi.json").json
    pages = [
        (path, p["schema"])
        for path, item in document["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
        if p.get("name") == "page"
    ]
    assert len(pages) >= 8 and all(schema["maximum"] == MAX_PAGE for _, schema in pages), pages


def test_a_control_character_in_a_billing_customers_filter_is_400_naming_it(client, world):
    for parameter in ("customerId", "billingProfile", "customerName", "customerKey", "customerPrimaryEmail"):
        response = client.get(f"/api/v1/billing/customers?{parameter}=a%00")
        assert response.status_code == 400 and problem_fields(response) == {parameter: "invalid_characters"}


def test_a_control_character_in_a_customers_filter_is_400_naming_it(client, world):
    """As on every list, and as the document states (no stored value holds one)."""
    for parameter in ("key", "name", "primaryEmail", "subject", "planKey", "billingProfile"):
        response = client.get(f"/api/v1/customers?{parameter}=%00")
        assert response.status_code == 400 and response.json["extensions"]["validationErrors"][0]["field"] == parameter


ANCHOR = "workflow.collection.alignment.recurringPeriod.anchor"


def test_an_anchor_outside_the_years_a_date_can_have_is_400_naming_it(client, world):
    for anchor in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "٢٠٢٥-01-01T00:00:00Z"):
        body = profile_body(world["sandbox"]["id"])
        body["workflow"]["collection"]["alignment"]["recurringPeriod"]["anchor"] = anchor
        for response in (
            client.post("/api/v1/billing/profiles", json=body),
            client.put(f"/api/v1/billing/profiles/{world['profile']['id']}", json=body | {"apps": None}),
        ):
            assert response.status_code == 400 and problem_fields(response) == {ANCHOR: "invalid"}, anchor


@pytest.mark.parametrize(
    "change,field,code",
    [
        ({"billingCadence": "P١M"}, "billingCadence", "invalid_cadence"),
        ({"billingCadence": "P²M"}, "billingCadence", "invalid_cadence"),
        ({"price": {"type": "flat", "amount": "١٠.٠٠"}}, "price.amount", "invalid_amount"),
        ({"price": {"type": "flat", "amount": "0" * 5000 + "1"}}, "price.amount", "invalid_amount"),
    ],
)
def test_plan_numbers_take_ascii_digits_only(client, change, field, code):
    response = client.post("/api/v1/plans", json=PLAN | change)
    assert response.status_code == 400 and problem_fields(response) == {field: code}


def _chunked(client, url: str, body: bytes):
    # What a server that reads chunked bodies itself (gunicorn, werkzeug's) hands the app: no length.
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413_not_a_cut_body(client):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = _chunked(client, "/api/v1/customers", body)
    assert response.status_code == 413 and response.content_type == "application/problem+json"
    assert _chunked(client, "/api/v1/customers", b'{"name": "Small", "key": "small"}').status_code == 201


@pytest.mark.parametrize("suffix", ["/apps", "/stripe", "/subscriptions", "/apps/" + ID])
def test_a_key_ending_like_a_sub_resource_is_reached_by_key(client, suffix):
    key = "x" + suffix  # no customer has the key "x": the path can only name this one
    assert client.post("/api/v1/customers", json={"name": "Slashed", "key": key}).status_code == 201
    got = client.get(f"/api/v1/customers/{key}")
    assert got.status_code == 200 and got.json["key"] == key
    replaced = client.put(f"/api/v1/customers/{key}", json={"name": "Renamed", "key": key})
    assert replaced.status_code == 200 and replaced.json["name"] == "Renamed"
    assert client.delete(f"/api/v1/customers/{key}").status_code == 204
    assert client.get(f"/api/v1/customers/{key}").status_code == 404


def test_a_plain_key_keeps_its_sub_resources(client):
    """Customer "a" and customer "a/apps": /customers/a/apps is the apps of "a"."""
    plain = client.post("/api/v1/customers", json={"name": "Plain", "key": "a"}).json
    for suffix in ("/apps", "/subscriptions"):
        slashed = client.post("/api/v1/customers", json={"name": "Slashed", "key": "a" + suffix}).json
        assert client.get(f"/api/v1/customers/a{suffix}").json["items"] == []
        assert client.get(f"/api/v1/customers/{slashed['id']}").json["key"] == "a" + suffix
    assert client.get(f"/api/v1/customers/{plain['id']}/apps").json["items"] == []


# --- The console ---


def test_a_huge_page_of_the_customer_list_shows_the_last_page(client, world):
    response = client.get("/customers/?page=999999999999")
    assert response.status_code == 303 and response.headers["Location"] == "/customers/"
    # A key no one has: the lookup says so, with the search's (empty) results, whatever the page.
    assert client.get("/customers/lookup?page=999999999999&key=x").status_code == 404
    for page in ("99999999999999999999", "%C2%B2", "%D9%A1", "-1"):  # not a page number: the first page
        response = client.get(f"/customers/?page={page}")
        assert response.status_code == 200 and "Acme" in response.text


def test_a_crafted_cursor_is_ignored(client, world):
    for sort in ("name", "-name", "created", "-created", "key"):
        for after in CURSORS:
            # A cursor is a position in the list: a well-formed one is followed, any other is not.
            response = client.get(f"/customers/?page=2&size=20&sort={sort}&after={_quote(after)}")
            assert response.status_code in (200, 303), (sort, after)


def test_the_activity_page_takes_any_filter(client, world):
    for query in ("page=%C2%B2", "page=99999999999999999999", "until=9999-12-31", "since=0001-01-01"):
        response = client.get(f"/activity/?{query}")
        assert response.status_code == 200 and "Activity" in response.text, query
    response = client.get("/activity/?since=%D9%A2%D9%A0%D9%A2%D9%A5-01-01")  # ٢٠٢٥: not ASCII digits
    assert response.status_code == 200 and "is not a date like 2025-01-31" in response.text


def _form(client, url: str) -> dict:
    return form_values(client.get(url).text)


def test_a_duration_in_other_digits_is_refused_beside_its_field(client, world):
    url = f"/billing/profiles/{world['profile']['id']}/edit"
    for value in ("²", "١", "99999999999999999999", "-1"):
        response = client.post(url, data=_form(client, url) | {"due_after_amount": value})
        assert response.status_code == 422 and 'id="due_after_amount-error"' in response.text, value


def test_a_version_in_other_digits_is_refused(client, world):
    for url in (f"/plans/{world['plan']['id']}/edit", f"/billing/profiles/{world['profile']['id']}/edit"):
        response = client.post(url, data=_form(client, url) | {"version": "²"})
        assert response.status_code == 400 and "version" in response.text, url


def test_an_anchor_past_year_9999_is_refused_beside_its_field(client, world):
    url = f"/billing/profiles/{world['profile']['id']}/edit"
    response = client.post(url, data=_form(client, url) | {"period_anchor": "9999-12-31T23:59:59-14:00"})
    assert response.status_code == 422 and 'id="period_anchor-error"' in response.text


def test_a_row_button_with_a_huge_index_changes_nothing(client, world):
    url = f"/customers/{world['customer']['id']}/edit"
    response = client.post(url, data=_form(client, url) | {"action": "remove_subject-" + "1" * 5000})
    assert response.status_code in (200, 303)


def test_an_unsafe_next_after_login_goes_to_the_default_page(anonymous):
    for target in ("/%0D%0ASet-Cookie:%20x=1", "/%09/evil.example", "/customers/%00"):
        token = form_values(anonymous.get(f"/login?next={target}").text)["csrf_token"]
        credentials = {"csrf_token": token, "username": "test-admin", "password": PASSWORD}
        response = anonymous.post(f"/login?next={target}", data=credentials)
        assert response.status_code == 303 and response.headers["Location"] == "/", target


def test_a_host_that_is_no_host_name_is_400(client):
    page = client.get("/customers/", headers={"Host": "x" * 300})
    assert page.status_code == 400 and "Host header" in page.text
    api = client.get("/api/v1/customers", headers={"Host": "x" * 300})
    assert api.status_code == 400 and api.content_type == "application/problem+json"
