"""Search index rows in name order (SQLite); one trigram index over all searched text (PostgreSQL)

Revision ID: 0007_search_order
Revises: 0006_auth
Create Date: 2026-11-24

SQLite: each customer_search_docs row (and so each FTS5 rowid) gets an id that puts the index in
the list's order by name: bit 62 is set for deleted customers, bits 30-61 hold the first four UTF-8
bytes of the name, and the low 30 bits number the rows that share those bytes. A search then reads
its matches in nearly name order and stops after the first page's worth, instead of sorting all of
them (app/customers/search.py). A rename or a soft delete moves the row to its new id.

PostgreSQL: one GIN trigram index over name, key, email and subjects joined by newlines (which no
searched value or search text may contain), so "search everything" is one indexed ILIKE instead of
four ORed ones that the planner misjudges; with a large statistics sample, so that the planner can
tell a common fragment (walk the name index) from a rare one (read the few matches).
"""

from alembic import op

revision = "0007_search_order"
down_revision = "0006_auth"
branch_labels = None
depends_on = None

# The id range of the rows that share `new`'s name prefix and liveness (a copy of
# app/customers/search.py's SQLITE_BASE, frozen here as this revision wrote it).
SQLITE_BASE = (
    "((new.deleted_at IS NOT NULL) << 62) + ((SELECT "
    + " + ".join(f"((instr('0123456789ABCDEF', substr(h, {k + 1}, 1)) - 1) << {4 * (7 - k) + 30})" for k in range(8))
    + " FROM (SELECT substr(hex(substr(new.name, 1, 4)) || '00000000', 1, 8) AS h)))"
)
NEXT_FREE_ID = (
    "coalesce((SELECT max(id) FROM customer_search_docs WHERE id BETWEEN base AND base + 1073741823), base - 1) + 1"
)
INSERT_DOC = f"""INSERT INTO customer_search_docs (id, customer_id, name, key, primary_email, subjects, created_at)
        SELECT {NEXT_FREE_ID}, new.id, new.name, new.key, new.primary_email, new.subjects_text, new.created_at
          FROM (SELECT {SQLITE_BASE} AS base);"""

SQLITE_UP = [
    "DROP TRIGGER customer_search_customer_insert",
    "DROP TRIGGER customer_search_customer_update",
    "DROP TRIGGER customer_search_customer_delete",
    "DROP TABLE customer_search",
    "DROP TABLE customer_search_docs",
    """CREATE TABLE customer_search_docs (
        id INTEGER PRIMARY KEY,
        customer_id VARCHAR(26) NOT NULL UNIQUE,
        name TEXT, key TEXT, primary_email TEXT, subjects TEXT,
        created_at DATETIME NOT NULL)""",
    """CREATE VIRTUAL TABLE customer_search USING fts5(
        name, key, primary_email, subjects,
        content='customer_search_docs', content_rowid='id', tokenize='trigram')""",
    # Every existing customer, numbered within its prefix in name order.
    "INSERT INTO customer_search_docs (id, customer_id, name, key, primary_email, subjects, created_at) "
    "SELECT base + row_number() OVER (PARTITION BY base ORDER BY name, id) - 1, "
    "       id, name, key, primary_email, subjects_text, created_at "
    "  FROM (SELECT customers.*, "
    + SQLITE_BASE.replace("new.", "customers.")
    + " AS base FROM customers)",
    "INSERT INTO customer_search (customer_search) VALUES ('rebuild')",
    """CREATE TRIGGER customer_search_docs_insert AFTER INSERT ON customer_search_docs BEGIN
        INSERT INTO customer_search (rowid, name, key, primary_email, subjects)
        VALUES (new.id, new.name, new.key, new.primary_email, new.subjects);
    END""",
    """CREATE TRIGGER customer_search_docs_delete AFTER DELETE ON customer_search_docs BEGIN
        INSERT INTO customer_search (customer_search, rowid, name, key, primary_email, subjects)
        VALUES ('delete', old.id, old.name, old.key, old.primary_email, old.subjects);
    END""",
    f"""CREATE TRIGGER customer_search_customer_insert AFTER INSERT ON customers BEGIN
        {INSERT_DOC}
    END""",
    # Any change to what is searched, to the name or to liveness moves the row to a fresh id.
    f"""CREATE TRIGGER customer_search_customer_update
       AFTER UPDATE OF name, key, primary_email, subjects_text, deleted_at ON customers BEGIN
        DELETE FROM customer_search_docs WHERE customer_id = old.id;
        {INSERT_DOC}
    END""",
    """CREATE TRIGGER customer_search_customer_delete AFTER DELETE ON customers BEGIN
        DELETE FROM customer_search_docs WHERE customer_id = old.id;
    END""",
]

