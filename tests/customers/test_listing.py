"""Listing at scale: the search index, the kept totals, keyset pages and a fixed number of queries."""

import random
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from app import common
from app.customers import lifecycle as customer_lifecycle
from app.customers import listing as customer_listing
from app.customers import rules
from app.customers.listing import CustomerFilters
from app.customers.rules import CustomerInput
from app.extensions import db
from app.text_rules import sort_key

pytestmark = pytest.mark.usefixtures("ctx")


def make(name, key=None, subjects=(), **fields):
    return rules.create(CustomerInput(name=name, key=key, subject_keys=list(subjects), **fields))


def names(**filters):
    return sorted(c.name for c in customer_listing.list_customers(CustomerFilters(**filters), page_size=1000).items)


def test_search_finds_fragments_in_any_field_case_insensitively():
    make("Ørsted Énergie", key="orsted-1", subjects=["wind-farm-north"], primary_email="Billing@Orsted.example")
    make("Acme Σίγμα", key="acme-2", subjects=["acme-meter"])
    make("Nothing alike", key="other")
    assert names(search="ÉNERG") == ["Ørsted Énergie"]
    assert names(search="énerg") == ["Ørsted Énergie"]
    assert names(search="σίγμα") == ["Acme Σίγμα"]
    assert names(search="farm-no") == ["Ørsted Énergie"]
    assert names(search="billing@ORSTED") == ["Ørsted Énergie"]
    assert names(search="cme-2") == ["Acme Σίγμα"]
    assert names(search="me") == ["Acme Σίγμα"]  # too short for trigrams: the fallback scan
    assert names(search='"quoted" AND name:x OR') == []  # query syntax is matched literally
    assert names(search="100%") == [] and names(search="a_b") == []


def test_field_filters_search_only_their_field():
    make("Wind Power", key="wp", subjects=["solar-1"], primary_email="ops@wind.example")
    make("Solar Inc", key="si", subjects=["wind-1"], primary_email="ops@solar.example")
    assert names(name="wind") == ["Wind Power"]
    assert names(subject="wind") == ["Solar Inc"]
    assert names(primary_email="solar.ex") == ["Solar Inc"]


def test_a_subject_fragment_matches_whole_not_by_its_halves():
    # PostgreSQL also hands the index each half of a long fragment ("sub-01", "012345"): a customer
    # with both halves in different keys (one line each in the subjects text) is no match.
    make("Whole", subjects=["sub-0123456"])
    make("Halves apart", subjects=["sub-01", "x012345"])
    make("Wildcards", subjects=["sub_01%2345"])
    assert names(subject="sub-012345") == ["Whole"]
    assert names(subject="SUB-0123") == ["Whole"]
    assert names(subject="sub_01%2345") == ["Wildcards"]  # _ and % are matched literally


def test_the_index_follows_every_write():
    customer = make("Before Rename", key="k1", subjects=["alpha-subject"])
    customer_lifecycle.replace(customer.id, CustomerInput(name="After Rename", key="k1", subject_keys=["beta-subject"]))
    assert names(search="before") == [] and names(search="after ren") == ["After Rename"]
    assert names(subject="alpha") == [] and names(subject="beta-sub") == ["After Rename"]
    customer_lifecycle.delete(customer.id)
    assert names(search="after ren") == [] and names(search="after ren", include_deleted=True) == ["After Rename"]


def test_the_subject_index_follows_keys_becoming_subjects_and_back():
    customer = make("Flips", key="key-one", subjects=["meter-one"])
    assert names(subject="key-on") == []  # a key alone is not a subject
    customer_lifecycle.replace(
        customer.id, CustomerInput(name="Flips", key="key-one", subject_keys=["key-one", "meter-one"])
    )
    assert names(subject="key-on") == ["Flips"] and names(subject="meter-o") == ["Flips"]
    customer_lifecycle.replace(customer.id, CustomerInput(name="Flips", key="key-one", subject_keys=["meter-two"]))
    assert names(subject="key-on") == [] and names(subject="meter-o") == [] and names(subject="meter-t") == ["Flips"]
    assert names(subject="meter-t", search="flip") == ["Flips"] and names(subject="meter-t", search="other") == []


def test_totals_are_kept_exactly_through_creates_and_deletes():
    for i in range(5):
        make(f"C{i}", key=f"k{i}")
    customer_lifecycle.delete("k0")
    assert customer_listing.list_customers(CustomerFilters()).total == 4
    assert customer_listing.list_customers(CustomerFilters(include_deleted=True)).total == 5
    live, deleted = db.session.execute(text("SELECT live, deleted FROM customer_counts")).one()
    assert (live, deleted) == (4, 1)


