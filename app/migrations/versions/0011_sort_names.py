"""Names sort as people sort them: by a sort key that case and accents do not split

Revision ID: 0011_sort_names
Revises: 0010_iso4217_minor_units
Create Date: 2026-12-01

Customers and billing profiles get `sort_name`, app/text_rules.sort_key of the name ("Émile" →
"emile"), written by the app beside every name, and lists sort by it instead of the name, whose
code points put "Bravo" before "alpha" and "Émile" after "zeta". PostgreSQL compares it with the
"C" collation, as SQLite does, so both give one order whatever the server's locale.

The name indexes move to the key: (sort_name, id) on both databases, and on PostgreSQL also over
the live customers alone; on SQLite the search index's rows are renumbered in sort-key order (0007's
scheme, on the key). PostgreSQL's covering index of live customers (0009) is not rebuilt: it held
every subject key beside the name, and a B-tree row has a size limit (2,704 bytes) that a customer
with a dozen long subject keys passes, so PostgreSQL refused to save such a customer.

At a million customers this took 51 s on SQLite and 167 s on PostgreSQL (which writes a new version
of every row, and of its entries in every index).
"""

import sqlalchemy as sa
from alembic import op

from app.text_rules import sort_key

revision = "0011_sort_names"
down_revision = "0010_iso4217_minor_units"
branch_labels = None
depends_on = None

BATCH = 20_000


def _backfill(table: str, key) -> None:
    """Every row's sort_name from its name, in batches by id (through a temporary table: one
    UPDATE per batch instead of one per row)."""
    conn = op.get_bind()
    conn.exec_driver_sql("CREATE TEMPORARY TABLE sort_names (id VARCHAR(26) PRIMARY KEY, sort_name TEXT NOT NULL)")
    names = sa.table("sort_names", sa.column("id"), sa.column("sort_name"))
    last = ""
    while True:
        rows = conn.execute(
            sa.text(f"SELECT id, name FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"), {"last": last}
        ).all()
        if not rows:
            break
        conn.execute(names.insert(), [{"id": row.id, "sort_name": key(row.name)} for row in rows])
        last = rows[-1].id
    conn.exec_driver_sql(
        f"UPDATE {table} SET sort_name = (SELECT s.sort_name FROM sort_names s WHERE s.id = {table}.id)"
    )
    conn.exec_driver_sql("DROP TABLE sort_names")


# SQLite's search index (0007), its rows numbered by the sort key's first four UTF-8 bytes: a copy
# of app/customers/search.py's SQLITE_FILL_DOCS, frozen here as this revision writes it.
def _sqlite_base(row: str, column: str) -> str:
    return (
        f"(({row}.deleted_at IS NOT NULL) << 62) + ((SELECT "
        + " + ".join(
            f"((instr('0123456789ABCDEF', substr(h, {k + 1}, 1)) - 1) << {4 * (7 - k) + 30})" for k in range(8)
        )
        + f" FROM (SELECT substr(hex(substr({row}.{column}, 1, 4)) || '00000000', 1, 8) AS h)))"
    )


NEXT_FREE_ID = (
    "coalesce((SELECT max(id) FROM customer_search_docs WHERE id BETWEEN base AND base + 1073741823), base - 1) + 1"
)


def _sqlite_index(column: str) -> list[str]:
    """The search index and its triggers, its rows numbered in the order of `column`: sort_name
    from this revision on, name before it."""
    doc_columns = "name, key, primary_email, subjects, created_at" + (", sort_name" if column == "sort_name" else "")
    new_values = "new.name, new.key, new.primary_email, new.subjects_text, new.created_at" + (
        ", new.sort_name" if column == "sort_name" else ""
    )
    insert_doc = f"""INSERT INTO customer_search_docs (id, customer_id, {doc_columns})
        SELECT {NEXT_FREE_ID}, new.id, {new_values}
          FROM (SELECT {_sqlite_base("new", column)} AS base);"""
    return [
        "DROP TRIGGER customer_search_customer_insert",
        "DROP TRIGGER customer_search_customer_update",
        "DROP TRIGGER customer_search_customer_delete",
        "DROP TABLE customer_search",
        "DROP TABLE customer_search_docs",
        f"""CREATE TABLE customer_search_docs (
            id INTEGER PRIMARY KEY,
            customer_id VARCHAR(26) NOT NULL UNIQUE,
            name TEXT, key TEXT, primary_email TEXT, subjects TEXT,
            created_at DATETIME NOT NULL{", sort_name TEXT NOT NULL" if column == "sort_name" else ""})""",
        """CREATE VIRTUAL TABLE customer_search USING fts5(
            name, key, primary_email, subjects,
            content='customer_search_docs', content_rowid='id', tokenize='trigram')""",
        # Every existing customer, numbered within its prefix in sort order.
        f"INSERT INTO customer_search_docs (id, customer_id, {doc_columns}) "
        f"SELECT base + row_number() OVER (PARTITION BY base ORDER BY {column}, id) - 1, "
        f"       id, {new_values.replace('new.', '')} "
        f"  FROM (SELECT customers.*, {_sqlite_base('customers', column)} AS base FROM customers)",
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
            {insert_doc}
        END""",
        # Any change to what is searched, to the order or to liveness moves the row to a fresh id.
        f"""CREATE TRIGGER customer_search_customer_update
           AFTER UPDATE OF name, {"sort_name, " if column == "sort_name" else ""}key, primary_email, subjects_text,
           deleted_at ON customers BEGIN
            DELETE FROM customer_search_docs WHERE customer_id = old.id;
            {insert_doc}
        END""",
        """CREATE TRIGGER customer_search_customer_delete AFTER DELETE ON customers BEGIN
            DELETE FROM customer_search_docs WHERE customer_id = old.id;
        END""",
    ]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("customers", "billing_profiles", "plans"):
        if sqlite:  # SQLite adds a NOT NULL column only with a default; the app always writes one
            op.execute(f"ALTER TABLE {table} ADD COLUMN sort_name TEXT NOT NULL DEFAULT ''")
        else:
            op.execute(f'ALTER TABLE {table} ADD COLUMN sort_name TEXT COLLATE "C"')
        _backfill(table, sort_key)
        if not sqlite:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN sort_name SET NOT NULL")
        op.execute(f"CREATE INDEX ix_{table}_sort_name_id ON {table} (sort_name, id)")
    op.execute("DROP INDEX ix_customers_name_id")
    if sqlite:
        for statement in _sqlite_index("sort_name"):
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_customers_live_name_searchable")
        op.execute("CREATE INDEX ix_customers_live_sort_name ON customers (sort_name, id) WHERE deleted_at IS NULL")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in _sqlite_index("name"):
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_customers_live_sort_name")
        op.execute(
            "CREATE INDEX ix_customers_live_name_searchable ON customers (name, id) "
            "INCLUDE (key, primary_email, subjects_text) WHERE deleted_at IS NULL"
        )
    op.execute("CREATE INDEX ix_customers_name_id ON customers (name, id)")
    for table in ("customers", "billing_profiles", "plans"):
        op.execute(f"DROP INDEX ix_{table}_sort_name_id")
        op.execute(f"ALTER TABLE {table} DROP COLUMN sort_name")
