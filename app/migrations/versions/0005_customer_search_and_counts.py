"""Customer search index and live counts, kept by the database itself

Revision ID: 0005_customer_search
Revises: 0004_plans
Create Date: 2026-11-23

- customers.subjects_text: the subject keys one per line, so search needs no join.
- customer_counts: one row with the number of live and deleted customers, kept by triggers in the
  same transaction as every insert, soft delete and delete: the list shows an exact total without
  counting a million rows on each page view.
- Substring search: on SQLite an FTS5 trigram index fed by triggers through customer_search_docs
  (a stable INTEGER rowid per customer, which FTS5 needs); on PostgreSQL pg_trgm GIN indexes.
See app/customers/search.py for how they are queried.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_customer_search"
down_revision = "0004_plans"
branch_labels = None
depends_on = None

SEARCHED = ("name", "key", "primary_email", "subjects_text")

SQLITE_UP = [
    # --- live and deleted counts ---------------------------------------------------------------
    """CREATE TABLE customer_counts (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        live INTEGER NOT NULL,
        deleted INTEGER NOT NULL)""",
    """INSERT INTO customer_counts (id, live, deleted) VALUES (1,
        (SELECT count(*) FROM customers WHERE deleted_at IS NULL),
        (SELECT count(*) FROM customers WHERE deleted_at IS NOT NULL))""",
    """CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers BEGIN
        UPDATE customer_counts SET live = live + (new.deleted_at IS NULL),
                                   deleted = deleted + (new.deleted_at IS NOT NULL);
    END""",
    """CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers BEGIN
        UPDATE customer_counts SET live = live - (old.deleted_at IS NULL),
                                   deleted = deleted - (old.deleted_at IS NOT NULL);
    END""",
    """CREATE TRIGGER customer_counts_soft_delete AFTER UPDATE OF deleted_at ON customers
       WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL) BEGIN
        UPDATE customer_counts
           SET live = live + (new.deleted_at IS NULL) - (old.deleted_at IS NULL),
               deleted = deleted + (new.deleted_at IS NOT NULL) - (old.deleted_at IS NOT NULL);
    END""",
    # --- trigram full-text index -----------------------------------------------------------------
    # created_at and live let a search sort and filter its matches without reading customers.
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

SQLITE_DOWN = [
    "DROP TRIGGER customer_search_customer_delete",
    "DROP TRIGGER customer_search_customer_update",
    "DROP TRIGGER customer_search_customer_insert",
    "DROP TABLE customer_search",
    "DROP TABLE customer_search_docs",
    "DROP TRIGGER customer_counts_soft_delete",
    "DROP TRIGGER customer_counts_delete",
    "DROP TRIGGER customer_counts_insert",
    "DROP TABLE customer_counts",
]

POSTGRES_UP = [
    """CREATE TABLE customer_counts (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        live BIGINT NOT NULL,
        deleted BIGINT NOT NULL)""",
    """INSERT INTO customer_counts (id, live, deleted) VALUES (1,
        (SELECT count(*) FROM customers WHERE deleted_at IS NULL),
        (SELECT count(*) FROM customers WHERE deleted_at IS NOT NULL))""",
    """CREATE FUNCTION customer_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        live_change BIGINT := 0;
        deleted_change BIGINT := 0;
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            live_change := live_change + (NEW.deleted_at IS NULL)::int;
            deleted_change := deleted_change + (NEW.deleted_at IS NOT NULL)::int;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            live_change := live_change - (OLD.deleted_at IS NULL)::int;
            deleted_change := deleted_change - (OLD.deleted_at IS NOT NULL)::int;
        END IF;
        IF live_change <> 0 OR deleted_change <> 0 THEN
            UPDATE customer_counts SET live = live + live_change, deleted = deleted + deleted_change;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER customer_counts_follow AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON customers
       FOR EACH ROW EXECUTE FUNCTION customer_counts_follow()""",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(f"CREATE INDEX ix_customers_{c}_trgm ON customers USING gin ({c} gin_trgm_ops)" for c in SEARCHED),
]

POSTGRES_DOWN = [
    *(f"DROP INDEX ix_customers_{c}_trgm" for c in SEARCHED),
    "DROP TRIGGER customer_counts_follow ON customers",
    "DROP FUNCTION customer_counts_follow()",
    "DROP TABLE customer_counts",
]


def upgrade():
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("subjects_text", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index("ix_customers_currency", ["currency"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            """UPDATE customers SET subjects_text = coalesce((
                 SELECT group_concat(value, char(10)) FROM (
                   SELECT value FROM customer_identifiers
                    WHERE customer_id = customers.id AND is_subject ORDER BY position)), '')"""
        )
        statements = SQLITE_UP
    else:
        op.execute(
            """UPDATE customers SET subjects_text = coalesce((
                 SELECT string_agg(value, E'\\n' ORDER BY position) FROM customer_identifiers
                  WHERE customer_id = customers.id AND is_subject), '')"""
        )
        statements = POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index("ix_customers_currency")
        batch_op.drop_column("subjects_text")