def test_filtered_totals_stop_counting_at_the_limit(monkeypatch):
    monkeypatch.setattr(customer_listing, "COUNT_LIMIT", 4)
    monkeypatch.setattr(customer_listing, "SEARCH_COUNT_LIMIT", 3)
    for i in range(6):
        make(f"Match {i}", key=f"m{i}", currency="EUR")
    page = customer_listing.list_customers(CustomerFilters(search="match"), page_size=2)
    assert (page.total, page.total_is_lower_bound) == (3, True)
    page = customer_listing.list_customers(CustomerFilters(currency="EUR"), page_size=2)
    assert (page.total, page.total_is_lower_bound) == (4, True)


@pytest.mark.parametrize(
    ("order_by", "descending"), [("name", False), ("name", True), ("createdAt", False), ("id", True)]
)
def test_keyset_pages_equal_offset_pages(order_by, descending):
    for i in range(38):
        make(f"Customer {i % 7}", key=f"k{i:02d}")  # repeated names: the id breaks ties
    filters = CustomerFilters()
    by_offset = [
        [c.id for c in customer_listing.list_customers(filters, p, 5, order_by, descending).items] for p in range(1, 9)
    ]
    walked, cursor = [], None
    for p in range(1, 9):
        page = customer_listing.list_customers(filters, p, 5, order_by, descending, after=cursor)
        walked.append([c.id for c in page.items])
        cursor = page.cursors.get(p + 1)
    assert walked == by_offset
    # Jumping through the cursors offered for pages two back, two ahead and the last (three rows)
    # lands right too, and so does going back a page at a time.
    middle = customer_listing.list_customers(filters, 4, 5, order_by, descending, after=None)
    for target, cursor in middle.cursors.items():
        jumped = customer_listing.list_customers(filters, target, 5, order_by, descending, after=cursor)
        assert [c.id for c in jumped.items] == by_offset[target - 1], target
    assert set(middle.cursors) == {1, 2, 3, 5, 6, 8}
    page = customer_listing.list_customers(filters, 8, 5, order_by, descending, after=middle.cursors[8])
    for p in range(7, 0, -1):
        page = customer_listing.list_customers(filters, p, 5, order_by, descending, after=page.cursors.get(p))
        assert [c.id for c in page.items] == by_offset[p - 1], p


def test_a_link_back_over_more_rows_than_remain_falls_back_to_the_offset():
    for i in range(16):
        make(f"C{i:02d}", key=f"k{i:02d}")
    fourth = customer_listing.list_customers(CustomerFilters(), 4, 4)
    assert [c.name for c in fourth.items] == ["C12", "C13", "C14", "C15"]
    for i in range(6):
        customer_lifecycle.delete(f"k{i:02d}")
    # Page 2's link counts eight rows back from C12, and only six (C06–C11) lie before it now:
    # page 2 is then the fifth to eighth rows that remain.
    second = customer_listing.list_customers(CustomerFilters(), 2, 4, after=fourth.cursors[2])
    assert [c.name for c in second.items] == ["C10", "C11", "C12", "C13"]


def test_a_page_is_loaded_by_the_callers_loader_on_every_path():
    one = make("One", key="k1")
    make("Two", key="k2")

    def load(ids):  # a row of what a list shows (its cursors need the sort column)
        return {i: SimpleNamespace(id=i, name="loaded") for i in ids}

    # The walk, and the key's direct read of its one customer.
    assert customer_listing.list_customers(CustomerFilters(name="one"), load=load).items == [
        SimpleNamespace(id=one.id, name="loaded")
    ]
    assert customer_listing.list_customers(CustomerFilters(key="k1"), load=load).items == [
        SimpleNamespace(id=one.id, name="loaded")
    ]
    assert customer_listing.list_customers(CustomerFilters(key="none"), load=load).items == []


def test_a_mangled_cursor_falls_back_to_the_offset():
    for i in range(6):
        make(f"C{i}", key=f"k{i}")
    page = customer_listing.list_customers(CustomerFilters(), 2, 3, after="not-a-cursor")
    assert [c.name for c in page.items] == ["C3", "C4", "C5"]


def test_the_list_page_costs_the_same_queries_for_few_or_many_customers(app, count_queries):
    client = app.test_client()

    def queries_for_list() -> int:
        count_queries.clear()
        assert client.get("/customers/?size=50").status_code == 200
        return len(count_queries)

    queries_for_list()  # the first request also runs the first-start checks
    for i in range(160):
        make(f"C{i:03d}", key=f"k{i:03d}", subjects=[f"s{i}", f"t{i}"], metadata={"a": "b"})
    few = queries_for_list()
    for i in range(160, 400):
        make(f"C{i:03d}", key=f"k{i:03d}", subjects=[f"s{i}", f"t{i}"], metadata={"a": "b"})
    many = queries_for_list()
    # Profiles, the walk, the rows, the totals, the plans, the currencies in use (the filter lists
    # them first), and the saved views.
    assert many == few <= 7, "\n".join(q[:90] for q in count_queries)


