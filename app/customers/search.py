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
from app.extensions import UTCDateTime, db

# What can be searched, by the name each engine knows it by.
COLUMNS = {
    "name": Customer.name,
    "key": Customer.key,
    "primary_email": Customer.primary_email,
    "subjects": Customer.subjects_text,
}
TRIGRAM = 3

_docs = table(
    "customer_search_docs",
    column("id"),
    column("customer_id"),
    column("name"),
    column("created_at", UTCDateTime()),
    column("live"),
)
_fts = table("customer_search", column("rowid"))

# The list's text filters and the COLUMNS each searches.
TEXT_FILTERS = {
    "search": ["name", "key", "primary_email", "subjects"],
    "name": ["name"],
    "primary_email": ["primary_email"],
    "subject": ["subjects"],
}
# Orderings the index's own rows can be sorted by.
DOC_SORT = {"name": _docs.c.name, "createdAt": _docs.c.created_at}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(text: str, columns: list[str]) -> str:
    """An FTS5 query for `text` as one phrase (a substring, with trigrams) in these columns."""
    phrase = '"' + text.replace('"', '""') + '"'
    return "{" + " ".join(columns) + "} : " + phrase


def _match(query: str) -> ColumnElement:
    return literal_column("customer_search").op("MATCH")(bindparam(None, query, unique=True))


def indexed_listing(filters, order_by: str, other_conditions: list[ColumnElement]):
    """For a text search on SQLite sorted by name or creation time: where to read the list from so
    that sorting touches only the matches' small index rows, not the customers table.

    Returns (id column, sort column, source, conditions), or None when the generic way applies
    (PostgreSQL, whose GIN indexes already serve it; other orderings; fragments under 3 characters).
    """
    if db.session.get_bind().dialect.name != "sqlite" or order_by not in DOC_SORT:
        return None
    terms = [(columns, getattr(filters, name)) for name, columns in TEXT_FILTERS.items() if getattr(filters, name)]
    if not terms or any(len(text) < TRIGRAM for _, text in terms):
        return None
    where = [_match(" AND ".join(_fts_phrase(text, columns) for columns, text in terms))]
    if not filters.include_deleted:
        where.append(_docs.c.live == 1)
    if other_conditions:
        where.append(_docs.c.customer_id.in_(select(Customer.id).where(*other_conditions)))
    return _docs.c.customer_id, DOC_SORT[order_by], _fts.join(_docs, _docs.c.id == _fts.c.rowid), where


def contains(text: str, columns: list[str]) -> ColumnElement:
    """Customers having `text`, case-insensitively, inside any of these COLUMNS."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        rowids = select(_fts.c.rowid).where(_match(_fts_phrase(text, columns)))
        return Customer.id.in_(select(_docs.c.customer_id).where(_docs.c.id.in_(rowids)))
    if dialect == "postgresql":
        pattern = _like_pattern(text)
        return or_(*(COLUMNS[c].ilike(pattern, escape="\\") for c in columns))
    # SQLite, fragments too short for trigrams: a scan (our lower() folds Unicode; see extensions.py).
    return or_(*(COLUMNS[c].icontains(text, autoescape=True) for c in columns))
