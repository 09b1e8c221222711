"""Saved views in the console: save the list as it is, see and manage the views, pick the default."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from app.customers import saved_views
from app.customers import views as list_views
from app.problems import Problem

bp = Blueprint("saved_views", __name__, url_prefix="/customers/views")


def _operator() -> tuple[str, bool]:
    return g.operator.id, g.operator.role == "admin"


@bp.get("/")
def index():
    return render_template("customers/saved_views.html", views=saved_views.visible(g.operator.id))


@bp.post("/")
def save():
    """Save the list as the form carries it (its filters, sort and columns) under a name."""
    state = list_views.list_state(list_views.live_profile_ids(), request.form)
    query = list_views.view_query(state)
    try:
        view = saved_views.save(
            g.operator.id,
            g.operator.username,
            request.form.get("name", ""),
            query,
            shared=request.form.get("shared") == "1",
            pinned=request.form.get("pinned") == "1",
        )
    except Problem as problem:
        flash(f"The view was not saved: {problem.errors[0].message if problem.errors else problem.detail}", "error")
        return redirect(f"{url_for('customers.index')}?{query}", 303)
    flash(f"View “{view.name}” saved{' and shared with everyone' if view.shared else ''}.", "success")
    return redirect(f"{url_for('customers.index')}?{query}", 303)


@bp.post("/<view_id>")
def change(view_id: str):
    """Share, unshare, pin, unpin or delete one of the operator's views."""
    action = request.form.get("action", "")
    if action == "delete":
        saved_views.delete(view_id, *_operator())
        flash("View deleted.", "success")
    elif action in ("share", "unshare", "pin", "unpin"):
        flags = {"share": {"shared": True}, "unshare": {"shared": False}, "pin": {"pinned": True}}
        saved_views.change(view_id, *_operator(), **flags.get(action, {"pinned": False}))
    return redirect(url_for(".index"), 303)


@bp.post("/default")
def make_default():
    """Make a shared view the list's default, or have none (admins: app/auth)."""
    try:
        saved_views.make_default(request.form.get("view_id") or None)
    except Problem as problem:
        flash(problem.errors[0].message if problem.errors else problem.detail, "error")
    return redirect(url_for(".index"), 303)