def test_the_customer_page_costs_the_same_queries_for_one_or_many_subjects(app, count_queries):
    client = app.test_client()

    def queries_for(customer) -> int:
        count_queries.clear()
        assert client.get(f"/customers/{customer.id}").status_code == 200
        return len(count_queries)

    small = make("Small", key="small", subjects=["s"])
    queries_for(small)  # the first request also runs the first-start checks
    big = make("Big", key="big", subjects=[f"s{i}" for i in range(30)], metadata={f"k{i}": "v" for i in range(30)})
    small_count = queries_for(small)
    small_queries = list(count_queries)
    assert small_count == queries_for(big) <= 12, "\n".join(q[:90] for q in small_queries + ["--"] + count_queries)


def test_search_pages_sorts_and_filters_through_the_index():
    for i in range(12):
        make(f"Logistics {i:02d}", key=f"l{i:02d}", currency="EUR" if i % 2 else "USD")
    make("Other", key="other")
    customer_lifecycle.delete("l00")
    first = customer_listing.list_customers(CustomerFilters(search="logist"), 1, 5)
    assert [c.name for c in first.items] == [f"Logistics {i:02d}" for i in range(1, 6)]
    assert (first.total, first.total_is_lower_bound) == (11, False)
    second = customer_listing.list_customers(CustomerFilters(search="logist"), 2, 5, after=first.cursors[2])
    assert [c.name for c in second.items] == [f"Logistics {i:02d}" for i in range(6, 11)]
    newest = customer_listing.list_customers(CustomerFilters(search="logist"), 1, 3, "createdAt", descending=True)
    assert [c.name for c in newest.items] == ["Logistics 11", "Logistics 10", "Logistics 09"]
    assert names(search="logist", currency="EUR") == [f"Logistics {i:02d}" for i in range(1, 12, 2)]
    assert names(search="logist", include_deleted=True)[0] == "Logistics 00"
    assert names(search="logist", name="tics 1") == ["Logistics 10", "Logistics 11"]


SEARCH_NAMES = [
    # Names sharing their first four bytes, names differing only later, short names, non-ASCII
    # (several bytes a character), and one that sorts before all others by its first byte.
    *(f"Alph{tail} Logistics" for tail in ("a Beta", "ine", "a", "", "a")),  # added against name order
    *(f"Zulu Logistics {i}" for i in range(6)),
    "Ész Logistics",
    "Éva Logistics",
    "Ω Logistics",
    "Log",
    "Logistics",
    "1 Logistics",
    "alpha logistics",
]


@pytest.mark.parametrize("descending", [False, True])
def test_search_pages_by_name_walk_every_match_in_order(descending):
    made = [make(name, key=f"s{i:02d}") for i, name in enumerate(SEARCH_NAMES)]
    customer_lifecycle.replace(made[0].id, CustomerInput(name="Zz Logistics renamed", key="s00"))
    customer_lifecycle.delete("s01")
    matches = [c for c in customer_listing.list_customers(CustomerFilters(), page_size=1000).items if "ogist" in c.name]
    expected = [(c.name, c.id) for c in sorted(matches, key=lambda c: (sort_key(c.name), c.id), reverse=descending)]
    for size in (1, 2, 3, 5):
        walked, cursor, page_number = [], None, 1
        while True:
            page = customer_listing.list_customers(
                CustomerFilters(search="OGIST"), page_number, size, "name", descending, cursor
            )
            assert [(c.name, c.id) for c in page.items] == expected[(page_number - 1) * size :][:size]
            walked += page.items
            two_ahead = page.cursors.get(page_number + 2)  # the pager's link two pages on
            if two_ahead:
                jumped = customer_listing.list_customers(
                    CustomerFilters(search="ogist"), page_number + 2, size, "name", descending, two_ahead
                )
                assert [(c.name, c.id) for c in jumped.items] == expected[(page_number + 1) * size :][:size]
            cursor = page.cursors.get(page_number + 1)
            if cursor is None:
                break
            page_number += 1
        assert len(walked) == len(expected), size
        by_offset = customer_listing.list_customers(CustomerFilters(search="ogist"), 3, size, "name", descending)
        assert [(c.name, c.id) for c in by_offset.items] == expected[2 * size :][:size]


