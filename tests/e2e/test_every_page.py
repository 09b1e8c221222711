"""Every console page, at a desk (1440×900) and on a phone (390×844), in the light and the dark theme.

On each page (and after each htmx swap walked here) nothing scrolls sideways, axe finds no violation
(colour contrast included) and the browser logs no error (a Content-Security-Policy refusal is one).
Each page leaves a screenshot, test-results/pages/<page>-<width>-<theme>.png, for a person to look at.

One browser context per size and theme walks all the pages over the same data, so the walk stays
quick; it reports every problem it met, not only the first. When a page is added to the console, add
it to `visits` below (test_every_console_page_is_walked fails until then).
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from ulid import ULID

from app.apps import rules as app_rules
from app.auth import rules as auth_rules
from app.billing import rules as billing_rules
from app.common import Address
from app.customers import lifecycle, saved_views
from app.customers import rules as customer_rules
from app.customers.bulk import BulkChange, Selection
from app.customers.listing import CustomerFilters
from app.customers.rules import CustomerInput
from app.extensions import db, utcnow
from app.jobs import rules as job_rules
from app.jobs import runner
from app.jobs.models import Job
from app.plans import rules as plan_rules
from app.plans.rules import PlanInput
from tests.conftest import make_account
from tests.e2e.conftest import session_cookie

# PAGE_SCREENSHOTS=/some/folder keeps them elsewhere (pytest-playwright empties test-results/ as a run starts).
SCREENSHOTS = Path(os.environ.get("PAGE_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-results" / "pages")
SIZES = {1440: {"width": 1440, "height": 900}, 390: {"width": 390, "height": 844}}
BACKGROUND = {"light": "rgb(255, 255, 255)", "dark": "rgb(17, 24, 39)"}  # --bg in console.css
STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ"

_axe = Axe()


@dataclass(frozen=True)
class Visit:
    name: str  # of the screenshot
    path: str
    status: int = 200
    then: Callable[[Page], None] | None = None  # what the operator does there (an htmx swap, say)
    who: str = "admin"  # "anonymous", "admin" or "viewer"


@dataclass(frozen=True)
class Site:
    customer: str  # subscribed, with metadata, subjects, an address and app data
    unsubscribed: str
    deleted: str
    plan: str
    subscription: str
    profile: str  # not the default
    app: str  # Custom Invoicing
    operator: str  # the admin
    token: str
    job: str  # finished, with its file
    import_check: str  # a check that found errors, and a column to map
    import_done: str  # an import that wrote customers
    bulk_preview: str  # a bulk change's preview, with a customer it cannot change
    bulk_done: str  # a bulk change that was made


@pytest.fixture
def site(app) -> Site:
    """Data that makes every page show what it can: tables, history, app editors, a deleted customer."""
    with app.app_context():
        app_rules.install("stripe", "Stripe EU", STRIPE_KEY)  # its profile becomes the default
        custom, _ = app_rules.install("custom_invoicing", "Invoicer")
        profile = next(p for p in billing_rules.live_profiles() if p.app_id == custom.id).id
        plan = plan_rules.create_plan(
            PlanInput(name="Pro", key="pro_eur", currency="EUR", amount="49.00", billing_cadence="P1M")
        )
        plan_rules.create_plan(
            PlanInput(name="Team", key="team_eur", currency="EUR", amount="199.00", billing_cadence="P1Y")
        )
        customer = customer_rules.create(
            CustomerInput(
                name="Acme Corporation",
                key="acme",
                primary_email="billing@acme.example",
                currency="EUR",
                description="Our first customer, with a description long enough to wrap on a phone screen.",
                billing_address=Address(country="HU", city="Budapest", postal_code="1051", line1="Nádor utca 7"),
                subject_keys=["acme-api", "acme-batch", "acme-web", "acme-mobile-app-with-a-long-subject-key"],
                metadata={"segment": "enterprise", "account_manager": "Ilona Kovács"},
            )
        ).id
        first = plan_rules.subscribe("team_eur", customer_id=customer)
        _, subscription = plan_rules.change_plan(first.id, "pro_eur")
        unsubscribed = customer_rules.create(CustomerInput(name="Globex", key="globex", currency="EUR")).id
        deleted = customer_rules.create(CustomerInput(name="Initech", key="initech", subject_keys=["initech-1"])).id
        lifecycle.delete(deleted)
        for n in range(3):
            customer_rules.create(CustomerInput(name=f"Customer {n}", key=f"customer-{n}", currency="USD"))
        token, _ = auth_rules.create_token("Nightly export", "viewer")
        admin = app.accounts["admin"].operator_id
        job = Job(
            id=str(ULID()),
            kind="export",
            title="Export of 5 customers",
            operator_id=admin,
            params={},
            status="succeeded",
            done=5,
            total=5,
            created_at=utcnow(),
            finished_at=utcnow(),
            file_name="customers.csv",
            file_type="text/csv",
            file_size=420,
        )
        db.session.add(job)
        db.session.commit()
        import_check, import_done = _imports(admin)
        for name, query, shared in (
            ("EUR customers", "currency=EUR", True),
            ("Key accounts", "tag=key-account", False),
        ):
            saved_views.save(admin, "test-admin", name, query, shared=shared, pinned=True)
        bulk_preview, bulk_done = _bulk_changes(admin)
        ids = Site(
            customer,
            unsubscribed,
            deleted,
            plan.id,
            subscription.id,
            profile,
            custom.id,
            admin,
            token.id,
            job.id,
            import_check,
            import_done,
            bulk_preview,
            bulk_done,
        )
    app.accounts["viewer"] = make_account(app, "viewer")
    return ids


def _imports(operator_id: str) -> tuple[str, str]:
    """A check of a file with errors and a column of no field, and an import that wrote customers."""
    bad = b"key,name,email,Region\nnew-1,Initrode,not-an-email,EMEA\nacme,Acme Corporation,,EMEA\n"
    check = job_rules.start("import_check", "Check of crm.csv", operator_id, {"fileName": "crm.csv"}, [bad], False)
    runner.run(check.id)
    good = b"key,name,currency\nimported-1,Imported One,EUR\nimported-2,Imported Two,EUR\n"
    ok = job_rules.start("import_check", "Check of good.csv", operator_id, {"fileName": "good.csv"}, [good], False)
    runner.run(ok.id)
    ok = db.session.get(Job, ok.id)
    params = {"file": ok.id, "fileName": "good.csv", "mapping": ok.result["mapping"], "rows": ok.result["rows"]}
    done = job_rules.start("import", "Import of good.csv", operator_id, params, queue=False)
    runner.run(done.id)
    return check.id, done.id


def _bulk_changes(operator_id: str) -> tuple[str, str]:
    """A preview of deleting every customer (the subscribed one refuses), and a tag added to all."""
    everyone = Selection(CustomerFilters()).to_json()
    count = Selection(CustomerFilters()).count()
    delete = {"change": BulkChange("delete").to_json(), "selection": everyone, "expected": count}
    preview = job_rules.start(
        "bulk_preview", f"Preview: Delete them ({count} customers)", operator_id, delete, queue=False
    )
    runner.run(preview.id)
    tag = {"change": BulkChange("tag_add", tag="key-account").to_json(), "selection": everyone, "expected": count}
    tag["reason"] = "Accounts Ilona manages"
    done = job_rules.start("bulk", f"Add the tag key-account ({count} customers)", operator_id, tag, queue=False)
    runner.run(done.id)
    return preview.id, done.id


def show_weekly_table(page: Page) -> None:
    page.get_by_text("Show as a table").click()
    expect(page.get_by_role("region", name="New customers per week, as a table")).to_be_visible()


def search_customers(page: Page) -> None:
    with page.expect_response(re.compile(r"/customers/\?.*q=acme")):
        page.get_by_label("Search", exact=True).fill("acme")
    expect(page.locator("#results")).to_contain_text("Acme Corporation")


def sort_customers(page: Page) -> None:
    with page.expect_response(re.compile(r"/customers/\?.*sort=key")):
        page.locator("#results").get_by_role("link", name="Key").click()


def add_subject_row(page: Page) -> None:
    rows = page.locator("#subjects-fieldset .row")
    before = rows.count()
    page.get_by_role("button", name="Add a subject key").click()
    expect(rows).to_have_count(before + 1)


def remove_subject_row(page: Page) -> None:
    rows = page.locator("#subjects-fieldset .row")
    before = rows.count()
    page.get_by_role("button", name="Remove subject key 1").click()
    expect(rows).to_have_count(before - 1)


def check_key(page: Page) -> None:
    with page.expect_response(re.compile(r"/customers/check\?")):
        page.get_by_label("Key", exact=True).fill("acme")
    expect(page.locator("#key-check")).not_to_be_empty()


def add_app_metadata_row(page: Page) -> None:
    section = page.locator("section.app-data").filter(has_text="Invoicer")
    rows = section.locator(".row")
    before = rows.count()
    section.get_by_role("button", name="Add a metadata row").click()
    expect(rows).to_have_count(before + 1)


def filter_activity(page: Page) -> None:
    with page.expect_response(re.compile(r"/activity/\?.*type=customer")):
        page.get_by_label("What").select_option("customer")


def visits(site: Site) -> list[Visit]:
    c, s = site.customer, site.subscription
    return [
        Visit("login", "/login", who="anonymous"),
        Visit("overview", "/overview/"),
        Visit("overview-as-a-table", "/overview/", then=show_weekly_table),
        Visit("overview-viewer", "/overview/", who="viewer"),
        Visit("customers", "/customers/"),
        Visit("customers-search", "/customers/", then=search_customers),
        Visit("customers-sorted", "/customers/", then=sort_customers),
        Visit("customers-deleted", "/customers/?deleted=1&size=10"),
        Visit("customers-none-found", "/customers/?q=nobody-has-this"),
        Visit("customers-lookup-missed", "/customers/lookup?key=nobody", status=404),
        Visit("customers-export", "/customers/export?currency=EUR"),
        Visit("customer-new", "/customers/new"),
        Visit("customer-new-subject-row", "/customers/new", then=add_subject_row),
        Visit("customer", f"/customers/{c}"),
        Visit("customer-app-metadata-row", f"/customers/{c}", then=add_app_metadata_row),
        Visit("customer-unsubscribed", f"/customers/{site.unsubscribed}"),
        Visit("customer-deleted", f"/customers/{site.deleted}"),
        Visit("customer-new-key-taken", "/customers/new", then=check_key),
        Visit("customer-edit", f"/customers/{c}/edit"),
        Visit("customer-edit-subject-removed", f"/customers/{c}/edit", then=remove_subject_row),
        Visit("customer-delete", f"/customers/{c}/delete"),
        Visit("customer-delete-unsubscribed", f"/customers/{site.unsubscribed}/delete"),
        Visit("subscribe", f"/customers/{site.unsubscribed}/subscribe"),
        Visit("subscription", f"/subscriptions/{s}"),
        Visit("subscription-change", f"/subscriptions/{s}/change"),
        Visit("subscription-cancel", f"/subscriptions/{s}/cancel"),
        Visit("plans", "/plans/"),
        Visit("plan-new", "/plans/new"),
        Visit("plan", f"/plans/{site.plan}"),
        Visit("plan-edit", f"/plans/{site.plan}/edit"),
        Visit("plan-delete", f"/plans/{site.plan}/delete"),
        Visit("billing-profiles", "/billing/profiles/"),
        Visit("billing-profile-new", "/billing/profiles/new"),
        Visit("billing-profile-edit", f"/billing/profiles/{site.profile}/edit"),
        Visit("billing-profile-delete", f"/billing/profiles/{site.profile}/delete"),
        Visit("billing-profile-make-default", f"/billing/profiles/{site.profile}/default"),
        Visit("apps", "/apps/"),
        Visit("app-install-stripe", "/apps/install/stripe"),
        Visit("app-install-custom", "/apps/install/custom_invoicing"),
        Visit("app-install-sandbox", "/apps/install/sandbox"),
        Visit("app-edit", f"/apps/{site.app}/edit"),
        Visit("app-uninstall", f"/apps/{site.app}/uninstall"),
        Visit("activity", "/activity/"),
        Visit("activity-filtered", "/activity/", then=filter_activity),
        Visit("operators", "/operators/"),
        Visit("operator-new", "/operators/new"),
        Visit("operator", f"/operators/{site.operator}"),
        Visit("tokens", "/tokens/"),
        Visit("token-revoke", f"/tokens/{site.token}/revoke"),
        Visit("jobs", "/jobs/"),
        Visit("job", f"/jobs/{site.job}"),
        Visit("import", "/customers/import/"),
        Visit("import-check-errors", f"/customers/import/{site.import_check}"),
        Visit("import-done", f"/customers/import/{site.import_done}"),
        Visit("activity-of-an-import", f"/activity/?job={site.import_done}"),
        Visit("bulk", "/customers/bulk/?scope=all&currency=EUR"),
        Visit("bulk-preview", f"/customers/bulk/{site.bulk_preview}"),
        Visit("bulk-done", f"/customers/bulk/{site.bulk_done}"),
        Visit("customers-more-filters", "/customers/?tag=key-account&country=HU&stripe=without"),
        Visit("customers-columns", "/customers/?cols=id,tags,country,stripe,updated&meta_cols=segment"),
        Visit("saved-views", "/customers/views/"),
        Visit("customers-needing-attention", "/customers/?attention=no_address"),
        Visit("sessions", "/account/sessions"),
        Visit("error-404", "/customers/no-such-customer", status=404),
        Visit("error-403", "/operators/", status=403, who="viewer"),
    ]


# Endpoints walked through a page rather than on their own: POST-only actions, htmx helpers, the
# redirecting root and lookup (walked with its "not found" answer above).
NOT_PAGES = {
    "static",
    "root",
    "auth.logout",
    "customers.check",
    "customers.save_app_data",
    "operators.sign_out_everywhere",
    "jobs.download",
}


def test_every_console_page_is_walked(app):
    """The walk below covers every page of the console's URL map."""
    walked = {visit.path for visit in visits(Site(*["ID"] * len(fields(Site))))}
    adapter = app.url_map.bind("localhost")
    walked_endpoints = {adapter.match(re.sub(r"\?.*", "", path).replace("ID", "x"))[0] for path in walked}
    console = {r.endpoint for r in app.url_map.iter_rules() if not r.rule.startswith("/api/") and "GET" in r.methods}
    assert console - NOT_PAGES - walked_endpoints == set()


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", list(SIZES))
def test_every_page_fits_is_accessible_and_logs_no_error(app, live_server, browser, site, width, theme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    cookies = {role: session_cookie(app, live_server, app.accounts[role].operator_id) for role in ("admin", "viewer")}
    context = browser.new_context(viewport=SIZES[width], color_scheme=theme)
    # Chromium logs Content-Security-Policy refusals itself; this says which directive and what.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "`CSP refused (${e.violatedDirective}): ${e.sample || e.blockedURI} in ${e.sourceFile}:${e.lineNumber}`))"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: logged.append(f"Uncaught: {error}"))
    problems: list[str] = []
    who = "anonymous"
    try:
        for visit in visits(site):
            if visit.who != who:
                context.clear_cookies()
                if visit.who != "anonymous":
                    context.add_cookies([cookies[visit.who]])
                who = visit.who
            logged.clear()
            response = page.goto(live_server + visit.path)
            if response.status != visit.status:
                problems.append(f"{visit.name}: HTTP {response.status}, expected {visit.status}")
            if visit.then:
                visit.then(page)
            problems += [f"{visit.name}: {p}" for p in check(page, visit, theme, logged)]
            page.screenshot(path=SCREENSHOTS / f"{visit.name}-{width}-{theme}.png", full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# The outermost elements that stick out of the window on the right: what makes a page scroll sideways.
TOO_WIDE = """(() => {
  const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement) if (getComputedStyle(a).overflowX !== "visible") return true; return false; };
  const out = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e));
  const outer = out.filter(e => !out.includes(e.parentElement));
  return outer.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "")).join(", ");
})()"""


def check(page: Page, visit: Visit, theme: str, logged: list[str]) -> list[str]:
    problems = []
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > window:
        problems.append(f"scrolls sideways: {width} px wide in a {window} px window, by {page.evaluate(TOO_WIDE)}")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    if background != BACKGROUND[theme]:
        problems.append(f"not in the {theme} theme: the background is {background}")
    results = _axe.run(page)
    if results.violations_count:
        problems.append(results.generate_report())
    # An error page's own status is logged by the browser as a failed load: expected there.
    expected = f"the server responded with a status of {visit.status}"
    problems += [f"console: {text}" for text in logged if not (visit.status != 200 and expected in text)]
    return problems
