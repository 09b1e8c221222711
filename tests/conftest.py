"""Fixtures shared by every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test). Each pytest-xdist worker gets its own
database, migrated once with Alembic (so the migrations are tested too) and emptied before each test.

Every test starts with an admin operator and an admin API token, and every test client (`client`,
and any `app.test_client()`) is logged in to the console as that admin and sends that token to the
API. `client_as(role)` gives a client of another role, `anonymous` one with neither.
"""

import base64
import os
import re
import shutil
import threading
from dataclasses import dataclass
from functools import partial

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.apps.rules import ensure_defaults
from app.auth import rules as auth_rules
from app.extensions import db

PASSWORD = "correct horse battery staple"
# Stored secrets are encrypted with this test-only key (app/vault.py), not one made in instance/.
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"test-only key for stored secrets").decode()


@dataclass(frozen=True)
class Account:
    username: str
    operator_id: str
    token: str
    session: str  # the secret of a console session, as a login puts it in the cookie


def make_account(app, role: str, username: str | None = None) -> Account:
    """An operator (password PASSWORD) and an API token, both of `role`."""
    with app.app_context():
        operator = auth_rules.create_operator(username or f"test-{role}", role, PASSWORD)
        _, token = auth_rules.create_token(f"test {role}", role)
        session = auth_rules.start_session(operator.id, "pytest", "127.0.0.1")
        account = Account(operator.username, operator.id, token, session)
        db.session.remove()
    return account


class AccountClient(FlaskClient):
    """A test client logged in to the console as `account` and sending its token to the API."""

    def __init__(self, *args, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        if account is not None:
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {account.token}"
            with self.session_transaction() as session:
                session["sid"] = account.session


@pytest.fixture(scope="session")
def database_url(worker_id, tmp_path_factory) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    url = sa.make_url(base)
    name = f"{url.database}_{worker_id}"
    # Connect to the maintenance database: the URL's own database need not exist, so parallel runs
    # can each use their own name (TEST_DATABASE_URL=.../test_mine).
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _migrated(database_url):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "ENCRYPTION_KEYS": [ENCRYPTION_KEY],
            "JOBS_IMMEDIATE": True,
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(_migrated):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _migrated,
            "SECRET_KEY": "test",
            "ENCRYPTION_KEYS": [ENCRYPTION_KEY],
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt would make every test slower
            "JOBS_IMMEDIATE": True,  # a job runs inside the request that starts it (tests/jobs start real workers)
        }
    )
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        ensure_defaults()  # what the first start makes: the Sandbox app and the default billing profile
        db.session.remove()
    app.accounts = {"admin": make_account(app, "admin")}
    app.test_client_class = partial(AccountClient, account=app.accounts["admin"])
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    """Logged in to the console as an admin, with an admin token for the API."""
    return app.test_client()


@pytest.fixture
def api_token(app) -> str:
    """The admin API token, for clients that make their own requests (OpenMeter's)."""
    return app.accounts["admin"].token


@pytest.fixture
def client_as(app):
    """client_as("viewer"): a client logged in as an operator of that role, with a token of that role."""

    def make(role: str) -> AccountClient:
        if role not in app.accounts:
            app.accounts[role] = make_account(app, role)
        return AccountClient(app, app.response_class, use_cookies=True, account=app.accounts[role])

    return make


@pytest.fixture
def anonymous(app):
    """Neither logged in nor carrying a token."""
    return AccountClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def ctx(app):
    """An application context, for calling rules directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- A live server, for Playwright and for OpenMeter's own HTTP client --------------------------


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url():
    # pytest-playwright wants one; the real URL comes from live_server per test.
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.exit("Chromium is not installed: run .ci/run, or apt-get install -y chromium", returncode=3)
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def csrf_client(app):
    """A client that sends the CSRF token the console's pages carry, as a browser would (`client.token`)."""
    client = app.test_client()
    page = client.get("/customers/new")
    client.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    return client


@pytest.fixture
def count_queries(app):
    """The statements the app runs while the test does (a list to clear and read)."""
    counted: list[str] = []

    def before(conn, cursor, statement, *args):
        # The gate's own lookups of the logged-in operator are per request, not per page: not counted.
        if not any(f"FROM {table}" in statement for table in ("console_sessions", "operators", "api_tokens")):
            counted.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    yield counted
    sa.event.remove(engine, "before_cursor_execute", before)
