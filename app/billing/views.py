"""The Billing profiles console: the list (default marked, pinned customers counted), the editor,
"Make default" and delete, each confirmed on a page that says what it does.

Rules live in app/billing/rules.py; their refusals are shown where the operator asked.
"""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from app.billing import overrides, rules
from app.billing.forms import ProfileForm
from app.common import MAX_PAGE_SIZE
from app.problems import Problem, StaleEdit

bp = Blueprint("billing", __name__, url_prefix="/billing/profiles")

NAV = ("billing.index", "Billing profiles")


def _list_context() -> dict:
    profiles = rules.list_profiles(page=1, page_size=MAX_PAGE_SIZE, order_by="name", with_apps=True).items
    # The default first, the rest by name.
    profiles.sort(key=lambda p: not p.is_default)
    return {"profiles": profiles, "pinned": rules.pinned_counts()}


@bp.get("/")
def index():
    response = make_response(render_template("billing/list.html", **_list_context()))
    response.vary.add("HX-Request")
    return response


@bp.route("/<profile_id>/default", methods=["GET", "POST"])
def make_default(profile_id: str):
    """A page that says whom the change moves, whose button makes the profile the default; then
    POST-redirect-GET with a flash. A POST that does not come from it (no `confirmed`) shows the
    page and changes nothing."""
    profile = rules.get(profile_id)
    if profile.is_deleted or profile.is_default:
        flash(f"“{profile.name}” is {'deleted' if profile.is_deleted else 'already the default'}.", "error")
        return redirect(url_for(".index"), 303)
    refusal = None
    if request.method == "POST" and request.form.get("confirmed") == "1":
        try:
            rules.make_default(profile.id)
        except Problem as problem:
            refusal = problem
        else:
            flash(f"“{profile.name}” is now the default billing profile.", "success")
            return redirect(url_for(".index"), 303)
    pinned = rules.pinned_counts()
    html = render_template(
        "billing/make_default.html",
        profile=profile,
        current=rules.default_profile(),
        following=overrides.following_default_count(),
        pinned_here=pinned.get(profile.id, 0),
        refusal=refusal,
    )
    return html, refusal.status if refusal else 200


def _render_form(form: ProfileForm, profile=None, status: int = 200, stale=False):
    following = overrides.following_default_count()  # whom ticking "default" moves to this profile
    return render_template("billing/form.html", form=form, profile=profile, stale=stale, following=following), status


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = ProfileForm()
    if request.method == "POST":
        try:
            profile = rules.create(form.to_input())
        except Problem as problem:
            form.show_problem(problem)
            return _render_form(form, status=422)
        flash(f"Billing profile “{profile.name}” created.", "success")
        return redirect(url_for(".index"), 303)
    return _render_form(form)


@bp.route("/<profile_id>/edit", methods=["GET", "POST"])
def edit(profile_id: str):
    profile = rules.get(profile_id)
    if profile.is_deleted:
        flash(f"Billing profile “{profile.name}” is deleted and cannot be edited.", "error")
        return redirect(url_for(".index"), 303)
    if request.method == "POST":
        form = ProfileForm()
        if form.missing_version():
            return _render_form(form, profile, 400)
        try:
            rules.replace(profile.id, form.to_input(app_id=profile.app_id), expected_version=form.expected_version)
        except StaleEdit as problem:
            form.show_problem(problem)
            current = rules.get(profile_id)
            form.version.data = str(current.version)  # saving again, having been told, is deliberate
            return _render_form(form, current, 409, stale=True)
        except Problem as problem:
            form.show_problem(problem)
            return _render_form(form, rules.get(profile_id), 422)
        flash(f"Billing profile “{form.name.data.strip()}” saved.", "success")
        return redirect(url_for(".index"), 303)
    return _render_form(ProfileForm.for_profile(profile), profile)


@bp.route("/<profile_id>/delete", methods=["GET", "POST"])
def delete(profile_id: str):
    profile = rules.get(profile_id)
    if profile.is_deleted:
        flash(f"Billing profile “{profile.name}” is already deleted.", "error")
        return redirect(url_for(".index"), 303)
    refusal = None
    if request.method == "POST":
        try:
            rules.delete(profile.id)
        except Problem as problem:
            refusal = problem
        else:
            flash(f"Billing profile “{profile.name}” deleted.", "success")
            return redirect(url_for(".index"), 303)
    pinned = rules.pinned_counts().get(profile.id, 0)
    return render_template("billing/delete.html", profile=profile, refusal=refusal, pinned=pinned), (
        refusal.status if refusal else 200
    )
