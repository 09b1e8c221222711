"""Configuration, applied in this order (later wins):

1. the built-in defaults below (`Defaults`);
2. the instance folder's `config.py` (`instance/config.py`, optional, never committed);
3. environment variables: `DATABASE_URL`, `SECRET_KEY`, and any `CONSOLE_<NAME>` for a setting `<NAME>`;
4. the test mapping passed to `create_app(test_config)`.

`SECRET_KEY` is never a fixed default: when no layer sets it, a random key is generated once into
`instance/secret_key` (mode 0600) and read from there afterwards, so sessions survive restarts and
every worker on the machine agrees on it.
"""

import json
import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask


class Defaults:
    # 1 MiB is far above any real customer document; larger bodies are refused with 413.
    MAX_CONTENT_LENGTH = 1024 * 1024
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session; a stale tab should still save
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind HTTPS set CONSOLE_SESSION_COOKIE_SECURE=true, so the browser never sends the login over HTTP.
    SESSION_COOKIE_SECURE = False
    # The number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust (0: none).
    PROXY_FIX = 0
    # werkzeug.security's method for operator passwords (the tests use a fast one).
    PASSWORD_HASH_METHOD = "scrypt"
    # Login throttling: this many failures within LOGIN_LOCK_MINUTES lock an account, or an address.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_LOCK_MINUTES = 15
    # A console session ends after this long without a request, and this long after its login at most.
    SESSION_IDLE_MINUTES = 8 * 60
    SESSION_LIFETIME_HOURS = 7 * 24
    CUSTOMERS_PAGE_SIZES = (20, 50, 100, 200)
    # An export of more customers than this runs as a background job (the Jobs page), not in the request.
    EXPORT_INLINE_ROWS = 5_000
    # Imports: the largest file taken (about a million customers of a dozen columns fits); files
    # up to IMPORT_INLINE_BYTES are checked in the request, larger ones by the worker; up to
    # IMPORT_ATOMIC_ROWS rows an import writes all or nothing, beyond in batches it can resume.
    IMPORT_MAX_BYTES = 512 * 1024 * 1024
    IMPORT_INLINE_BYTES = 1024 * 1024
    IMPORT_ATOMIC_ROWS = 10_000
    # A bulk change (or its preview, or its undo) of up to this many customers runs within the
    # request; more run on the jobs worker, with a progress bar.
    BULK_INLINE_CUSTOMERS = 200
    # A running job that has written no progress for this long lost its worker, and is reported failed.
    JOBS_HEARTBEAT_SECONDS = 120
    # The overview's figures are counted again when a visit finds them older than this (or on "Refresh now").
    OVERVIEW_MAX_AGE_SECONDS = 300
    # Tests: run each job at once, inside the request that starts it (no worker).
    JOBS_IMMEDIATE = False
    # On SQLite, huey's queue file (default: instance/jobs.sqlite).
    JOBS_SQLITE_PATH = None


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "console.sqlite")
    app.config.from_pyfile("config.py", silent=True)

    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    # CONSOLE_FOO=... sets FOO; values that parse as JSON (numbers, booleans) are taken as such.
    for name, raw in os.environ.items():
        if name.startswith("CONSOLE_"):
            try:
                app.config[name.removeprefix("CONSOLE_")] = json.loads(raw)
            except ValueError:
                app.config[name.removeprefix("CONSOLE_")] = raw

    if test_config:
        app.config.update(test_config)

    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file cannot drop a connection the way a server can: skip the ping before each request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def _normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named (psycopg 3).
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _instance_secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Write a private temp file, then hard-link it into place: the link either appears whole or
        # fails because another worker won the race, so nobody ever reads a half-written key.
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
