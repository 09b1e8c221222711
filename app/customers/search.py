"""Case-insensitive substring search over customers, through an index on each database.

One interface, two engines:
- SQLite: an FTS5 table with the trigram tokenizer (`customer_search`), fed by triggers from
  `customer_search_docs`, itself fed by triggers from `customers` (migration 0004). The docs table
  exists only to give each customer a stable INTEGER rowid: FTS5 keys rows by rowid, and VACUUM may
  renumber the implicit rowids of a table whose primary key is not an INTEGER.
- PostgreSQL: pg_trgm GIN indexes on the searched columns, which serve ILIKE '%…%' directly.
Both are written by the database itself in the transaction that changes the customer, so the index
can never disagree with the table.

Trigrams need three characters: a shorter fragment falls back to a plain scan (correct, slower).
"""

from sqlalchemy import ColumnElement, bindparam, column, literal_column, or_, select, table

from app.customers.models import Customer
from app.extensions import db

# What can be searched, by the name each engine knows it by.
COLUMNS = {
    "name": Customer.name,
    "key": Customer.key,
    "primary_email": Customer.primary_email,
    "subjects": Customer.subjects_text,
}
TRIGRAM = 3

_docs = table("customer_search_docs", column("id"), column("customer_id"))
_fts = table("customer_search", column("rowid"))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(text: str, columns: list[str]) -> str:
    """An FTS5 query for `text` as one phrase (a substring, with trigrams) in these columns."""
    phrase = '"' + text.replace('"', '""') + '"'
    return "{" + " ".join(columns) + "} : " + phrase


def contains(text: str, columns: list[str]) -> ColumnElement:
    """Customers having `text`, case-insensitively, inside any of these COLUMNS."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        match = literal_column("customer_search").op("MATCH")(bindparam(None, _fts_phrase(text, columns), unique=True))
        rowids = select(_fts.c.rowid).where(match)
        return Customer.id.in_(select(_docs.c.customer_id).where(_docs.c.id.in_(rowids)))
    if dialect == "postgresql":
        pattern = _like_pattern(text)
        return or_(*(COLUMNS[c].ilike(pattern, escape="\\") for c in columns))
    # SQLite, fragments too short for trigrams: a scan (our lower() folds Unicode; see extensions.py).
    return or_(*(COLUMNS[c].icontains(text, autoescape=True) for c in columns))
