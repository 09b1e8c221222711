"""Extensions: created here, initialised in create_app."""

import secrets
from datetime import UTC, datetime

from flask import request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import DateTime, Text, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from app import vault
from app.text_rules import sort_key


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """A timestamp that always comes back timezone-aware in UTC (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        if value is not None and dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class iso_utc(FunctionElement):
    """A UTCDateTime column as ISO 8601 text in UTC ("2026-12-01T19:59:27.458889Z"), written by the
    database: an export of a million customers then neither parses nor formats a datetime per cell."""

    type = Text()
    inherit_cache = True


@compiles(iso_utc, "sqlite")
def _iso_utc_sqlite(element, compiler, **kw):
    # SQLite holds the time as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff" (UTCDateTime).
    column = compiler.process(element.clauses, **kw)
    return f"(replace({column}, ' ', 'T') || 'Z')"


@compiles(iso_utc, "postgresql")
def _iso_utc_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


class SortedByName:
    """A table listed by name: `sort_name` follows `name`, and lists sort by it (text_rules.sort_key).

    Sort keys compare code point by code point, PostgreSQL's "C" collation being SQLite's BINARY:
    under the server's locale, PostgreSQL would order punctuation and spaces its own way."""

    sort_name: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"))

    @validates("name")
    def _follow_name(self, _attribute: str, name: str) -> str:
        self.sort_name = sort_key(name)
        return name


def utcnow() -> datetime:
    return datetime.now(UTC)


class Encrypted(TypeDecorator):
    """A secret, encrypted at rest (app.vault): the database holds ciphertext, Python sees the text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        return vault.encrypt(value) if value is not None else None

    def process_result_value(self, value: str | None, dialect):
        return vault.decrypt(value) if value is not None else None


def next_version_of_reborn_row(version: int | None) -> int:
    """The version_id_generator of rows that are deleted and made again under the same key (a
    customer's billing override, its data in one app). Such a row starts at a random version, not
    at 1: an If-Match or edit form read from the row before its delete would otherwise match the
    new row's first version and overwrite it (a one in a billion chance now)."""
    return version + 1 if version is not None else secrets.randbelow(2**30) + 1


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
htmx = Htmx()


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """SQLite needs asking for what PostgreSQL does anyway.

    WAL lets readers and one writer work at once (several gunicorn workers share the file);
    busy_timeout makes a second writer wait for the lock instead of failing at once;
    foreign keys are off by default in SQLite; and SQLite's own lower() folds ASCII only, so
    case-insensitive filters would miss "Σ" for "σ": Python's lower() replaces it.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.create_function(
        "lower", 1, lambda value: value.lower() if isinstance(value, str) else value, deterministic=True
    )
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def read_without_transaction() -> None:
    """GET and HEAD requests read on a connection in autocommit mode: no BEGIN before their first
    query and no ROLLBACK after their last.

    On PostgreSQL each of those is one more round trip to the server; at 1,000,000 customers they
    were a quarter of a key lookup's time and a third of a customer page's. A transaction buys reads
    nothing here: under READ COMMITTED every statement sees its own snapshot anyway, and SQLite's
    driver already reads outside a transaction. Reads that must agree are made one statement (the
    customer page reads the customer with its billing profile in one).

    The only write a GET makes is the gate's one-row "token last used" UPDATE, which commits on its
    own. A GET must not write more than one statement: it would have no transaction to share.
    Runs after the first-start defaults (several rows, in a transaction) and before the gate.
    """
    if request.method in ("GET", "HEAD") and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
