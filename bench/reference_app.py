"""The issue's yardstick: a bare Flask app answering a key lookup with one raw SQL query.

The issue measured this at p50 0.31 ms on SQLite with 1,000,000 customers. Served and measured the
same way here, it tells how fast this machine is beside that one, so that our figures can be read
against targets that were set there (bench/run.py prints the ratio).
"""

import os
import sqlite3

from flask import Flask, abort, jsonify, request
from sqlalchemy.engine import make_url

QUERY = "SELECT id, name, key FROM customers WHERE key = {} AND deleted_at IS NULL"


def _connect():
    url = make_url(os.environ["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        return sqlite3.connect(url.database, check_same_thread=False), "?"
    import psycopg

    return psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)), "%s"


def create_reference_app() -> Flask:
    app = Flask(__name__)
    connection, placeholder = _connect()
    query = QUERY.format(placeholder)

    @app.get("/lookup")
    def lookup():
        row = connection.execute(query, (request.args.get("key", ""),)).fetchone()
        if row is None:
            abort(404)
        return jsonify(id=row[0], name=row[1], key=row[2])

    return app
