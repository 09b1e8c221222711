"""The activity page: every recorded change, filtered by what, who and when (admins only, see app/auth)."""

import re
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, request, url_for

from app.extensions import db
from app.history import rules
from app.ids import is_id
from app.jobs.models import Job
from app.numbers import MAX_PAGE, whole_number
from app.pages import page_or_fragment

bp = Blueprint("activity", __name__, url_prefix="/activity")

NAV = ("activity.index", "Activity")
PAGE_SIZE = 50
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(name: str, errors: list[str]) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if _DATE.fullmatch(raw):  # ASCII digits only: strptime's own pattern takes any script's
        try:
            return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            pass
    errors.append(f"“{raw[:20]}” is not a date like 2025-01-31; that filter is left out.")
    return None


def _day_after(day: datetime | None) -> datetime | None:
    """Where a filter ending with `day` stops (the day itself is included): none after the last day
    a date can have (9999-12-31), which has no day after it."""
    if day is None or day.date() == date.max:
        return None
    return day + timedelta(days=1)


def _page_arg() -> int:
    """The page asked for; 1 for anything but ASCII digits, and never past MAX_PAGE."""
    return min(whole_number(request.args.get("page")) or 1, MAX_PAGE)


@bp.get("/")
def index():
    errors: list[str] = []
    state = {
        "type": request.args.get("type", "") if request.args.get("type") in rules.ENTITY_TYPES else "",
        "actor": request.args.get("actor", "").strip(),
        "since": request.args.get("since", "").strip(),
        "until": request.args.get("until", "").strip(),
        "entity": request.args.get("entity", "").strip(),
        "job": request.args.get("job", "").strip(),
    }
    filters = rules.ActivityFilters(
        entity_type=state["type"] or None,
        actor=state["actor"] or None,
        since=_date("since", errors),
        until=_day_after(_date("until", errors)),
        entity_id=state["entity"] or None,
        job_id=state["job"] or None,
    )
    page = rules.activity(filters, _page_arg(), PAGE_SIZE)

    def list_url(**changes):
        args = {k: v for k, v in {**state, **changes}.items() if v not in ("", None, 1)}
        return url_for("activity.index", **args)

    context = {
        "page": page,
        "state": state,
        "errors": errors,
        "filtered": any(state.values()),
        "list_url": list_url,
        "entity_types": rules.ENTITY_TYPES,
        "job": db.session.get(Job, state["job"]) if is_id(state["job"]) else None,
    }
    return page_or_fragment("history/activity.html", {"results": "history/_results.html"}, **context)
