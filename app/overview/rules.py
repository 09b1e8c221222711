"""The overview's figures: totals, new customers per week, customers by currency, billing profile
and plan, and the customers that need attention.

A handful of aggregate queries (COUNT … GROUP BY, on SQLite and PostgreSQL alike) compute them; they
are kept as one row of overview_snapshots (models.py), so that every worker on every machine reads
the same figures, and the page reads one row instead of counting a million customers per visit.
Deleted customers count in `deleted` only.

The conditions of "needs attention" are the customers list's own filters (app/customers/attention.py,
`?attention=<code>`), so a count here and the list it links to always agree.
"""

import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Date, cast, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.billing.models import BillingProfile
from app.billing.overrides import pinned_counts
from app.customers.attention import ATTENTION, LIVE
from app.customers.models import Customer
from app.extensions import db, utcnow
from app.overview.models import SNAPSHOT_ID, OverviewSnapshot
from app.plans.models import Plan, Subscription
from app.store import unit_of_work

# The shape of the figures kept: a snapshot of another shape (written by an older version of this
# module) is counted again rather than read.
FIGURES_VERSION = 1
WEEKS = 52  # of the "new customers per week" chart, this week included
TOP = 8  # rows of each breakdown; the rest are summed up as "Other"

_KEPT_COUNTS = text("SELECT live, deleted FROM customer_counts")  # kept by triggers (migration 0005)


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


# Why each one matters, for the overview to say under its label.
CONSEQUENCE = {
    "no_currency": "They take the currency of the first plan they subscribe to.",
    "no_address": "Invoices and tax need one.",
    "stripe_no_payment_method": "Stripe cannot charge them automatically.",
    "no_subjects": "No usage is attributed to them, so none is billed.",
    "key_case_clash": "Easy to mix up when a key is typed by hand.",
}


def attention_count(code: str) -> int:
    """How many customers the `code` condition holds."""
    _, condition = ATTENTION[code]
    return db.session.scalar(select(func.count()).select_from(Customer).where(condition())) or 0


# --- The figures ----------------------------------------------------------------------------------


def week_start(moment: datetime) -> date:
    """The Monday (in UTC) of the ISO week `moment` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _week_of(column) -> ColumnElement:
    """The Monday of the week of `column`, a timestamp in UTC."""
    if _sqlite():
        # SQLite keeps UTC text: the next Sunday (or that day, on a Sunday), then six days back.
        return func.date(column, "weekday 0", "-6 days")
    return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)


def _new_per_week(first: date) -> dict[str, int]:
    week = _week_of(Customer.created_at).label("week")
    rows = db.session.execute(
        select(week, func.count()).where(LIVE, Customer.created_at >= _midnight(first)).group_by(week)
    )
    return {str(monday): count for monday, count in rows}


def _count_live_since(moment: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Customer).where(LIVE, Customer.created_at >= moment)) or 0


def _row(label: str, count: int, key: str | None = None, note: str | None = None, kind: str = "value") -> dict:
    """One bar of a breakdown: what it is, how many, and what the list filters it by (`key`).
    `kind` is "value" (a currency, a profile, a plan), "none" (without one) or "other" (the rest)."""
    return {"label": label, "count": count, "key": key, "note": note, "kind": kind}


def _top(rows: list[dict], total: int) -> list[dict]:
    """The largest TOP rows (a value before "none" of the same count), then the rest as one "Other"
    row (only when that sums up two or more)."""
    rows = sorted(rows, key=lambda r: (-r["count"], r["kind"] != "value", r["label"].casefold()))
    if len(rows) <= TOP + 1:
        return rows
    kept, rest = rows[:TOP], rows[TOP:]
    return [*kept, _row("Other", total - sum(r["count"] for r in kept), note=f"{len(rest)} more", kind="other")]


def _by_currency() -> list[dict]:
    # Every customer by currency, less the deleted ones: the first reads the currency index alone,
    # the second migration 0018's index of the deleted (few); counting the live ones directly
    # would read a million rows from the table.
    everyone = db.session.execute(select(Customer.currency, func.count()).group_by(Customer.currency)).all()
    deleted = dict(
        db.session.execute(
            select(Customer.currency, func.count()).where(Customer.deleted_at.is_not(None)).group_by(Customer.currency)
        ).all()
    )
    counts = {code: count - deleted.get(code, 0) for code, count in everyone}
    return [
        _row(code, count, code) if code else _row("No currency", count, kind="none")
        for code, count in counts.items()
        if count > 0
    ]


def _by_profile(live: int) -> list[dict]:
    """Customers pinned to a profile under its name; the others under the default's, which bills them."""
    pinned = pinned_counts()
    profiles = db.session.execute(
        select(BillingProfile.id, BillingProfile.name, BillingProfile.is_default, BillingProfile.deleted_at)
    ).all()
    default = next((p for p in profiles if p.is_default and p.deleted_at is None), None)
    following_default = live - sum(pinned.values())
    rows = []
    for profile in profiles:
        count = pinned.get(profile.id, 0) + (following_default if profile is default else 0)
        if count:
            rows.append(_row(profile.name, count, profile.id, "default" if profile is default else None))
    if default is None and following_default:
        rows.append(_row("No default profile", following_default, kind="none"))
    return rows


