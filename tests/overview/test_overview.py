"""The overview: its figures, kept in the database and counted again when old, and the page that shows them."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from app.apps import customer_data
from app.apps import rules as app_rules
from app.apps.customer_data import AppDataInput
from app.billing import overrides
from app.billing import rules as billing_rules
from app.common import Address
from app.customers import attention, lifecycle
from app.customers.models import Customer
from app.extensions import db
from app.overview import charts, rules, views
from app.overview.models import SNAPSHOT_ID, OverviewSnapshot
from app.plans import rules as plan_rules
from tests.helpers import make, post
from tests.helpers import text as page_text

STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ"
HOME = "/overview/"


def figures(app, now: datetime | None = None) -> dict:
    with app.app_context():
        return rules.compute(now)


def counts(rows: list[dict]) -> dict[str, int]:
    return {row["label"]: row["count"] for row in rows}


def set_created(app, key: str, moment: datetime) -> None:
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.key == key).values(created_at=moment))
        db.session.commit()


@pytest.fixture
def population(app):
    """Customers that each need one kind of attention (or none), and one deleted customer that
    would need every kind."""
    full = Address(country="DE", city="Berlin", line1="Unter den Linden 1")
    make(app, name="Complete", key="complete", subjects=["complete"], currency="EUR", billing_address=full)
    make(app, name="No Currency", key="no-currency", subjects=["s1"], billing_address=full)
    make(app, name="No Address", key="no-address", subjects=["s2"], currency="EUR")
    make(app, name="No Subjects", key="no-subjects", currency="USD", billing_address=full)
    make(app, name="Acme Lower", key="acme", subjects=["s3"], currency="USD", billing_address=full)
    make(app, name="Acme Upper", key="ACME", subjects=["s4"], currency="USD", billing_address=full)
    linked = make(app, name="Linked", key="linked", subjects=["s5"], currency="EUR", billing_address=full)
    paying = make(app, name="Paying", key="paying", subjects=["s6"], currency="EUR", billing_address=full)
    gone = make(app, name="Gone", key="Complete")  # no currency, address nor subjects; its key clashes too
    with app.app_context():
        stripe = app_rules.install("stripe", name="Stripe", api_key=STRIPE_KEY, create_billing_profile=False)[0]
        customer_data.upsert(linked, [AppDataInput(type="stripe", app_id=stripe.id, stripe_customer_id="cus_1")])
        with_method = AppDataInput(
            type="stripe", app_id=stripe.id, stripe_customer_id="cus_2", stripe_default_payment_method_id="pm_2"
        )
        customer_data.upsert(paying, [with_method])
        lifecycle.delete(gone)


# --- The figures ----------------------------------------------------------------------------------


def test_deleted_customers_count_only_as_deleted(app, population):
    f = figures(app)
    assert (f["live"], f["deleted"]) == (8, 1)
    assert counts(f["by_currency"]) == {"EUR": 4, "USD": 3, "No currency": 1}
    assert f["new_this_week"] == f["new_this_month"] == 8
    assert sum(count for _, count in f["weeks"]) == 8


def test_each_kind_of_attention_is_counted(app, population):
    assert figures(app)["attention"] == {
        "no_currency": 1,
        "no_address": 1,
        "stripe_no_payment_method": 1,
        "no_subjects": 1,
        "key_case_clash": 2,  # acme and ACME; "Complete" clashes only with a deleted customer
    }


def test_each_attention_count_is_the_count_of_its_condition(app, population):
    with app.app_context():
        kept = rules.compute()["attention"]
        for code, (_, condition) in rules.ATTENTION.items():
            holding = db.session.scalars(select(Customer.key).where(condition())).all()
            assert kept[code] == len(holding), code
            assert db.session.scalar(select(func.count()).select_from(Customer).where(condition())) == kept[code]
        found = set(db.session.scalars(select(Customer.key).where(attention.key_case_clash())))
    assert found == {"acme", "ACME"}


@pytest.mark.parametrize("code", ["no_currency", "no_address", "no_subjects"])
def test_the_list_of_an_attention_item_reads_its_own_index(app, code):
    """Migration 0018's partial index is the condition's, word for word: the database can use it
    (whether it does depends on how many customers the condition holds)."""
    with app.app_context():
        query = select(Customer.id).where(rules.ATTENTION[code][1]()).order_by(Customer.sort_name, Customer.id)
        sql = str(query.compile(db.engine))
        if db.engine.dialect.name == "sqlite":  # INDEXED BY fails ("no query solution") if it cannot be used
            sql = sql.replace("FROM customers", f"FROM customers INDEXED BY ix_customers_attention_{code}", 1)
            plan = " ".join(row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        else:  # a few rows are read faster without an index: ask whether it could be used at all
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
            db.session.rollback()
        sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        assert f"ix_customers_attention_{code}" in plan
    else:  # PostgreSQL picks among the indexes that apply (the currency's, the country's…) by its estimates
        assert "Index" in plan and "Seq Scan" not in plan, plan


def test_weeks_are_iso_weeks_in_utc_oldest_first(app):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a Thursday
    for key, moment in [
        ("sunday-night", datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)),  # the week before
        ("monday-morning", datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)),  # this week
        ("this-morning", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        ("a-year-ago", datetime(2025, 12, 8, 8, 0, tzinfo=UTC)),  # the first week shown (51 weeks back)
        ("too-old", datetime(2025, 12, 7, 23, 0, tzinfo=UTC)),  # before it
    ]:
        make(app, name=key, key=key)
        set_created(app, key, moment)
    f = figures(app, now)
    weeks = dict(f["weeks"])
    assert len(f["weeks"]) == 52 and f["weeks"][0][0] == "2025-12-08" and f["weeks"][-1][0] == "2026-11-30"
    assert (weeks["2026-11-30"], weeks["2026-11-23"], weeks["2025-12-08"]) == (2, 1, 1)
    assert sum(weeks.values()) == 4
    assert (f["week_start"], f["new_this_week"]) == ("2026-11-30", 2)
    assert (f["month_start"], f["new_this_month"]) == ("2026-12-01", 1)


def test_customers_by_billing_profile_pinned_or_following_the_default(app):
    pinned, _, _ = (make(app, name=f"C{n}", key=f"c{n}") for n in range(3))
    with app.app_context():
        app_rules.install("custom_invoicing", "Invoicer")
        profiles = billing_rules.live_profiles()
        default = next(p.name for p in profiles if p.is_default)
        other_id, other = next((p.id, p.name) for p in profiles if not p.is_default)
        overrides.pin(pinned, other_id)
    rows = figures(app)["by_profile"]
    assert counts(rows) == {default: 2, other: 1}
    assert [(r["note"], r["key"] == other_id) for r in rows] == [("default", False), (None, True)]


def test_customers_by_plan_and_without_one(app):
    on_plan = make(app, name="Subscribed", key="subscribed", currency="EUR")
    make(app, name="Free", key="free")
    with app.app_context():
        plan = plan_rules.create_plan(
            plan_rules.PlanInput(key="pro", name="Pro", currency="EUR", billing_cadence="P1M", amount="49")
        )
        plan_rules.subscribe(plan.key, on_plan)
    rows = figures(app)["by_plan"]
    assert counts(rows) == {"Pro": 1, "No plan": 1}
    assert [(r["key"], r["kind"]) for r in rows] == [("pro", "value"), (None, "none")]


def test_beyond_eight_values_the_rest_are_other(app):
    for n, currency in enumerate(
        ["EUR", "EUR", "EUR", "USD", "USD", "GBP", "JPY", "CHF", "SEK", "HUF", "CAD", "BRL", "INR"]
    ):
        make(app, name=f"C{n}", key=f"c{n}", currency=currency)
    rows = figures(app)["by_currency"]
    assert [r["label"] for r in rows[:2]] == ["EUR", "USD"]
    assert len(rows) == 9 and rows[-1]["label"] == "Other" and rows[-1]["kind"] == "other"
    assert (rows[-1]["count"], rows[-1]["note"]) == (2, "2 more")
    assert sum(r["count"] for r in rows) == 13


def test_an_empty_console_has_figures_too(app):
    f = figures(app)
    assert (f["live"], f["deleted"], f["new_this_week"]) == (0, 0, 0)
    assert f["by_currency"] == f["by_plan"] == [] and set(f["attention"].values()) == {0}


# --- Kept, and counted again ----------------------------------------------------------------------


def kept(app) -> OverviewSnapshot | None:
    with app.app_context():
        snapshot = db.session.get(OverviewSnapshot, SNAPSHOT_ID)
        db.session.expunge_all()
        return snapshot


def test_a_second_visit_reads_the_kept_figures(app, client, count_queries):
    make(app)
    client.get(HOME)
    first = kept(app)
    make(app, name="Later", key="later")
    count_queries.clear()
    page = client.get(HOME)
    assert len(count_queries) == 1 and "overview_snapshots" in count_queries[0]  # nothing counted
    assert kept(app).computed_at == first.computed_at
    assert re.search(r"Customers 1 ", page_text(page))  # still the kept figure


def test_figures_older_than_the_setting_are_counted_again(app, client):
    make(app)
    client.get(HOME)
    with app.app_context():
        old = datetime.now(UTC) - timedelta(seconds=app.config["OVERVIEW_MAX_AGE_SECONDS"] + 1)
        db.session.execute(update(OverviewSnapshot).values(computed_at=old))
        db.session.commit()
    make(app, name="Later", key="later")
    page = client.get(HOME)
    assert kept(app).computed_at > old
    assert re.search(r"Customers 2 ", page_text(page))


def test_figures_of_an_older_shape_are_counted_again(app, client):
    client.get(HOME)
    with app.app_context():
        db.session.execute(update(OverviewSnapshot).values(figures={"version": 0}))
        db.session.commit()
    assert client.get(HOME).status_code == 200
    assert kept(app).figures["version"] == rules.FIGURES_VERSION


def test_refresh_now_counts_at_once(app, csrf_client):
    make(app)
    csrf_client.get(HOME)
    before = kept(app).computed_at
    make(app, name="Later", key="later")
    done = post(csrf_client, "/overview/refresh")
    assert done.status_code == 303 and done.headers["Location"] == HOME
    assert kept(app).computed_at > before
    page = csrf_client.get(HOME)
    assert "counted again just now" in page_text(page)
    assert re.search(r"Customers 2 ", page_text(page))


def test_refresh_needs_the_form_token(app, client):
    assert client.post("/overview/refresh").status_code == 400


def test_of_two_countings_the_later_one_stays(app):
    with app.app_context():
        newer = rules.refresh()
        db.session.execute(update(OverviewSnapshot).values(computed_at=newer.computed_at + timedelta(minutes=1)))
        db.session.commit()
        rules.refresh()  # started before the kept figures were: keeps them
        assert db.session.get(OverviewSnapshot, SNAPSHOT_ID).computed_at == newer.computed_at + timedelta(minutes=1)


# --- The page -------------------------------------------------------------------------------------


def test_the_console_opens_on_the_overview(app, client):
    assert client.get("/").headers["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200
    assert re.search(
        r'<nav class="site-nav".*?<li><a href="/overview/" aria-current="page">Overview</a>', page.text, re.DOTALL
    )


def test_the_page_shows_every_figure_as_text(app, client, population):
    page = page_text(client.get(HOME))
    assert "Customers 8 " in page and "New this week 8 " in page and "New this month 8 " in page
    assert "Deleted 1 " in page
    # The breakdowns are tables: label, count, share.
    assert "EUR 4 50%" in page and "USD 3 38%" in page and "No currency 1 12%" in page
    assert "No plan 8 100%" in page
    # Each week is a row of the chart's table (this week first).
    assert re.search(r"\d+ \w{3} \d{4} \(this week\) 8 ", page)
    assert "Figures as of just now" in page


def test_each_attention_item_links_to_the_list_filtered_by_it(app, client, population):
    page = client.get(HOME).text
    for code, (label, _) in rules.ATTENTION.items():
        assert f'<a href="/customers/?attention={code}">{label}</a>' in page
    assert re.search(r"5 of 5 checks find customers", page_text(client.get(HOME)))


def test_breakdown_rows_link_to_the_filtered_list(app, client, population):
    page = client.get(HOME).text
    assert '<a href="/customers/?currency=EUR">EUR</a>' in page
    assert '<a href="/customers/?attention=no_currency">No currency</a>' in page


def test_a_clean_base_says_every_check_passes(app, client):
    make(app, key="k", subjects=["s"], currency="EUR", billing_address=Address(country="FR"))
    page = page_text(client.get(HOME))
    assert "All 5 checks pass" in page


def test_viewers_read_and_refresh(app, client_as):
    viewer = client_as("viewer")
    page = viewer.get(HOME)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert viewer.post("/overview/refresh", data={"csrf_token": token}).status_code == 303


def test_the_page_needs_a_login(anonymous):
    assert anonymous.get(HOME).headers["Location"].startswith("/login")


# --- Helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "top"), [(0, 1), (1, 1), (3, 4), (5, 6), (9, 10), (10, 10), (11, 20), (99, 100), (1234, 2000)]
)
def test_the_axis_top_is_a_round_number(n, top):
    assert charts.nice_ceiling(n) == top


def test_shares_and_ages_in_words():
    assert [charts.percent(n, 1000) for n in (0, 1, 10, 425, 1000)] == ["0%", "<1%", "1%", "42%", "100%"]
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    ages = [views.ago(now - timedelta(seconds=s), now) for s in (3, 45, 60, 3 * 60 + 59, 7200, 86400 * 3)]
    assert ages == ["just now", "45 seconds ago", "1 minute ago", "3 minutes ago", "2 hours ago", "3 days ago"]
    assert views.span(300) == "5 minutes"
