"""Listing customers: filters, text search, counts, and pages walked by keyset.

The filters reach into other areas (who bills a customer, which plan it is on), so listing sits
above the customer rules, beside the areas it reads; the rules themselves import no other area.
"""

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, String, bindparam, exists, func, literal, or_, select, text, tuple_

from app.apps.models import CustomerAppData
from app.billing.overrides import ORDERINGS as OVERRIDE_ORDERINGS
from app.billing.overrides import CustomerOverride, billed_by
from app.billing.overrides import without_pin as unpinned
from app.common import MAX_PAGE_SIZE, Page
from app.customers import search
from app.customers.attention import ATTENTION, among
from app.customers.models import Customer, CustomerIdentifier, CustomerMetadataEntry, CustomerTag
from app.extensions import db
from app.ids import is_id
from app.plans.models import Plan, Subscription
from app.text_rules import bad_characters

# Built once, for the busiest pages: building a statement and its cache key costs as much as running it.
_BY_IDS = select(Customer).where(Customer.id.in_(bindparam("ids", expanding=True)))
_KEPT_COUNTS = text("SELECT live, deleted FROM customer_counts")
# The currencies customers have, by skipping through the currency index from one to the next (a
# few dozen index seeks, where DISTINCT would read the whole index: a million rows).
_CURRENCIES_IN_USE = text(
    "WITH RECURSIVE used(code) AS ("
    " SELECT min(currency) FROM customers"
    " UNION ALL SELECT (SELECT min(currency) FROM customers WHERE currency > used.code) FROM used"
    " WHERE used.code IS NOT NULL)"
    " SELECT code FROM used WHERE code IS NOT NULL"
)


ORDERINGS = {
    "name": Customer.sort_name,  # as people sort names (text_rules.sort_key)
    "key": Customer.key,
    "id": Customer.id,
    "createdAt": Customer.created_at,
}
# Orderings on a column that is never NULL page by keyset (a cursor naming the row to continue
# after), which costs the same on page 10,000 as on page 1; the key, often NULL, pages by offset.
KEYSET_ORDERINGS = ("name", "id", "createdAt")
# A filtered list counts its matches up to this many, then says "more than"; the unfiltered list
# reads the exact totals that triggers keep in customer_counts (migration 0005).
COUNT_LIMIT = 10_000
# A text search stops sooner: each match counted is a trip through the trigram index (on PostgreSQL
# a heap row too), and past a thousand matches the operator's next step is a narrower search.
SEARCH_COUNT_LIMIT = 1_000
# A text search the database's planner expects to match this many times the limit is not counted.
SURELY_MORE = 10


@dataclass
class CustomerFilters:
    key: str | None = None  # exact, case-sensitive
    name: str | None = None  # the rest: case-insensitive substrings
    primary_email: str | None = None
    subject: str | None = None
    search: str | None = None  # name, key, email or any subject key
    currency: str | None = None
    has_subjects: bool | None = None
    plan_key: str | None = None  # exact: customers whose active subscription is to the live plan with this key
    include_deleted: bool = False
    billing_profile_id: str | None = None  # billed by it: pinned, or unpinned while it is the default
    tag: str | None = None
    # (key, value): metadata with this key and value; (key, None): with this key, whatever its value.
    metadata: tuple[tuple[str, str | None], ...] = ()
    metadata_absent: tuple[str, ...] = ()  # keys the metadata does not have
    country: str | None = None  # of the billing address
    created_from: datetime | None = None  # inclusive
    created_until: datetime | None = None  # exclusive
    has_stripe_customer: bool | None = None  # linked to a Stripe customer
    has_payment_method: bool | None = None  # with a default payment method in Stripe
    has_email: bool | None = None
    attention: str | None = None  # a code of attention.ATTENTION: what the overview counts

    def narrows(self) -> bool:
        """Whether any filter but include_deleted is set (then the kept totals do not apply, and
        the walk is not the unfiltered list's, built once). An empty key or plan key is set: it
        matches no customer."""
        return any(v not in (None, ()) for k, v in vars(self).items() if k != "include_deleted")

    def to_json(self) -> dict:
        """The filters as JSON (for a background job), read back by `of_json`."""
        as_dict = dataclasses.asdict(self)
        for name in ("created_from", "created_until"):
            as_dict[name] = as_dict[name].isoformat() if as_dict[name] else None
        return as_dict

    @classmethod
    def of_json(cls, data: dict) -> "CustomerFilters":
        data = dict(data)
        for name in ("created_from", "created_until"):
            data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
        data["metadata"] = tuple(tuple(pair) for pair in data.get("metadata", ()))
        data["metadata_absent"] = tuple(data.get("metadata_absent", ()))
        return cls(**data)


