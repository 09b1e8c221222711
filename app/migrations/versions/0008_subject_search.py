"""A trigram index of subject keys alone, in the order they were added (SQLite)

Revision ID: 0008_subject_search
Revises: 0007_search_order
Create Date: 2026-11-24

Since 0007 the main search index keeps its rows in name order, which scatters the subject keys of
customers added one after another ("sub-0000120", "sub-0000121"…) across it: a search for a piece
of a subject key then reads most of the index. The API's `subject` filter, which systems use to
find the customer of a subject, searches this small index instead, keyed by customer_identifiers'
own ids, where neighbouring keys stay together. Contentless: the values live in customer_identifiers.
PostgreSQL needs nothing new: its subjects_text trigram index (0005) serves that filter.
"""

from alembic import op

revision = "0008_subject_search"
down_revision = "0007_search_order"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE customer_subject_search USING fts5(value, content='', tokenize='trigram')",
    "INSERT INTO customer_subject_search (rowid, value) SELECT id, value FROM customer_identifiers WHERE is_subject",
    """CREATE TRIGGER customer_subject_search_insert AFTER INSERT ON customer_identifiers
       WHEN new.is_subject BEGIN
        INSERT INTO customer_subject_search (rowid, value) VALUES (new.id, new.value);
    END""",
    """CREATE TRIGGER customer_subject_search_delete AFTER DELETE ON customer_identifiers
       WHEN old.is_subject BEGIN
        INSERT INTO customer_subject_search (customer_subject_search, rowid, value) VALUES ('delete', old.id, old.value);
    END""",
    # One trigger, so that the old entry is gone before the new one goes in (same rowid).
    """CREATE TRIGGER customer_subject_search_update AFTER UPDATE OF value, is_subject ON customer_identifiers BEGIN
        INSERT INTO customer_subject_search (customer_subject_search, rowid, value)
        SELECT 'delete', old.id, old.value WHERE old.is_subject;
        INSERT INTO customer_subject_search (rowid, value) SELECT new.id, new.value WHERE new.is_subject;
    END""",
]

SQLITE_DOWN = [
    "DROP TRIGGER customer_subject_search_update",
    "DROP TRIGGER customer_subject_search_delete",
    "DROP TRIGGER customer_subject_search_insert",
    "DROP TABLE customer_subject_search",
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
