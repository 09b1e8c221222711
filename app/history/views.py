"""The activity page: every recorded change, filtered by what, who and when (admins only, see app/auth)."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, make_response, render_template, request, url_for

from app.history import rules

bp = Blueprint("activity", __name__, url_prefix="/activity")

NAV = ("activity.index", "Activity")
PAGE_SIZE = 50


def _date(name: str, errors: list[str]) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        errors.append(f"“{raw[:20]}” is not a date like 2025-01-31; that filter is left out.")
        return None


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


@bp.get("/")
def index():
    errors: list[str] = []
    state = {
        "type": request.args.get("type", "") if request.args.get("type") in rules.ENTITY_TYPES else "",
        "actor": request.args.get("actor", "").strip(),
        "since": request.args.get("since", "").strip(),
        "until": request.args.get("until", "").strip(),
        "entity": request.args.get("entity", "").strip(),
    }
    until = _date("until", errors)
    filters = rules.ActivityFilters(
        entity_type=state["type"] or None,
        actor=state["actor"] or None,
        since=_date("since", errors),
        until=until + timedelta(days=1) if until else None,  # the end date is included
        entity_id=state["entity"] or None,
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
    }
    partial = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
    partial = partial and not request.headers.get("HX-History-Restore-Request")
    response = make_response(
        render_template("history/_results.html" if partial else "history/activity.html", **context)
    )
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response
