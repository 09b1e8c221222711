"""The Apps console: installed apps with their status, install from the marketplace, edit, uninstall.

Rules live in app/apps/rules.py; a refusal (e.g. uninstalling an app that billing profiles use) is
shown on the page that asked, with its reasons.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.apps import rules
from app.apps.forms import AppForm, InstallForm
from app.billing import overrides
from app.billing import rules as billing_rules
from app.common import MAX_PAGE_SIZE
from app.problems import Problem, StaleEdit
from app.text_rules import sort_key

bp = Blueprint("apps", __name__, url_prefix="/apps")

NAV = ("apps.index", "Apps")


@bp.get("/")
def index():
    # By name, as people sort names: a handful of apps, sorted here (the API lists them oldest first).
    apps = sorted(rules.list_apps(page=1, page_size=MAX_PAGE_SIZE).items, key=lambda a: (sort_key(a.name), a.id))
    used_by = {app.id: billing_rules.live_profiles_using(app.id) for app in apps}
    return render_template("apps/list.html", apps=apps, used_by=used_by, listings=rules.LISTINGS.values())


def _default_change(app_type: str) -> dict | None:
    """What installing an app of this type with a billing profile does to the default, when it
    moves customers: the default now, and how many customers follow it. None when nothing moves."""
    current = billing_rules.default_profile()
    if current is None or not billing_rules.takes_default(app_type, current):
        return None
    return {"current": current, "following": overrides.following_default_count()}


@bp.route("/install/<app_type>", methods=["GET", "POST"])
def install(app_type: str):
    """Install an app. When its billing profile would become the default, the page says whom that
    moves before the operator installs, and the form carries which default it said that of: a POST
    without it (or after the default changed meanwhile) installs nothing and shows the page again."""
    listing = rules.get_listing(app_type)
    form = InstallForm()
    status = 200
    change = _default_change(listing.type)
    if request.method == "POST":
        with_profile = bool(form.create_billing_profile.data)
        if with_profile and change is not None and request.form.get("confirmed_default") != change["current"].id:
            form.create_billing_profile.errors = [
                "Read what installing does to the default billing profile, then install again."
            ]
            status = 409
        else:
            try:
                app, defaults = rules.install(
                    listing.type,
                    name=form.name.data,
                    api_key=(form.api_key.data or None) if rules.WITH_API_KEY in listing.install_methods else None,
                    create_billing_profile=with_profile,
                )
            except Problem as problem:
                form.show_problem(problem)
                status = 422
            else:
                message = f"{listing.name} app “{app.name}” installed."
                profiles = billing_rules.live_profiles_using(app.id)
                if profiles:
                    message += f" Billing profile “{profiles[0].name}” bills through it"
                    message += ", and is now the default." if defaults else "."
                flash(message, "success")
                return redirect(url_for(".index"), 303)
    return render_template("apps/install.html", form=form, listing=listing, change=change), status


@bp.route("/<app_id>/edit", methods=["GET", "POST"])
def edit(app_id: str):
    app = rules.get(app_id)
    if app.is_deleted:
        flash(f"App “{app.name}” is uninstalled and cannot be edited.", "error")
        return redirect(url_for(".index"), 303)
    status = 200
    if request.method == "POST":
        form = AppForm()
        if form.missing_version():
            return render_template("apps/edit.html", form=form, app=app), 400
        try:
            rules.replace(
                app.id,
                rules.AppInput(
                    type=app.type,
                    name=form.name.data or "",
                    description=form.description.data,
                    metadata=dict(app.metadata_ or {}),  # kept: the console does not edit app metadata
                    secret_api_key=form.secret_api_key.data or None,
                    enable_draft_sync_hook=bool(form.enable_draft_sync_hook.data),
                    enable_issuing_sync_hook=bool(form.enable_issuing_sync_hook.data),
                ),
                expected_version=form.expected_version,
            )
        except StaleEdit as problem:
            form.show_problem(problem)
            form.version.data = str(rules.get(app.id).version)  # saving again, having been told, is deliberate
            status = 409
        except Problem as problem:
            form.show_problem(problem)
            status = 422
        else:
            flash(f"App “{app.name}” saved.", "success")
            return redirect(url_for(".index"), 303)
    else:
        form = AppForm(
            data={
                "name": app.name,
                "description": app.description or "",
                "enable_draft_sync_hook": bool(app.enable_draft_sync_hook),
                "enable_issuing_sync_hook": bool(app.enable_issuing_sync_hook),
                "version": str(app.version),
            }
        )
    return render_template("apps/edit.html", form=form, app=app), status


@bp.route("/<app_id>/uninstall", methods=["GET", "POST"])
def uninstall(app_id: str):
    app = rules.get(app_id)
    if app.is_deleted:
        flash(f"App “{app.name}” is already uninstalled.", "error")
        return redirect(url_for(".index"), 303)
    refusal = None
    if request.method == "POST":
        try:
            rules.uninstall(app.id)
        except Problem as problem:
            refusal = problem
        else:
            flash(f"App “{app.name}” uninstalled.", "success")
            return redirect(url_for(".index"), 303)
    users = billing_rules.live_profiles_using(app.id)
    return render_template("apps/uninstall.html", app=app, users=users, refusal=refusal), 409 if refusal else 200
