"""Fixtures shared by every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test). Each pytest-xdist worker gets its own
database, migrated once with Alembic (so the migrations are tested too) and emptied before each test.
"""

import os
import shutil
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.apps.rules import ensure_defaults
from app.extensions import db


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
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
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
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        ensure_defaults()  # what the first start makes: the Sandbox app and the default billing profile
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


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
