"""One search box that finds anything: accents folded, keys by case, Stripe customer ids

Revision ID: 0015_search_finds_anything
Revises: 0014_encrypted_stripe_keys
Create Date: 2026-12-02

- Names are searched through their sort key (0011: case and accents folded, "Café" → "cafe"), so
  "cafe" finds "Café" and "strasse" finds "Straße": on SQLite the trigram index takes `sort_name`
  in place of `name` (its rows keep their ids; only the index's own column changes), on
  PostgreSQL the trigram indexes over the name and over all the searched text are rebuilt on it.
  The search text is folded the same way in Python (app/customers/search.py), so one function
  decides what matches on both databases.
- "Did you mean `acme-energy-0168`?": the live keys by their case-folded form, for a key typed in
  the wrong case (SQLite's NOCASE folds ASCII letters; PostgreSQL's lower() all of them).
- Stripe customer ids by themselves: the unique index (app, Stripe id) cannot serve a search that
  does not know the app.

At a million customers the trigram indexes take about as long to rebuild as 0007's took to build.
"""

from alembic import op

revision = "0015_search_finds_anything"
down_revision = "0014_encrypted_stripe_keys"
branch_labels = None
depends_on = None


def _sqlite_fts(name_column: str) -> list[str]:
    """SQLite's trigram index over the search docs (0007, 0011), with `name_column` as its first
    column: `sort_name` from this revision on, `name` before it."""
    columns = f"{name_column}, key, primary_email, subjects"
    return [
        "DROP TRIGGER customer_search_docs_insert",
        "DROP TRIGGER customer_search_docs_delete",
        "DROP TABLE customer_search",
        f"""CREATE VIRTUAL TABLE customer_search USING fts5(
            {columns}, content='customer_search_docs', content_rowid='id', tokenize='trigram')""",
        "INSERT INTO customer_search (customer_search) VALUES ('rebuild')",
        f"""CREATE TRIGGER customer_search_docs_insert AFTER INSERT ON customer_search_docs BEGIN
            INSERT INTO customer_search (rowid, {columns})
            VALUES (new.id, new.{name_column}, new.key, new.primary_email, new.subjects);
        END""",
        f"""CREATE TRIGGER customer_search_docs_delete AFTER DELETE ON customer_search_docs BEGIN
            INSERT INTO customer_search (customer_search, rowid, {columns})
            VALUES ('delete', old.id, old.{name_column}, old.key, old.primary_email, old.subjects);
        END""",
    ]


# Must stay the very expressions app/customers/search.py queries with, or the indexes are not used.
# sort_name is compared in the "C" collation (0011); joined with the other columns it takes the
# database's own, or PostgreSQL could not tell which of the two an ILIKE should use.
POSTGRES_SEARCH_TEXT = (
    """((sort_name COLLATE "default") || E'\\n' || coalesce(key, '') || E'\\n' || coalesce(primary_email, '')"""
    " || E'\\n' || subjects_text)"
)
POSTGRES_SEARCH_TEXT_0007 = (
    "(name || E'\\n' || coalesce(key, '') || E'\\n' || coalesce(primary_email, '') || E'\\n' || subjects_text)"
)


def _postgres_search_text(expression: str) -> list[str]:
    return [
        "DROP INDEX ix_customers_search_text_trgm",
        f"CREATE INDEX ix_customers_search_text_trgm ON customers USING gin ({expression} gin_trgm_ops)",
        # As 0007: a fine sample, so the planner tells a common fragment from a rare one.
        "ALTER INDEX ix_customers_search_text_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    ]


STRIPE_ID_INDEX = (
    "CREATE INDEX ix_customer_app_data_stripe_id ON customer_app_data (stripe_customer_id) "
    "WHERE stripe_customer_id IS NOT NULL"
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        statements = [
            *_sqlite_fts("sort_name"),
            "CREATE INDEX ix_customers_key_live_nocase ON customers (key COLLATE NOCASE) WHERE deleted_at IS NULL",
        ]
    else:
        statements = [
            *_postgres_search_text(POSTGRES_SEARCH_TEXT),
            "DROP INDEX ix_customers_name_trgm",
            "CREATE INDEX ix_customers_sort_name_trgm ON customers USING gin (sort_name gin_trgm_ops)",
            "CREATE INDEX ix_customers_key_live_lower ON customers (lower(key)) WHERE deleted_at IS NULL",
        ]
    for statement in [*statements, STRIPE_ID_INDEX]:
        op.execute(statement)


def downgrade():
    op.execute("DROP INDEX ix_customer_app_data_stripe_id")
    if op.get_bind().dialect.name == "sqlite":
        statements = ["DROP INDEX ix_customers_key_live_nocase", *_sqlite_fts("name")]
    else:
        statements = [
            "DROP INDEX ix_customers_key_live_lower",
            "DROP INDEX ix_customers_sort_name_trgm",
            "CREATE INDEX ix_customers_name_trgm ON customers USING gin (name gin_trgm_ops)",
            *_postgres_search_text(POSTGRES_SEARCH_TEXT_0007),
        ]
    for statement in statements:
        op.execute(statement)