def _by_plan(live: int) -> list[dict]:
    # Only live customers can be on a plan: a customer with an active subscription cannot be
    # deleted (customers.lifecycle.delete), so the subscriptions need no join to the customers.
    on_plans = dict(
        db.session.execute(
            select(Subscription.plan_id, func.count())
            .where(Subscription.active_to.is_(None))
            .group_by(Subscription.plan_id)
        ).all()
    )
    plans = db.session.execute(select(Plan.id, Plan.name, Plan.key).where(Plan.id.in_(list(on_plans)))).all()
    rows = [_row(plan.name, on_plans[plan.id], plan.key) for plan in plans]
    without = live - sum(on_plans.values())
    return rows + ([_row("No plan", without, kind="none")] if without > 0 else [])


def compute(now: datetime | None = None) -> dict:
    """The overview's figures as of `now`, as JSON-ready data."""
    started = time.monotonic()
    now = now or utcnow()
    this_week = week_start(now)
    first_week = this_week - timedelta(weeks=WEEKS - 1)
    this_month = now.astimezone(UTC).date().replace(day=1)
    currencies = _by_currency()
    live = sum(row["count"] for row in currencies)  # so that each breakdown adds up to the total shown
    _, deleted = db.session.execute(_KEPT_COUNTS).one()
    per_week = _new_per_week(first_week)
    weeks = [str(first_week + timedelta(weeks=n)) for n in range(WEEKS)]
    return {
        "version": FIGURES_VERSION,
        "live": live,
        "deleted": deleted,
        "week_start": str(this_week),
        "month_start": str(this_month),
        "new_this_week": per_week.get(str(this_week), 0),
        "new_this_month": _count_live_since(_midnight(this_month)),
        "weeks": [[monday, per_week.get(monday, 0)] for monday in weeks],
        "by_currency": _top(currencies, live),
        "by_profile": _top(_by_profile(live), live),
        "by_plan": _top(_by_plan(live), live),
        "attention": {code: attention_count(code) for code in ATTENTION},
        "seconds": round(time.monotonic() - started, 3),
    }


# --- Kept in the database -------------------------------------------------------------------------


def latest() -> OverviewSnapshot | None:
    """The figures last computed, if they are of the current shape."""
    snapshot = db.session.get(OverviewSnapshot, SNAPSHOT_ID)
    if snapshot is None or snapshot.figures.get("version") != FIGURES_VERSION:
        return None
    return snapshot


def refresh() -> OverviewSnapshot:
    """Compute the figures now and keep them (one statement, so it is safe in a GET too)."""
    computed_at = utcnow()
    figures = compute(computed_at)
    table = OverviewSnapshot.__table__
    insert = (sqlite if _sqlite() else postgresql).insert(table)
    upsert = insert.values(id=SNAPSHOT_ID, computed_at=computed_at, figures=figures).on_conflict_do_update(
        index_elements=[table.c.id],
        set_={"computed_at": insert.excluded.computed_at, "figures": insert.excluded.figures},
        # Two workers counting at once: the one that started later wins, whichever finishes last.
        where=table.c.computed_at < insert.excluded.computed_at,
    )
    with unit_of_work():
        db.session.execute(upsert)
    return OverviewSnapshot(id=SNAPSHOT_ID, computed_at=computed_at, figures=figures)


def current(max_age_seconds: float) -> OverviewSnapshot:
    """The kept figures, or new ones when there are none or they are older than `max_age_seconds`.

    Counting in the request that finds them stale is simple and always right: it happens at most
    once per `max_age_seconds` (plus the requests that arrive while it runs), and it reads mostly
    indexes: under a tenth of a second at 100,000 customers on SQLite, so about a second at a
    million, which one visit in a few minutes can afford. A background job would add a worker to
    run and watch, for a page that is otherwise one row read."""
    snapshot = latest()
    if snapshot is None or (utcnow() - snapshot.computed_at).total_seconds() > max_age_seconds:
        return refresh()
    return snapshot
