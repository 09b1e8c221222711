"""Tags on customers; what the list's new filters read (metadata by key and value, tags, country, email); a change's reason

Revision ID: 0019_tags_and_filters
Revises: 0018_overview
Create Date: 2026-12-04

A customer's metadata (JSON) and tags (a JSON list) are kept, one row per entry, in customer_metadata
and customer_tags by triggers on customers, as the search index is (0005): every writer (the rules,
an import's bulk insert, the benchmark's loader) keeps them right without knowing of them, and a
filter on `tier = gold` or a tag reads an index instead of every customer's JSON.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_tags_and_filters"
down_revision = "0018_overview"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE TRIGGER customer_facets_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customer_metadata (customer_id, key, value)
            SELECT new.id, j.key, j.value FROM json_each(new.metadata) AS j;
        INSERT INTO customer_tags (customer_id, tag) SELECT new.id, j.value FROM json_each(new.tags) AS j;
    END""",
    """CREATE TRIGGER customer_metadata_update AFTER UPDATE OF metadata ON customers BEGIN
        DELETE FROM customer_metadata WHERE customer_id = new.id;
        INSERT INTO customer_metadata (customer_id, key, value)
            SELECT new.id, j.key, j.value FROM json_each(new.metadata) AS j;
    END""",
    """CREATE TRIGGER customer_tags_update AFTER UPDATE OF tags ON customers BEGIN
        DELETE FROM customer_tags WHERE customer_id = new.id;
        INSERT INTO customer_tags (customer_id, tag) SELECT new.id, j.value FROM json_each(new.tags) AS j;
    END""",
    """INSERT INTO customer_metadata (customer_id, key, value)
        SELECT c.id, j.key, j.value FROM customers AS c, json_each(c.metadata) AS j""",
]
SQLITE_DOWN = [
    "DROP TRIGGER customer_tags_update",
    "DROP TRIGGER customer_metadata_update",
    "DROP TRIGGER customer_facets_insert",
]

# json: a value that is not an object (or list) has no entries, rather than failing the write.
_ENTRIES = "json_each_text(CASE WHEN json_typeof({0}) = 'object' THEN {0} END)"
_TAGS = "json_array_elements_text(CASE WHEN json_typeof({0}) = 'array' THEN {0} END)"
POSTGRESQL_UP = [
    f"""CREATE FUNCTION customer_facets_follow() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.metadata::text IS DISTINCT FROM OLD.metadata::text THEN
            DELETE FROM customer_metadata WHERE customer_id = NEW.id;
            INSERT INTO customer_metadata (customer_id, key, value)
                SELECT NEW.id, e.key, e.value FROM {_ENTRIES.format("NEW.metadata")} AS e;
        END IF;
        IF TG_OP = 'INSERT' OR NEW.tags::text IS DISTINCT FROM OLD.tags::text THEN
            DELETE FROM customer_tags WHERE customer_id = NEW.id;
            INSERT INTO customer_tags (customer_id, tag) SELECT NEW.id, t FROM {_TAGS.format("NEW.tags")} AS t;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER customer_facets_follow AFTER INSERT OR UPDATE OF metadata, tags ON customers
       FOR EACH ROW EXECUTE FUNCTION customer_facets_follow()""",
    f"""INSERT INTO customer_metadata (customer_id, key, value)
        SELECT c.id, e.key, e.value FROM customers AS c, {_ENTRIES.format("c.metadata")} AS e""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER customer_facets_follow ON customers",
    "DROP FUNCTION customer_facets_follow()",
]


def upgrade():
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    op.create_index("ix_customers_address_country", "customers", ["address_country"])
    op.create_index("ix_customers_primary_email", "customers", ["primary_email"])
    op.create_table(
        "customer_metadata",
        sa.Column("customer_id", sa.String(26), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_index("ix_customer_metadata_key_value", "customer_metadata", ["key", "value", "customer_id"])
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.String(26), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag", "customer_id"])
    for statement in POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade():
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("customer_tags")
    op.drop_table("customer_metadata")
    op.drop_index("ix_customers_primary_email", "customers")
    op.drop_index("ix_customers_address_country", "customers")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("reason")
    # Not batch mode: on SQLite that copies the table, and the copy would lose the search triggers.
    op.execute("ALTER TABLE customers DROP COLUMN tags")
