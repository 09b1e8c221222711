"""The application factory: configuration, extensions, blueprints and error handlers."""

from pathlib import Path

from flask import Flask, Response, current_app, redirect, render_template, request, url_for
from flask.globals import request_ctx
from flask.templating import Environment
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from app import apps, auth, cli, display
from app.config import load_config
from app.extensions import csrf, db, htmx, migrate, read_without_transaction
from app.problems import Problem, problem_response

ROOT = Path(__file__).resolve().parent.parent


class FlatGlobalsEnvironment(Environment):
    def make_globals(self, d):
        """A template's globals as one dict, not Jinja's ChainMap over the environment's: every
        render copies them and every `{% from %}` import compares their keys, which a ChainMap makes
        slow (a tenth of a millisecond on the list page). All globals are set in create_app, before
        any template loads, as Jinja asks."""
        return {**self.globals, **(d or {})}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.jinja_environment = FlatGlobalsEnvironment  # before anything makes app.jinja_env
    load_config(app, test_config)
    if app.config["PROXY_FIX"]:
        # Behind N trusted proxies: take the client address and scheme from their X-Forwarded-* headers
        # (login throttling counts by address). Never set it without such a proxy: clients could lie.
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    # Batch mode lets later migrations alter SQLite tables (which lack most ALTER TABLE forms).
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    # Hooks run in this order: a request with a bad Host or a body over the size limit is refused,
    # then the first-start defaults (made as "system", before anyone is known), then reads leave their
    # transaction out (PostgreSQL), then the gate (a refused request gets no further), then the CSRF
    # check of the forms.
    app.before_request(_refuse_bad_host)
    app.before_request(_allow_large_upload)
    app.before_request(_refuse_cut_body)
    apps.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.before_request(read_without_transaction)  # SQLite's driver reads outside transactions already
    auth.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    cli.init_app(app)
    display.init_app(app)  # the Jinja filters every page uses: dash, money, duration, plural, when

    from app.jobs import worker as jobs_worker

    jobs_worker.init_app(app)  # the background jobs' queue, and `flask jobs worker`

    from app.apps import api as apps_api
    from app.billing import api as billing_api
    from app.customers import api as customers_api
    from app.meta import api as meta_api
    from app.plans import api as plans_api

    for api_blueprint in (customers_api.bp, apps_api.bp, billing_api.bp, plans_api.bp, meta_api.bp):
        csrf.exempt(api_blueprint)  # the API is called with tokens, not from our forms
        app.register_blueprint(api_blueprint)

    from app.apps import views as apps_views
    from app.auth import views as auth_views
    from app.billing import views as billing_views
    from app.customers import bulk_views, import_views, saved_view_pages
    from app.customers import views as customers_views
    from app.history import views as history_views
    from app.jobs import views as jobs_views
    from app.overview import views as overview_views
    from app.plans import views as plans_views

    console = [overview_views, customers_views, plans_views, billing_views, apps_views, history_views, jobs_views]
    for area in console:
        app.register_blueprint(area.bp)
    for customers_part in (
        import_views,
        bulk_views,
        saved_view_pages,
    ):  # the customers area's, with no place in the navigation
        app.register_blueprint(customers_part.bp)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["nav_items"] = [area.NAV for area in console] + auth_views.NAV

    @app.get("/")
    def root():
        return redirect(url_for("overview.index"))

    _register_error_handlers(app)
    return app


def _refuse_bad_host():
    """400 for a Host header that is no host name (a label over 63 characters, say): werkzeug's router
    refuses it, and without a router no URL can be built, so neither the gate's redirect to the login
    nor the usual error page (whose links need one) can be made. This answer needs none."""
    if request_ctx.url_adapter is not None:
        return None
    problem = Problem("The Host header is not a valid host name.", status=400)
    if _wants_problem_json():
        return problem_response(problem)
    return Response(problem.detail, status=400, mimetype="text/plain")


# The pages that take a file larger than MAX_CONTENT_LENGTH, and the setting of their limit.
LARGE_UPLOADS = {"imports.start_check": "IMPORT_MAX_BYTES"}


def _allow_large_upload() -> None:
    """Raise the body limit for a page that takes a file (before anything reads the body)."""
    setting = LARGE_UPLOADS.get(request.endpoint or "")
    if setting is not None:
        request.max_content_length = current_app.config[setting]


def _refuse_cut_body() -> None:
    """413 for a body sent without a length (chunked) that reaches MAX_CONTENT_LENGTH.

    Werkzeug refuses a too long Content-Length itself, but it silently stops reading a chunked body
    at the limit: the API would then parse the cut body ("not valid JSON") and a form would lose its
    end. Reading it here (at most the limit; the views get it from the cache) tells. A body of
    exactly the limit cannot be told from a longer one, so it is refused too."""
    limit = request.max_content_length
    if request.method in ("GET", "HEAD") or request.content_length is not None or limit is None:
        return
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def handle_problem(problem: Problem):
        if _wants_problem_json():
            return problem_response(problem)
        return render_template(
            "error.html", status=problem.status, title=problem.title, detail=problem.detail
        ), problem.status

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        if _wants_problem_json():
            return problem_response(Problem(error.description, status=400))
        detail = (
            "This form was not sent from a current page of the console (its security token is missing or "
            "expired), so nothing was saved. Go back, reload the page and submit it again."
        )
        return render_template("error.html", status=400, title="The form has expired", detail=detail), 400

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if isinstance(error, InternalServerError):
            return handle_unexpected(error)
        if _wants_problem_json():
            problem = Problem(error.description or error.name, status=error.code or 500)
            return problem_response(
                problem, headers=dict(error.get_headers()) | {"Content-Type": "application/problem+json"}
            )
        return render_template("error.html", status=error.code, title=error.name, detail=error.description), error.code

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # Never show a stack trace; the log has it.
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        detail = "Something went wrong on our side. The error has been logged."
        if _wants_problem_json():
            return problem_response(Problem(detail, status=500))
        return render_template("error.html", status=500, title="Internal Server Error", detail=detail), 500