def _has_subjects() -> ColumnElement:
    return exists().where(CustomerIdentifier.customer_id == Customer.id, CustomerIdentifier.is_subject)


# These filters read their own tables (kept by triggers), as suits how many customers they hold
# (attention.among).


def _with_metadata(key: str, value: str | None, for_a_page: bool) -> ColumnElement:
    found = select(CustomerMetadataEntry.customer_id).where(CustomerMetadataEntry.key == key)
    return among(found.where(CustomerMetadataEntry.value == value) if value is not None else found, for_a_page)


def _without_metadata(key: str) -> ColumnElement:
    """NOT EXISTS, whatever the count: NOT IN would first gather every holder of the key, and
    PostgreSQL cannot turn it into an anti-join; either way the customers are read one by one."""
    return ~exists().where(CustomerMetadataEntry.customer_id == Customer.id, CustomerMetadataEntry.key == key)


def _tagged(tag: str, for_a_page: bool) -> ColumnElement:
    return among(select(CustomerTag.customer_id).where(CustomerTag.tag == tag), for_a_page)


def _linked_to_stripe(column, for_a_page: bool) -> ColumnElement:
    """Customers whose Stripe app data has `column` (the customer id, the payment method) set."""
    linked = select(CustomerAppData.customer_id).where(CustomerAppData.type == "stripe", column.is_not(None))
    return among(linked, for_a_page)


def _either(wanted: bool, condition: ColumnElement) -> ColumnElement:
    return condition if wanted else ~condition


def conditions(filters: CustomerFilters, for_a_page: bool = False) -> list[ColumnElement]:
    """The filters as conditions on customers: to find a page of the list, or to count or read
    every match (see attention.among)."""
    where: list[ColumnElement] = []
    if not filters.include_deleted:
        where.append(Customer.deleted_at.is_(None))
    if filters.key is not None:
        where.append(Customer.key == filters.key)
    if filters.name:
        where.append(search.contains(filters.name, ["name"]))
    if filters.primary_email:
        where.append(search.contains(filters.primary_email, ["primary_email"]))
    if filters.subject:
        where.append(search.contains(filters.subject, ["subjects"]))
    if filters.search:
        where.append(search.contains(filters.search, ["name", "key", "primary_email", "subjects"]))
    if filters.currency:
        where.append(Customer.currency == filters.currency)
    if filters.has_subjects is not None:
        where.append(_has_subjects() if filters.has_subjects else ~_has_subjects())
    if filters.billing_profile_id:
        where.append(billed_by(filters.billing_profile_id))
    if filters.tag is not None:
        where.append(_tagged(filters.tag, for_a_page))
    where += [_with_metadata(key, value, for_a_page) for key, value in filters.metadata]
    where += [_without_metadata(key) for key in filters.metadata_absent]
    if filters.country is not None:
        where.append(Customer.address_country == filters.country)
    if filters.created_from is not None:
        where.append(Customer.created_at >= filters.created_from)
    if filters.created_until is not None:
        where.append(Customer.created_at < filters.created_until)
    if filters.has_stripe_customer is not None:
        linked = _linked_to_stripe(CustomerAppData.stripe_customer_id, for_a_page)
        where.append(_either(filters.has_stripe_customer, linked))
    if filters.has_payment_method is not None:
        with_method = _linked_to_stripe(CustomerAppData.stripe_default_payment_method_id, for_a_page)
        where.append(_either(filters.has_payment_method, with_method))
    if filters.has_email is not None:
        where.append(_either(filters.has_email, Customer.primary_email.is_not(None)))
    if filters.attention in ATTENTION:
        where.append(ATTENTION[filters.attention][1]())
    if filters.plan_key is not None:
        where.append(
            exists().where(
                Subscription.customer_id == Customer.id,
                Subscription.active_to.is_(None),
                Subscription.plan_id == Plan.id,
                Plan.key == filters.plan_key,
                Plan.deleted_at.is_(None),
            )
        )
    return where