SQLITE_DOWN = [
    "DROP TRIGGER customer_search_customer_insert",
    "DROP TRIGGER customer_search_customer_update",
    "DROP TRIGGER customer_search_customer_delete",
    "DROP TABLE customer_search",
    "DROP TABLE customer_search_docs",
    # As revision 0005 made them.
    """CREATE TABLE customer_search_docs (
        id INTEGER PRIMARY KEY,
        customer_id VARCHAR(26) NOT NULL UNIQUE,
        name TEXT, key TEXT, primary_email TEXT, subjects TEXT,
        created_at DATETIME NOT NULL, live INTEGER NOT NULL)""",
    """CREATE VIRTUAL TABLE customer_search USING fts5(
        name, key, primary_email, subjects,
        content='customer_search_docs', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER customer_search_docs_insert AFTER INSERT ON customer_search_docs BEGIN
        INSERT INTO customer_search (rowid, name, key, primary_email, subjects)
        VALUES (new.id, new.name, new.key, new.primary_email, new.subjects);
    END""",
    """CREATE TRIGGER customer_search_docs_delete AFTER DELETE ON customer_search_docs BEGIN
        INSERT INTO customer_search (customer_search, rowid, name, key, primary_email, subjects)
        VALUES ('delete', old.id, old.name, old.key, old.primary_email, old.subjects);
    END""",
    """CREATE TRIGGER customer_search_docs_update
       AFTER UPDATE OF name, key, primary_email, subjects ON customer_search_docs BEGIN
        INSERT INTO customer_search (customer_search, rowid, name, key, primary_email, subjects)
        VALUES ('delete', old.id, old.name, old.key, old.primary_email, old.subjects);
        INSERT INTO customer_search (rowid, name, key, primary_email, subjects)
        VALUES (new.id, new.name, new.key, new.primary_email, new.subjects);
    END""",
    """CREATE TRIGGER customer_search_customer_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customer_search_docs (customer_id, name, key, primary_email, subjects, created_at, live)
        VALUES (new.id, new.name, new.key, new.primary_email, new.subjects_text, new.created_at,
                new.deleted_at IS NULL);
    END""",
    """CREATE TRIGGER customer_search_customer_update
       AFTER UPDATE OF name, key, primary_email, subjects_text, deleted_at ON customers BEGIN
        UPDATE customer_search_docs
           SET name = new.name, key = new.key, primary_email = new.primary_email, subjects = new.subjects_text,
               live = new.deleted_at IS NULL
         WHERE customer_id = new.id;
    END""",
    """CREATE TRIGGER customer_search_customer_delete AFTER DELETE ON customers BEGIN
        DELETE FROM customer_search_docs WHERE customer_id = old.id;
    END""",
    """INSERT INTO customer_search_docs (customer_id, name, key, primary_email, subjects, created_at, live)
       SELECT id, name, key, primary_email, subjects_text, created_at, deleted_at IS NULL FROM customers""",
]

# Must stay the very expression app/customers/search.py queries with, or the index is not used.
POSTGRES_SEARCH_TEXT = (
    "(name || E'\\n' || coalesce(key, '') || E'\\n' || coalesce(primary_email, '') || E'\\n' || subjects_text)"
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_customers_search_text_trgm ON customers USING gin ({POSTGRES_SEARCH_TEXT} gin_trgm_ops)")
        # A finer sample of the expression for the planner: with the default 100, whether a fragment is
        # common (walk the name index) or rare (read the trigram index's few matches) was a coin toss.
        op.execute("ALTER INDEX ix_customers_search_text_trgm ALTER COLUMN 1 SET STATISTICS 1000")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_customers_search_text_trgm")