def test_a_search_the_planner_expects_to_match_thousands_is_not_counted(count_queries):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no planner estimate to ask: it counts up to the limit")
    db.session.execute(
        text(
            "INSERT INTO customers (id, name, sort_name, subjects_text, metadata, created_at, updated_at, version) "
            "SELECT lpad(n::text, 26, '0'), 'Logistics ' || n, 'logistics ' || n, '', '{}', now(), now(), 1 "
            "FROM generate_series(1, 12000) AS n"
        )
    )
    db.session.commit()
    db.session.execute(text("ANALYZE customers"))
    count_queries.clear()
    page = customer_listing.list_customers(CustomerFilters(search="logistics"), 1, 50)
    assert (page.total, page.total_is_lower_bound) == (customer_listing.SEARCH_COUNT_LIMIT, True)
    assert [c.name for c in page.items[:3]] == ["Logistics 1", "Logistics 10", "Logistics 100"]
    assert not [q for q in count_queries if "count(" in q]
    # A fragment the planner expects in few names is counted exactly: 1100 and 11000–11009.
    assert customer_listing.list_customers(CustomerFilters(search="logistics 1100"), 1, 5).total == 11


def test_a_common_fragment_walks_the_live_names_in_order(app):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the index of live names is PostgreSQL's (migration 0011)")
    db.session.execute(
        text(
            "INSERT INTO customers (id, name, sort_name, key, subjects_text, metadata, created_at, updated_at, version) "
            "SELECT lpad(n::text, 26, '0'), 'Customer ' || n, 'customer ' || n, 'k' || n, 'meter-' || n, '{}', "
            "now(), now(), 1 "
            "FROM generate_series(1, 12000) AS n"
        )
    )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE customers")  # as autovacuum does
    walks = []

    def keep_the_walk(conn, cursor, statement, parameters, *args):
        if statement.startswith("SELECT customers.id, customers.sort_name \nFROM customers"):
            walks.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep_the_walk)
    try:
        page = customer_listing.list_customers(CustomerFilters(search="meter-1"), 1, 50)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep_the_walk)
    assert [c.name for c in page.items[:2]] == ["Customer 1", "Customer 10"]
    statement, parameters = walks[0]
    plan = "\n".join(db.session.connection().exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters).scalars())
    # In name order from the index, stopping at the page's last match: no sort of all the matches.
    assert "Index Scan using ix_customers_live_sort_name" in plan and "Sort" not in plan, plan


def test_the_largest_customer_is_saved_and_listed():
    """Every text at its longest, in characters of four UTF-8 bytes that do not compress: no index
    row may outgrow what the database takes (PostgreSQL's B-tree rows stop at 2,704 bytes)."""
    rng = random.Random(7)
    letters = [chr(c) for c in range(0x1D400, 0x1D7FF) if chr(c).isalpha()]

    def text_of(n: int) -> str:
        return "".join(rng.choice(letters) for _ in range(n))

    subjects = [text_of(common.SUBJECT_MAX) for _ in range(20)]
    created = rules.create(
        CustomerInput(name=text_of(common.NAME_MAX), key=text_of(common.KEY_MAX), subject_keys=subjects)
    )
    assert [c.id for c in customer_listing.list_customers(CustomerFilters()).items] == [created.id]
    assert customer_listing.list_customers(CustomerFilters(subject=subjects[-1][5:40])).items[0].id == created.id


def test_search_index_ids_follow_the_name_prefix():
    """On SQLite each index row's id encodes its name's first bytes (app/customers/search.py);
    the triggers that assign them must agree with the Python that queries by them."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("the name-ordered index ids are SQLite's")
    from app.customers.search import DELETED_IDS, SQLITE_FILL_DOCS, prefix_ids

    for i, name in enumerate(SEARCH_NAMES):
        make(name, key=f"p{i:02d}")
    customer_lifecycle.replace("p00", CustomerInput(name="Renamed", key="p00"))
    customer_lifecycle.delete("p01")
    rows = db.session.execute(
        text(
            "SELECT d.id, c.sort_name, c.deleted_at IS NOT NULL FROM customer_search_docs d "
            "JOIN customers c ON c.id = d.customer_id"
        )
    ).all()
    ids_by_customer = "SELECT customer_id, id >> 30 FROM customer_search_docs ORDER BY customer_id"
    rows_by_customer = db.session.execute(text(ids_by_customer)).all()
    assert len(rows) == len(SEARCH_NAMES)
    for doc_id, sort_name, deleted in rows:
        first, last = prefix_ids(sort_name)
        offset = DELETED_IDS if deleted else 0
        assert first + offset <= doc_id <= last + offset, sort_name
    # The benchmark's bulk load fills the index with SQLITE_FILL_DOCS instead: ids in the same ranges,
    # and the same answers.
    before = names(search="ogist"), names(search="ogist", include_deleted=True)
    db.session.execute(text("DELETE FROM customer_search_docs"))
    db.session.execute(text(SQLITE_FILL_DOCS))
    assert db.session.execute(text(ids_by_customer)).all() == rows_by_customer
    assert (names(search="ogist"), names(search="ogist", include_deleted=True)) == before