def _listing(filters: CustomerFilters, order_by: str) -> search.Listing:
    """Where the list's rows come from: the customers table, or on SQLite the search index when the
    list is a text search (then the customers table is read only for the page that is shown)."""
    indexed = search.indexed_listing(filters, order_by, lambda: conditions(_without_text(filters)))
    if indexed is not None:
        return indexed
    # An unfiltered list's conditions hold no values: its shape names it, and its walks are built once.
    shape = None if filters.narrows() else (order_by, filters.include_deleted)
    page_conditions, count_conditions = conditions(filters, for_a_page=True), conditions(filters)
    return search.Listing(
        Customer.id, ORDERINGS[order_by], Customer, page_conditions, count_where=count_conditions, shape=shape
    )


def _without_text(filters: CustomerFilters) -> CustomerFilters:
    """The filters that the main search index does not answer itself: all but its text filters
    and liveness (the subject filter has an index of its own)."""
    return dataclasses.replace(filters, name=None, primary_email=None, search=None, include_deleted=True)


def _count(filters: CustomerFilters, listing: search.Listing) -> tuple[int, bool]:
    """(total, whether it is only a lower bound)."""
    if not filters.narrows():
        live, deleted = db.session.execute(_KEPT_COUNTS).one()
        return (live + deleted if filters.include_deleted else live), False
    source = listing.count_source if listing.count_source is not None else listing.source
    where = listing.count_where if listing.count_where is not None else listing.where
    matches = select(literal(1)).select_from(source).where(*where)
    text_search = any(getattr(filters, name) for name in search.TEXT_FILTERS)
    limit = SEARCH_COUNT_LIMIT if text_search else COUNT_LIMIT
    if text_search and search.expects_at_least(matches, SURELY_MORE * limit):
        return limit, True  # PostgreSQL: see search.expects_at_least
    found = db.session.scalar(select(func.count()).select_from(matches.limit(limit + 1).subquery())) or 0
    return min(found, limit), found > limit


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: `offset` rows after the row at `position` (before it, when negative).

    `position` is that row's (sort value, id) in the list's order, or None for the end of the list.
    A page's links all count from its own first row, so making them reads nothing."""

    position: tuple | None
    offset: int = 1


