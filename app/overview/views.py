"""The overview page, the console's home: totals, new customers per week, breakdowns, and what needs attention."""

from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from app.display import plural
from app.extensions import utcnow
from app.overview import charts, rules

bp = Blueprint("overview", __name__, url_prefix="/overview")

NAV = ("overview.index", "Overview")


@bp.get("/")
def index():
    snapshot = rules.current(current_app.config["OVERVIEW_MAX_AGE_SECONDS"])
    figures = snapshot.figures
    live = figures["live"]
    week_start, month_start = date.fromisoformat(figures["week_start"]), date.fromisoformat(figures["month_start"])
    max_age = current_app.config["OVERVIEW_MAX_AGE_SECONDS"]
    return render_template(
        "overview/index.html",
        figures=figures,
        computed_at=snapshot.computed_at,
        age=ago(snapshot.computed_at),
        max_age=span(max_age),
        week_start=week_start,
        month_start=month_start,
        weekly=charts.weekly(figures["weeks"]),
        breakdowns=[
            ("currency", "By currency", "Currency", _linked(figures["by_currency"], live, _currency_link)),
            ("profile", "By billing profile", "Billing profile", _linked(figures["by_profile"], live, _profile_link)),
            ("plan", "By plan", "Plan", _linked(figures["by_plan"], live, _plan_link)),
        ],
        flagged=sum(1 for count in figures["attention"].values() if count),
        attention=[
            (code, label, rules.CONSEQUENCE[code], figures["attention"].get(code, 0), _list(attention=code))
            for code, (label, _) in rules.ATTENTION.items()
        ],
        week_link=lambda monday: _list(created_from=monday.isoformat(), created_to=str(monday + timedelta(days=6))),
        since_link=lambda day: _list(created_from=day.isoformat()),
    )


@bp.post("/refresh")
def refresh():
    rules.refresh()
    flash("The figures were counted again just now.", "success")
    return redirect(url_for("overview.index"), code=303)


def _list(**args) -> str:
    return url_for("customers.index", **args)


# The list filtered to a breakdown's row: by its value, or (for "none") by the attention item
# that means the same; "Other", and "none" without a filter of its own, link nowhere.
def _currency_link(row: dict) -> str | None:
    if row["kind"] == "value":
        return _list(currency=row["key"])
    return _list(attention="no_currency") if row["kind"] == "none" else None


def _profile_link(row: dict) -> str | None:
    return _list(billing_profile=row["key"]) if row["kind"] == "value" else None


def _plan_link(row: dict) -> str | None:
    return _list(plan=row["key"]) if row["kind"] == "value" else None


def _linked(rows: list[dict], total: int, link) -> list[dict]:
    """A breakdown's rows with their share of `total` and the filtered list's URL (or None)."""
    return [{**row, "link": link(row)} for row in charts.shares(rows, total)]


def ago(moment: datetime, now: datetime | None = None) -> str:
    """ "just now", "40 seconds ago", "3 minutes ago", "2 hours ago", "5 days ago"."""
    seconds = max(int(((now or utcnow()) - moment).total_seconds()), 0)
    return "just now" if seconds < 10 else f"{span(seconds)} ago"


def span(seconds: int) -> str:
    """A length of time in its largest whole unit: "1 second", "5 minutes", "2 hours", "3 days"."""
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            return plural(seconds // length, unit)
    return plural(seconds, "second")
