"""Who may do what. Every request passes through `require_access` before its view runs.

The console knows an operator by the login session; the API knows a caller by its
`Authorization: Bearer <token>` header, and only by that (a session cookie does not open the API,
so the API needs no CSRF protection). Roles are checked here and nowhere else, by the tables below.
"""

from flask import Flask, Response, g, redirect, render_template, request, session, url_for

from app.history import Actor

# Endpoints anyone may reach: the login page, and the CSS and scripts it needs.
PUBLIC = {"static", "auth.login"}

# Reading (GET, HEAD) needs a viewer, unless listed here. Keys are blueprint names, or
# "blueprint.endpoint" for one endpoint of a blueprint (the more precise key wins).
READ_ROLE = {
    # The forms that only an editor could submit.
    "customers.create": "editor",
    "customers.edit": "editor",
    "customers.delete": "editor",
    "imports": "editor",  # a viewer cannot import, so has nothing to check
    "bulk": "editor",  # nor change customers in bulk
    "operators": "admin",
    "tokens": "admin",
    "activity": "admin",
    "plans.create": "admin",
    "plans.edit": "admin",
    "plans.delete": "admin",
    "plans.cancel": "editor",
    "plans.change": "editor",
    "plans.subscribe": "editor",
    "apps.install": "admin",
    "apps.edit": "admin",
    "apps.uninstall": "admin",
    "billing.create": "admin",
    "billing.edit": "admin",
    "billing.delete": "admin",
    "billing.make_default": "admin",
}

# Writing (any other method) needs an admin, unless listed here.
WRITE_ROLE = {
    "auth": "viewer",  # logging out, ending one's own other sessions
    "overview": "viewer",  # counting the overview's figures again changes no customer
    "customers": "editor",
    "customers.export_list": "viewer",  # an export changes nothing (see the README's Export)
    "imports": "editor",
    "bulk": "editor",
    "saved_views": "viewer",  # anyone saves their own views of the list
    "saved_views.make_default": "admin",
    "customers_api": "editor",
    "apps_api": "admin",
    "billing_api": "admin",
    "plans": "admin",
    "plans_api": "admin",
    "operators": "admin",
    "tokens": "admin",
    # An editor manages each customer's subscription, billing profile choice and app data.
    "plans.subscribe": "editor",
    "plans.cancel": "editor",
    "plans.change": "editor",
    "plans_api.create_subscription": "editor",
    "plans_api.cancel_subscription": "editor",
    "plans_api.change_subscription": "editor",
    "apps_api.upsert_customer_apps": "editor",
    "apps_api.upsert_customer_stripe": "editor",
    "apps_api.delete_customer_app": "editor",
    "customers.save_app_data": "editor",
    "billing_api.upsert_override": "editor",
    "billing_api.delete_override": "editor",
}

READ_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIX = "/api/"


def role_needed(endpoint: str | None, method: str) -> str:
    """The least role that may call `endpoint` with `method`, from the tables above."""
    table, default = (READ_ROLE, "viewer") if method in READ_METHODS else (WRITE_ROLE, "admin")
    blueprint = endpoint.rpartition(".")[0] if endpoint else ""
    return table.get(endpoint or "", table.get(blueprint, default))


def can(endpoint: str, method: str = "GET") -> bool:
    """Whether the current operator may call `endpoint`: for templates, to hide what would be refused."""
    from app.auth.rules import has_role

    return has_role(g.get("role"), role_needed(endpoint, method))


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _refuse_api(status: int, detail: str) -> Response:
    from app.problems import Problem, problem_response

    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else None
    return problem_response(Problem(detail, status=status), headers=headers)


def _to_login() -> Response:
    here = request.full_path.rstrip("?") if request.method == "GET" else request.path
    login = url_for("auth.login", next=here)
    if request.htmx:
        # htmx would swap the login page into a fragment; make it load the page instead.
        return Response(status=401, headers={"HX-Redirect": login})
    return redirect(login)


def require_access():
    """The single gate for every console page and API call.

    Sets `g.actor` (who, for the history) and `g.role`, or refuses: an API call without a valid
    token is a 401 problem, a console request without a login goes to the login page (and back
    here after it), and a role too low for the endpoint and method is a 403.
    """
    from app.auth import rules

    if request.endpoint in PUBLIC:
        return None
    if request.path.startswith(API_PREFIX):
        token = rules.token_for(_bearer_token())
        if token is None:
            return _refuse_api(401, "This API needs an `Authorization: Bearer <token>` header with a valid token.")
        g.actor, g.role = Actor("token", token.id, f"token {token.name}"), token.role
    else:
        operator = rules.operator_of_session(session.get("sid"))
        if operator is None:
            session.pop("sid", None)
            return _to_login()
        g.actor, g.role = Actor("operator", operator.id, operator.username), operator.role
        g.operator, g.session_id = operator, operator.session_id

    needed = role_needed(request.endpoint, request.method)
    if rules.has_role(g.role, needed):
        return None
    detail = f"This needs the {needed} role; yours is {g.role}. Ask an admin if you need more."
    if request.path.startswith(API_PREFIX):
        return _refuse_api(403, detail)
    return render_template("error.html", status=403, title="Not allowed", detail=detail), 403


SECURITY_HEADERS = {
    # Scripts and styles only from our own files: an injected <script> or inline handler cannot run.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "sid" in session:
        # Pages behind a login must not be kept by shared caches or shown from history after logout.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    from app.auth import cli, views

    app.before_request(require_access)
    app.after_request(_security_headers)
    for blueprint in (views.bp, views.operators_bp, views.tokens_bp):
        app.register_blueprint(blueprint)
    app.cli.add_command(cli.operators)
    app.cli.add_command(cli.tokens)
    app.jinja_env.globals["can"] = can