def encode_cursor(value, customer_id: str | None, offset: int = 1) -> str:
    """An opaque cursor for "the page starting `offset` rows after (value, customer_id)"."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, customer_id, offset] if offset != 1 else [value, customer_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, order_by: str) -> Cursor | None:
    """The Cursor a cursor string names, or None for a missing or mangled one."""
    if not cursor or order_by not in KEYSET_ORDERINGS:
        return None
    try:
        value, customer_id, *rest = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = rest[0] if rest else 1
        if type(offset) is not int or offset == 0 or abs(offset) > 2 * MAX_PAGE_SIZE or len(rest) > 1:
            return None
        if value is None and customer_id is None and offset < 0:
            return Cursor(None, offset)  # counted back from the end
        if order_by == "createdAt":
            value = datetime.fromisoformat(value).astimezone(UTC)  # OverflowError past year 9999 in UTC
        if not isinstance(customer_id, str) or not isinstance(value, (str, datetime)):
            return None
        if bad_characters(str(value)) or bad_characters(customer_id):  # PostgreSQL refuses NUL
            return None
        return Cursor((value, customer_id), offset)
    # Anyone can write a cursor: bad base64, bad JSON, JSON nested too deep, absurd dates.
    except (ValueError, TypeError, binascii.Error, RecursionError, OverflowError):
        return None


def _beyond(listing: search.Listing, position: tuple, descending: bool) -> ColumnElement:
    """Rows after `position` in the list's order (the order is always the sort column, then id).
    Its values are the parameters `after_value` and `after_id`: a walk built once takes others."""
    ours = tuple_(listing.sort_column, listing.id_column)
    theirs = tuple_(
        bindparam("after_value", position[0], type_=listing.sort_column.type), bindparam("after_id", position[1])
    )
    return ours < theirs if descending else ours > theirs


# The walks of unfiltered lists, by their listing's shape, direction and start: built once, like
# the statements above (each takes its limit, offset and position as parameters).
_BUILT_WALKS: dict[tuple, Select] = {}


def _walk(listing: search.Listing, descending: bool, limit: int, position: tuple | None = None, skip: int = 0) -> list:
    """(id, sort value) of up to `limit` rows in this order, after `position` (or from the start)
    and after skipping `skip` rows."""
    built = (listing.shape, descending, position is not None)
    query = _BUILT_WALKS.get(built) if listing.shape else None
    if query is None:
        order = [listing.sort_column, listing.id_column]
        where = [*listing.where]
        if position is not None:
            where.append(_beyond(listing, position, descending))
        if listing.window is not None:
            where = listing.window(where, descending, skip + limit, position)
        query = (
            select(listing.id_column, listing.sort_column)
            .select_from(listing.source)
            .where(*where)
            .order_by(*(c.desc() if descending else c.asc() for c in order))
            .limit(bindparam("limit"))
            .offset(bindparam("skip"))
        )
        if listing.shape:
            _BUILT_WALKS[built] = query
    parameters = {"limit": limit, "skip": skip}
    if position is not None:
        parameters |= {"after_value": position[0], "after_id": position[1]}
    return db.session.execute(query, parameters).all()


def _walk_to(listing: search.Listing, descending: bool, size: int, cursor: Cursor) -> list | None:
    """The rows of the page that `cursor` starts; None when fewer rows than it counts back over
    lie before its position now (customers were deleted since the link was made)."""
    if cursor.offset > 0:
        return _walk(listing, descending, size, cursor.position, cursor.offset - 1)
    back = _walk(listing, not descending, -cursor.offset, cursor.position)
    if len(back) < -cursor.offset:
        return None
    return back[::-1][:size]


def _nearby_cursors(anchor: tuple, page: Page) -> dict:
    """Cursors for the two pages either side of this one and for the last, all counted from this
    page's first row, at `anchor` (its sort value and id), or, for the last page, back from the end."""
    more = page.total_is_lower_bound and len(page.items) == page.page_size
    cursors: dict[int, str | None] = {1: None}
    for step in (-2, -1, 1, 2):
        target = page.page + step
        if 1 < target and (target <= page.pages or more):
            cursors[target] = encode_cursor(*anchor, step * page.page_size)
    if not page.total_is_lower_bound and page.pages > page.page + 2:
        on_last = page.total - (page.pages - 1) * page.page_size
        cursors[page.pages] = encode_cursor(None, None, -on_last)
    return cursors


