"""Case- and accent-insensitive substring search over customers, through an index on each database.

Names are searched through their sort key (text_rules.sort_key: "Café" → "cafe", "Straße" →
"strasse"), and the search text is folded the same way, so "cafe" finds "Café" on both databases
(migration 0015). Keys, emails and subject keys are identifiers: they match case-insensitively, by
what was typed or by its folded form.

One interface, two engines:
- SQLite: an FTS5 table with the trigram tokenizer (`customer_search`), fed by triggers from
  `customer_search_docs`, itself fed by triggers from `customers` (migrations 0005 and 0007). The
  docs table gives each customer an INTEGER rowid of our choosing (FTS5 keys rows by rowid, and
  VACUUM may renumber implicit ones): ids in name order, so a search reads its first page of
  matches without sorting them all.
- PostgreSQL: pg_trgm GIN indexes on each searched column and on all of them together, which
  serve ILIKE '%…%' directly.
Both are written by the database itself in the transaction that changes the customer, so the index
can never disagree with the table.

Trigrams need three characters: a shorter fragment falls back to a plain scan (correct, slower).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import ColumnElement, and_, bindparam, column, func, literal_column, or_, select, table

from app.customers.models import Customer, CustomerIdentifier
from app.extensions import UTCDateTime, db
from app.text_rules import bad_characters, sort_key

# What can be searched, by the name each engine knows it by: the name through its sort key.
COLUMNS = {
    "name": Customer.sort_name,
    "key": Customer.key,
    "primary_email": Customer.primary_email,
    "subjects": Customer.subjects_text,
}
TRIGRAM = 3

_docs = table(
    "customer_search_docs",
    column("id"),
    column("customer_id"),
    column("sort_name"),
    column("created_at", UTCDateTime()),
)
_fts = table("customer_search", column("rowid"))
# Subject keys alone, keyed by customer_identifiers.id (migration 0008).
_subject_fts = table("customer_subject_search", column("rowid"))

# The SQLite trigram index's column for each of COLUMNS.
FTS_COLUMNS = {"name": "sort_name", "key": "key", "primary_email": "primary_email", "subjects": "subjects"}

# Everything "search" looks in, as one text that migration 0015 indexes on PostgreSQL (the very
# same expression, or the index is not used). Newlines keep a match from spanning two values:
# searched values and search text never hold one (subject keys are one per line, and each has none).
POSTGRES_SEARCH_TEXT = literal_column(
    """((customers.sort_name COLLATE "default") || E'\\n' || coalesce(customers.key, '')"""
    " || E'\\n' || coalesce(customers.primary_email, '') || E'\\n' || customers.subjects_text)"
)

# The list's text filters and the COLUMNS each searches.
TEXT_FILTERS = {
    "search": ["name", "key", "primary_email", "subjects"],
    "name": ["name"],
    "primary_email": ["primary_email"],
    "subject": ["subjects"],
}
# The filters that the main SQLite index answers (`subject` has an index of its own).
NAME_ORDERED_FILTERS = ("search", "name", "primary_email")
# Orderings the index's own rows can be sorted by.
DOC_SORT = {"name": _docs.c.sort_name, "createdAt": _docs.c.created_at}

# SQLite index row ids (migrations 0007 and 0011): bit 62 marks a deleted customer, bits 30-61 hold
# the first four UTF-8 bytes of the name's sort key, the low 30 bits number the rows sharing them.
# So among live rows, a smaller id never has a later key prefix: walking the index by id walks it
# in name order, up to the order inside one prefix. (Each new row takes the prefix's highest id + 1:
# only after a billion rows added under one prefix would ids spill into the next one's range.)
PREFIX_SHIFT = 30
SAME_PREFIX = (1 << PREFIX_SHIFT) - 1
DELETED_IDS = 1 << 62


def prefix_ids(sort_name: str) -> tuple[int, int]:
    """The first and last id a live index row whose sort key starts like `sort_name` can have."""
    first = int.from_bytes(sort_name.encode()[:4].ljust(4, b"\0"), "big") << PREFIX_SHIFT
    return first, first | SAME_PREFIX


# The same, in SQL, for the bulk load (bench/load.py); migration 0011's triggers hold a frozen copy.
SQLITE_FILL_DOCS = (
    "INSERT INTO customer_search_docs (id, customer_id, name, key, primary_email, subjects, created_at, sort_name) "
    "SELECT base + row_number() OVER (PARTITION BY base ORDER BY sort_name, id) - 1, "
    "       id, name, key, primary_email, subjects_text, created_at, sort_name "
    "  FROM (SELECT customers.*, ((customers.deleted_at IS NOT NULL) << 62) + ((SELECT "
    + " + ".join(f"((instr('0123456789ABCDEF', substr(h, {k + 1}, 1)) - 1) << {4 * (7 - k) + 30})" for k in range(8))
    + " FROM (SELECT substr(hex(substr(customers.sort_name, 1, 4)) || '00000000', 1, 8) AS h))) AS base FROM customers)"
)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def spellings(text: str) -> list[str]:
    """What a search for `text` looks for: its folded form (case and accents, as names' sort keys
    are folded), and the text as typed when folding changed more than its case, for the keys,
    emails and subject keys that hold such letters ("Straße-1" is found by "straße" as well)."""
    folded = sort_key(text)
    if not folded:  # accents alone fold to nothing, which every name would contain
        return [text]
    return [folded] if folded == text.lower() else [folded, text]


def too_short(text: str) -> bool:
    """Whether a spelling of `text` is too short for trigrams (then a scan answers instead)."""
    return any(len(spelling) < TRIGRAM for spelling in spellings(text))


def _fts_phrase(text: str, columns: list[str]) -> str:
    """An FTS5 query for `text`, each of its spellings as one phrase (a substring, with trigrams)
    in these columns."""
    names = " ".join(FTS_COLUMNS.get(c, c) for c in columns)
    phrases = ["{" + names + '} : "' + spelling.replace('"', '""') + '"' for spelling in spellings(text)]
    return "(" + " OR ".join(phrases) + ")"


def _match(query: str, index: str = "customer_search") -> ColumnElement:
    return literal_column(index).op("MATCH")(bindparam(None, query, unique=True))


@dataclass
class Listing:
    """Where a list's rows come from, and how to walk them.

    `source` and `where` give the matching rows, `sort_column` then `id_column` their order;
    `count_source` is what counting them needs to read (less than `source`, when it can be), and
    `count_where` its conditions when they are better written otherwise (see attention.among).
    `window`, when set, narrows a walk: given the walk's conditions, direction, row count and
    starting position, it answers the conditions to walk by instead, which keep the walk to the
    few rows that can be among the result, so that sorting touches those alone (SQLite search).
    """

    id_column: ColumnElement
    sort_column: ColumnElement
    source: object
    where: list[ColumnElement]
    count_source: object = None
    count_where: list[ColumnElement] | None = None  # what counting them needs, when it differs
    window: Callable[[list[ColumnElement], bool, int, tuple | None], list[ColumnElement]] | None = None
    shape: tuple | None = None  # names a listing whose conditions hold no values (see listing._walk)


def _name_window(live: ColumnElement, where: list, descending: bool, limit: int, position: tuple | None) -> list:
    """The conditions for a walk of `limit` live matches in name order after `position`, kept to
    the index rows that can be among them: those up to the end of the name prefix that holds the
    `limit`-th match in id order (any row past it has `limit` matches before it by name).

    `live` is the liveness bound in `where`. FTS5 uses only the first lower and the first upper
    bound on its rowid, so the walk states its own: the start, liveness, the window's end."""
    where = [c for c in where if c is not live]
    if position is not None:
        first, last = prefix_ids(position[0])
    if descending:  # from the start (a live id) or from the last live id, down to the window's end
        fixed = [_fts.c.rowid <= last if position is not None else live]
        probe = fixed
    else:  # from the start, up to the last live id or to the window's end
        fixed = [_fts.c.rowid >= first] if position is not None else []
        probe = [*fixed, live]
    found = db.session.scalars(
        select(_fts.c.rowid)
        .select_from(_fts.join(_docs, _docs.c.id == _fts.c.rowid))
        .where(*where, *probe)
        .order_by(_fts.c.rowid.desc() if descending else _fts.c.rowid)
        .limit(limit)
    ).all()
    if len(found) < limit:
        return [_fts.c.rowid.in_(found)]  # these are all the matches: no need to search again
    end = _fts.c.rowid >= found[-1] & ~SAME_PREFIX if descending else _fts.c.rowid <= found[-1] | SAME_PREFIX
    return [*where, *fixed, end]


def indexed_listing(filters, order_by: str, other_conditions: Callable[[], list[ColumnElement]]) -> Listing | None:
    """For a text search on SQLite sorted by name or creation time: read the list from the search
    index, so that ordering touches only the matches' small index rows and the customers table is
    read for the shown page alone. Live customers sorted by name need not even sort all matches
    (see _name_window).

    None when the generic way applies (PostgreSQL, whose GIN indexes already serve it; other
    orderings; fragments under 3 characters).
    """
    if db.session.get_bind().dialect.name != "sqlite" or order_by not in DOC_SORT:
        return None
    terms = [(TEXT_FILTERS[name], getattr(filters, name)) for name in NAME_ORDERED_FILTERS if getattr(filters, name)]
    if not terms or any(too_short(text) for _, text in terms):
        return None
    where = [_match(" AND ".join(_fts_phrase(text, columns) for columns, text in terms))]
    live = _fts.c.rowid < DELETED_IDS
    if not filters.include_deleted:
        where.append(live)
    joined = _fts.join(_docs, _docs.c.id == _fts.c.rowid)
    others = other_conditions()  # only now: they may read the database (listing's among)
    if others:
        where.append(_docs.c.customer_id.in_(select(Customer.id).where(*others)))
    return Listing(
        _docs.c.customer_id,
        DOC_SORT[order_by],
        joined,
        where,
        count_source=joined if others else _fts,
        window=partial(_name_window, live) if order_by == "name" and not filters.include_deleted else None,
    )


def expects_at_least(query, rows: int) -> bool:
    """Whether PostgreSQL's planner expects `query` to return at least `rows` rows (never on SQLite).

    A GIN index serves only bitmap scans, which gather every match before the first is counted:
    counting even 1,000 of a fragment's 26,000 matches costs 13 ms at a million customers, where
    planning the query costs one. The estimate comes from the search text's statistics (migrations
    0007 and 0015 sample them widely), so callers ask for a margin, not for the limit itself."""
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    compiled = query.compile(dialect=bind.dialect, compile_kwargs={"render_postcompile": True})
    plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return plan[0]["Plan"]["Plan Rows"] >= rows


def contains(text: str, columns: list[str]) -> ColumnElement:
    """Customers having `text` (case and accents folded) inside any of these COLUMNS."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and not too_short(text) and columns == TEXT_FILTERS["subject"]:
        rowids = select(_subject_fts.c.rowid).where(_match(_fts_phrase(text, ["value"]), "customer_subject_search"))
        return Customer.id.in_(select(CustomerIdentifier.customer_id).where(CustomerIdentifier.id.in_(rowids)))
    if dialect == "sqlite" and not too_short(text):
        rowids = select(_fts.c.rowid).where(_match(_fts_phrase(text, columns)))
        return Customer.id.in_(select(_docs.c.customer_id).where(_docs.c.id.in_(rowids)))
    return or_(*(_contains_spelling(spelling, columns, dialect) for spelling in spellings(text)))


def _contains_spelling(text: str, columns: list[str], dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        pattern = _like_pattern(text)
        if columns == TEXT_FILTERS["search"]:
            return POSTGRES_SEARCH_TEXT.ilike(pattern, escape="\\")
        if columns == TEXT_FILTERS["subject"] and len(text) >= 2 * TRIGRAM:
            # Subject keys share namespaces ("sub-", "user_"), so a fragment is often rare only in
            # part: `sub-012345` is made of trigrams that every key has and of rare ones. In one
            # condition, GIN reads each trigram's whole list (1,000,000 entries for `sub`: 8 ms at a
            # million customers). With each half as a condition of its own, it skips through the
            # common lists to the rare half's few matches (1.5 ms; only with the halves first, as
            # measured). The whole fragment still decides.
            middle = len(text) // 2
            halves = (text[: middle + 1], text[middle - 1 :])  # two characters shared: every trigram is in one
            return and_(*(Customer.subjects_text.ilike(_like_pattern(part), escape="\\") for part in (*halves, text)))
        return or_(*(COLUMNS[c].ilike(pattern, escape="\\") for c in columns))
    # SQLite, fragments too short for trigrams: a scan (our lower() folds Unicode; see extensions.py).
    return or_(*(COLUMNS[c].icontains(text, autoescape=True) for c in columns))


# --- Finding one customer from what was typed: its id, key, Stripe customer id ------------------


def same_key_but_case(text: str | ColumnElement) -> ColumnElement:
    """Live customers whose key is `text` (a value or a bound parameter) but for upper and lower
    case, through migration 0015's index (SQLite's NOCASE folds ASCII letters, PostgreSQL's lower()
    all of them)."""
    if db.session.get_bind().dialect.name == "sqlite":
        same = Customer.key.collate("NOCASE") == text
    else:
        same = func.lower(Customer.key) == func.lower(text)
    return and_(same, Customer.deleted_at.is_(None), Customer.key != text)


def searchable(text: str) -> bool:
    """Whether `text` can be looked up at all (PostgreSQL refuses NUL, and no value holds one)."""
    return bool(text) and len(text) <= 256 and not bad_characters(text)
