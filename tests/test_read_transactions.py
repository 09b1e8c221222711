"""On PostgreSQL, GET and HEAD read on an autocommit connection (no BEGIN, no ROLLBACK: two round
trips fewer a page); every other method keeps its transaction."""

import pytest
from sqlalchemy import select

from app.auth.models import ApiToken
from app.extensions import db


def _autocommit_after_the_hooks(app, method: str) -> bool:
    with app.test_request_context("/customers/", method=method):
        app.preprocess_request()  # the hooks, the gate included (which refuses: no one is logged in)
        return db.session.connection().connection.driver_connection.autocommit


def test_reads_leave_the_transaction_out_and_writes_keep_it(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's driver reads outside a transaction by itself")
    assert _autocommit_after_the_hooks(app, "GET") is True
    assert _autocommit_after_the_hooks(app, "HEAD") is True
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert _autocommit_after_the_hooks(app, method) is False, method
    with app.app_context():  # the pooled connection went back as it came: in a transaction again
        assert db.session.connection().connection.driver_connection.autocommit is False


def test_a_read_still_records_when_its_token_was_last_used(app, client):
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(last_used_at=None))
        db.session.commit()
    assert client.get("/api/v1/customers").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ApiToken.last_used_at)).one() is not None