def list_customers(
    filters: CustomerFilters,
    page: int = 1,
    page_size: int = 100,
    order_by: str = "name",
    descending: bool = False,
    after: str | None = None,
    load: Callable[[list[str]], dict] | None = None,
) -> Page:
    """One page of customers, in `order_by` (a key of ORDERINGS; the callers check their input).
    `load` reads the page's customers from their ids (id → item, in one query): the console's list
    reads plain rows of what it shows; by default, the items are Customers.

    `after`, a cursor from a previous Page's `cursors`, reaches `page` by keyset instead of by
    offset; a missing or mangled cursor falls back to the offset, so any page number works.
    """
    if any(bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return Page([], 0, page, page_size)  # such a value matches nothing, and PostgreSQL refuses NUL
    if filters.key is not None and not filters.include_deleted and page == 1:
        # A key names at most one live customer: it is the whole first page, with nothing to walk or count.
        items = list(db.session.scalars(select(Customer).where(*conditions(filters))))
        if items and load is not None:
            items = list(load([items[0].id]).values())
        return Page(items, len(items), page, page_size)
    listing = _listing(filters, order_by)
    keyset = order_by in KEYSET_ORDERINGS
    # One walk over the matches finds the page's ids (by keyset from a cursor's row, or by offset
    # when there is none); the customers themselves are then loaded by id.
    cursor = _decode_cursor(after, order_by) if page > 1 else None
    walked = _walk_to(listing, descending, page_size, cursor) if cursor else None
    if walked is None:
        walked = _walk(listing, descending, page_size, skip=(page - 1) * page_size)
    ids = [customer_id for customer_id, _ in walked]
    if not ids:
        loaded = {}
    elif load is not None:
        loaded = load(ids)
    else:
        loaded = {c.id: c for c in db.session.scalars(_BY_IDS, {"ids": ids})}
    items = [loaded[customer_id] for customer_id in ids]
    if page == 1 and len(items) < page_size:
        total, lower_bound = len(items), False  # everything is on this page: nothing more to count
    else:
        total, lower_bound = _count(filters, listing)
    result = Page(items, total, page, page_size, lower_bound)
    if items and keyset:
        first_id, first_value = walked[0]
        result.cursors = _nearby_cursors((first_value, first_id), result)
    return result


def list_overrides(
    filters: CustomerFilters,
    customer_ids: list[str],
    profile_ids: list[str],
    without_pin: bool,
    include_all: bool,
    page: int,
    page_size: int,
    order_by: str = "Id",
    descending: bool = False,
) -> Page:
    """Live customers with their overrides. Without `include_all`, only those that have an override
    row; `profile_ids` keeps those billed by any of them (pinned, or unpinned while it is the default)."""
    where = conditions(filters)
    if customer_ids:
        where.append(Customer.id.in_(customer_ids))
    if profile_ids:
        where.append(or_(*[billed_by(p) for p in profile_ids]))
    if without_pin:
        where.append(unpinned())
    if not include_all:
        where.append(exists().where(CustomerOverride.customer_id == Customer.id))
    column = OVERRIDE_ORDERINGS[order_by]
    ordering = [column.desc(), Customer.id.desc()] if descending else [column.asc(), Customer.id.asc()]
    total = db.session.scalar(select(func.count()).select_from(Customer).where(*where))
    items = db.session.scalars(
        select(Customer).where(*where).order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(list(items), total or 0, page, page_size)


def currencies_in_use() -> tuple[str, ...]:
    """The currencies of customers, live or deleted, in code order."""
    return tuple(db.session.scalars(_CURRENCIES_IN_USE))


# --- One customer from what was typed in the search box -----------------------------------------


@dataclass(frozen=True)
class ExactMatch:
    """The customer that a search text names exactly, and by what ("id", "key", "Stripe customer id")."""

    id: str
    name: str
    deleted: bool
    by: str


_FOUND = (Customer.id, Customer.name, Customer.deleted_at)
# Built once, like the statements above: each is one index lookup, cheaper than building it.
_BY_ID = select(*_FOUND).where(Customer.id == bindparam("text"))
_BY_LIVE_KEY = select(*_FOUND).where(Customer.key == bindparam("text"), Customer.deleted_at.is_(None))
_BY_STRIPE_ID = (
    select(*_FOUND)
    .join(CustomerAppData, CustomerAppData.customer_id == Customer.id)
    .where(CustomerAppData.stripe_customer_id == bindparam("text"))
    .limit(1)
)


def exact_match(text: str) -> ExactMatch | None:
    """The customer whose id (live or deleted), key (live, case-sensitive) or Stripe customer id
    (live customers have app data) is exactly `text`; None when none is."""
    if not search.searchable(text):
        return None
    lookups = [("key", _BY_LIVE_KEY)]
    if is_id(text):
        lookups.insert(0, ("id", _BY_ID))
    if text.startswith("cus_"):
        lookups.append(("Stripe customer id", _BY_STRIPE_ID))
    for by, query in lookups:
        row = db.session.execute(query, {"text": text}).first()
        if row is not None:
            return ExactMatch(row.id, row.name, row.deleted_at is not None, by)
    return None


# By dialect: the case-folded comparison differs (search.same_key_but_case).
_DID_YOU_MEAN: dict[str, Select] = {}


def did_you_mean(text: str) -> list[tuple[str, str]]:
    """(id, key) of up to three live customers whose key is `text` but for upper and lower case."""
    if not search.searchable(text):
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect not in _DID_YOU_MEAN:
        same = search.same_key_but_case(bindparam("text", type_=String()))
        # No ORDER BY: with one, PostgreSQL may walk the key index in key order and filter a million
        # rows, rather than look the few case-variants up in the case-folded index; they are sorted here.
        _DID_YOU_MEAN[dialect] = select(Customer.id, Customer.key).where(same).limit(20)
    found = sorted(db.session.execute(_DID_YOU_MEAN[dialect], {"text": text}), key=lambda row: row.key)
    return [(row.id, row.key) for row in found[:3]]


def walk_ids(filters: CustomerFilters, order_by: str = "name", descending: bool = False, batch: int = 1_000):
    """The ids of every customer the filters match, in the list's order, `batch` at a time (for
    exports). Keyset orderings walk from each batch's last row, so every batch costs the same;
    the others (the key) skip by offset."""
    if any(bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return
    walk = _listing(filters, order_by)
    position, skip = None, 0
    while True:
        if order_by in KEYSET_ORDERINGS:
            walked = _walk(walk, descending, batch, position)
        else:
            walked = _walk(walk, descending, batch, skip=skip)
            skip += batch
        if walked:
            yield [customer_id for customer_id, _ in walked]
        if len(walked) < batch:
            return
        last_id, last_value = walked[-1]
        position = (last_value, last_id)


def walk_rows(
    filters: CustomerFilters, selected: Select, order_by: str = "name", descending: bool = False, batch: int = 1_000
):
    """Every customer the filters match as rows of `selected` (a select over customers, joined as
    it needs), in the list's order, `batch` rows at a time: by keyset on the rows themselves,
    so that each is read once, in one statement per batch. None when the list is not walked so
    (a text search on SQLite reads its own index; the key's order pages by offset): walk_ids then."""
    if order_by not in KEYSET_ORDERINGS or any(bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return None
    walk = _listing(filters, order_by)
    if walk.source is not Customer or walk.window is not None:
        return None
    return _rows_by_keyset(walk, selected, descending, batch)


def _rows_by_keyset(walk: search.Listing, selected: Select, descending: bool, batch: int):
    order = [c.desc() if descending else c.asc() for c in (walk.sort_column, walk.id_column)]
    query = selected.add_columns(walk.sort_column, walk.id_column).where(*walk.where).order_by(*order).limit(batch)
    position = None
    while True:
        step = query if position is None else query.where(_beyond(walk, position, descending))
        rows = db.session.connection().execute(step).all()  # plain rows: nothing for the ORM to do
        if rows:
            yield rows
        if len(rows) < batch:
            return
        position = tuple(rows[-1][-2:])


def count_matching(filters: CustomerFilters) -> int:
    """How many customers the filters match, counted to the last one (for an export's progress:
    a list page counts only so far)."""
    if any(bad_characters(v) for v in vars(filters).values() if isinstance(v, str)):
        return 0
    if not filters.narrows():
        live, deleted = db.session.execute(_KEPT_COUNTS).one()
        return live + deleted if filters.include_deleted else live
    walk = _listing(filters, "name")
    source = walk.count_source if walk.count_source is not None else walk.source
    return db.session.scalar(select(func.count()).select_from(source).where(*walk.where)) or 0
