"""Login and logout, and the admin pages for operators and API tokens. Rules live in rules.py."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app.auth import rules
from app.auth.forms import ConfirmForm, EditOperatorForm, LoginForm, NewOperatorForm, TokenForm
from app.auth.models import ApiToken
from app.formutil import refusing_with
from app.problems import Problem, StaleEdit
from app.store import get_by_id
from app.text_rules import bad_characters

bp = Blueprint("auth", __name__)
operators_bp = Blueprint("operators", __name__, url_prefix="/operators")
tokens_bp = Blueprint("tokens", __name__, url_prefix="/tokens")

NAV = [("operators.index", "Operators"), ("tokens.index", "API tokens")]


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another site (open redirect),
    and never one with control characters (CR/LF would break the Location header)."""
    if target and not bad_characters(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
    return url_for("root")


# A browser remembers, in a signed cookie, the accounts that logged in from it (the last few): for
# them, it is a known browser, which its address's login lock does not hold (rules.log_in).
KNOWN_LOGINS_COOKIE = "known_logins"
KNOWN_LOGINS_KEPT = 5
KNOWN_LOGINS_DAYS = 90


def _known_logins() -> list[str]:
    serializer = URLSafeSerializer(current_app.secret_key, salt="known-logins")
    try:
        usernames = serializer.loads(request.cookies.get(KNOWN_LOGINS_COOKIE, ""))
    except BadSignature:
        return []
    return [u for u in usernames if isinstance(u, str)] if isinstance(usernames, list) else []


def _remember_login(response, username: str) -> None:
    usernames = [username, *(u for u in _known_logins() if u != username)][:KNOWN_LOGINS_KEPT]
    response.set_cookie(
        KNOWN_LOGINS_COOKIE,
        URLSafeSerializer(current_app.secret_key, salt="known-logins").dumps(usernames),
        max_age=KNOWN_LOGINS_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


# What a session list shows of a browser's User-Agent: its name and system, as people call them.
_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


@bp.app_template_filter("browser")
def browser_name(user_agent: str | None) -> str:
    """ "Chrome on Linux" for a Chrome User-Agent on Linux; the string itself when it names neither."""
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser is None and system is None:
        return agent[:80] or "Unknown"
    return " on ".join(part for part in (browser or "A browser", system) if part)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = _safe_next(request.values.get("next"))
    error, status = None, 200
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        try:
            operator = rules.log_in(
                username, form.password.data, request.remote_addr, known_browser=username in _known_logins()
            )
        except rules.LoginRefused as refused:
            error, status = refused.detail, refused.status
        else:
            session.clear()  # a fresh session (and CSRF token) for the logged-in operator
            session["sid"] = rules.start_session(operator.id, request.user_agent.string, request.remote_addr)
            response = redirect(next_url, 303)
            _remember_login(response, operator.username)
            return response
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/logout")
def logout():
    rules.end_session(session.get("sid"))
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for(".login"), 303)


@bp.route("/account/sessions", methods=["GET", "POST"])
def sessions():
    """Your own console sessions, with their last use; a button ends all but this one."""
    form = ConfirmForm()
    if form.validate_on_submit():
        ended = rules.end_sessions(g.operator.id, keep=g.session_id)
        flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}.", "success")
        return redirect(url_for(".sessions"), 303)
    listed = rules.sessions_of(g.operator.id)
    return render_template("auth/sessions.html", sessions=listed, current=g.session_id, form=form)


# --- Operators ------------------------------------------------------------------------------


@operators_bp.get("/", endpoint="index")
def list_operators():
    return render_template("operators/list.html", operators=rules.list_operators())


@operators_bp.route("/new", methods=["GET", "POST"])
def create():
    form = NewOperatorForm()
    if form.validate_on_submit():
        try:
            with refusing_with(form.own_errors()):  # differing passwords show with every other error
                operator = rules.create_operator(form.username.data, form.role.data, form.password.data)
        except Problem as problem:
            form.show_problem(problem)
        else:
            flash(f"Operator “{operator.username}” can now log in as {operator.role}.", "success")
            return redirect(url_for(".index"), 303)
    status = 422 if form.all_errors() else 200
    return render_template("operators/form.html", form=form, operator=None), status


@operators_bp.route("/<operator_id>", methods=["GET", "POST"])
def edit(operator_id: str):
    operator = rules.get_operator(operator_id)
    loaded = {"role": operator.role, "active": operator.is_active}
    if request.method == "GET":
        loaded["version"] = str(operator.version)  # never on a POST: only the posted version may count
    form = EditOperatorForm(data=loaded)
    status = 200
    if form.validate_on_submit():
        if form.missing_version():
            status = 400
        else:
            try:
                with refusing_with(form.own_errors()):
                    rules.update_operator(
                        operator.id,
                        role=form.role.data,
                        active=form.active.data,
                        password=form.password.data or None,
                        expected_version=form.expected_version,
                        keep_session=g.session_id,  # changing one's own password keeps this browser in
                    )
            except StaleEdit as problem:
                form.show_problem(problem)
                form.version.data = str(rules.get_operator(operator.id).version)  # saving again is deliberate
                status = 409
            except Problem as problem:
                form.show_problem(problem)
            else:
                flash(f"Operator “{operator.username}” saved.", "success")
                return redirect(url_for(".index"), 303)
    if status == 200 and form.all_errors():
        status = 422
    sessions = rules.sessions_of(operator.id)
    return render_template(
        "operators/form.html", form=form, operator=operator, sessions=sessions, sign_out_form=ConfirmForm()
    ), status


@operators_bp.post("/<operator_id>/sign-out")
def sign_out_everywhere(operator_id: str):
    """An admin ends every console session of an operator (theirs too, when it is their own)."""
    operator = rules.get_operator(operator_id)
    ended = rules.end_sessions(operator.id)
    flash(f"“{operator.username}” is signed out of {ended} session{'s' if ended != 1 else ''}.", "success")
    if operator.id == g.operator.id:
        session.clear()
        return redirect(url_for("auth.login"), 303)
    return redirect(url_for(".edit", operator_id=operator.id), 303)


# --- API tokens -----------------------------------------------------------------------------


@tokens_bp.route("/", methods=["GET", "POST"], endpoint="index")
def tokens_page():
    """The tokens, and a form for a new one; a new token's secret is shown on this page, once."""
    form = TokenForm()
    secret, status = None, 200
    if form.validate_on_submit():
        try:
            token, secret = rules.create_token(form.name.data, form.role.data)
        except Problem as problem:
            form.show_problem(problem)
            status = 422
        else:
            form = TokenForm(formdata=None)
            flash(f"Token “{token.name}” created.", "success")
    return render_template("tokens/list.html", form=form, tokens=rules.list_tokens(), secret=secret), status


@tokens_bp.route("/<token_id>/revoke", methods=["GET", "POST"])
def revoke(token_id: str):
    """A page that says what revoking does, whose button revokes. A POST that does not come from it
    (no `confirmed`) shows the page and revokes nothing."""
    token = get_by_id(ApiToken, token_id, "API token")
    form = ConfirmForm()
    if token.revoked_at is None and form.validate_on_submit() and request.form.get("confirmed") == "1":
        rules.revoke_token(token.id)
        flash(f"Token “{token.name}” is revoked: calls with it are refused from now on.", "success")
        return redirect(url_for(".index"), 303)
    return render_template("tokens/revoke.html", token=token, form=form)
