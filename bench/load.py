"""Load N realistic customers fast, straight into the tables, in batches.

The rows are what the rules would write (ULID ids, one identifier row per key/subject, the
subjects_text column). Rules are skipped for speed; the database's own triggers still keep the
counts and the search index, except where a bulk path is much faster and gives the same result.
"""

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from ulid import ULID

from app.customers.search import SQLITE_FILL_DOCS
from app.text_rules import sort_key

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
SUFFIXES = [
    "Labs",
    "Logistics",
    "Analytics",
    "Robotics",
    "Foods",
    "Energy",
    "Systems",
    "Studio",
    "Bank",
    "Telecom",
    "Games",
    "Ventures",
    "Media",
    "Health",
    "Cloud",
    "Industries",
    "Partners",
    "Holdings",
    "Motors",
    "Pharma",
    "Textiles",
    "Airlines",
    "Insurance",
    "Foundry",
    "Kitchens",
    "Outfitters",
    "Dynamics",
    "Networks",
    "Devices",
    "Brewing",
    "Farms",
    "Shipping",
    "Mining",
    "Optics",
    "Capital",
    "Consulting",
    "Education",
    "Biotech",
]
# Every STRIPE_EVERY-th customer (0, 4, 8…) is linked to a Stripe customer, cus_B<its number>, in
# one Stripe app: the search box finds customers by their Stripe customer id.
STRIPE_EVERY = 4
STRIPE_APP_ID = "01JBENCHSTR1PEAPP000000000"
CURRENCIES = ["USD", "EUR", "GBP", "HUF", "JPY", "CHF", "SEK", "CAD", "BRL", "INR"]
COUNTRIES = ["US", "DE", "GB", "HU", "JP", "CH", "SE", "CA", "BR", "IN"]
BATCH = 10_000


def pseudo_words(count: int, rng: random.Random) -> list[str]:
    """Distinct made-up company words ("Dakorin", "Zumeta"…): each is rare among a million names."""
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize())
    return sorted(words)


def rows(n: int, seed: int = 7):
    """Yield (customer, identifiers) for customer number 0..n-1, deterministically."""
    rng = random.Random(seed)
    words = pseudo_words(max(1000, n // 20), rng)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        created = start + timedelta(seconds=i * 7)
        name = f"{rng.choice(words)} {rng.choice(SUFFIXES)}"
        key = f"cust-{i:07d}"
        subject = f"sub-{i:07d}"
        currency_at = rng.randrange(len(CURRENCIES))
        customer_id = str(ULID.from_datetime(created))
        yield (
            {
                "id": customer_id,
                "name": name,
                "sort_name": sort_key(name),
                "key": key,
                # One in ten has no email (the list's "without an email" filter).
                "primary_email": f"billing+{i}@{name.split()[0].lower()}.example" if i % 10 else None,
                "currency": CURRENCIES[currency_at],
                "address_country": COUNTRIES[currency_at],
                "metadata": json.dumps(_metadata(i)),
                "tags": json.dumps(_tags(i)),
                "subjects_text": subject,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            },
            [
                {"customer_id": customer_id, "value": key, "is_key": True, "is_subject": False, "position": -1},
                {"customer_id": customer_id, "value": subject, "is_key": False, "is_subject": True, "position": 0},
            ],
        )


TIERS = ("gold", "silver", "bronze")


def _metadata(i: int) -> dict:
    """Every customer has a tier; one in twenty an account manager (a key present or absent)."""
    return {"tier": TIERS[i % 3]} | ({"account_manager": f"am-{i % 7}"} if i % 20 == 0 else {})


def _tags(i: int) -> list[str]:
    """One in fifty is a "vip" (a rare tag), one in seven a "key-account" (a common one)."""
    return [t for t, every in (("key-account", 7), ("vip", 50)) if i % every == 0]


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    bar = "#" * int(30 * done / total)
    sys.stderr.write(f"\r  loading [{bar:<30}] {done:>9,}/{total:,}  {rate:,.0f} customers/s")
    sys.stderr.flush()


CUSTOMER_COLUMNS = (
    "id",
    "name",
    "sort_name",
    "key",
    "primary_email",
    "currency",
    "address_country",
    "metadata",
    "tags",
    "subjects_text",
    "created_at",
    "updated_at",
    "version",
)
IDENTIFIER_COLUMNS = ("customer_id", "value", "is_key", "is_subject", "position")
APP_DATA_COLUMNS = ("customer_id", "app_id", "type", "stripe_customer_id", "created_at", "updated_at", "version")


def stripe_customer_id(i: int) -> str:
    """The Stripe customer id of customer number i (one of every STRIPE_EVERY has one)."""
    return f"cus_B{i:07d}"


def _insert_sql(table: str, columns: tuple[str, ...], placeholder: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))})"


def load(url: str, n: int) -> float:
    """Insert n customers into the (migrated, empty) database at `url`; returns the seconds taken."""
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    # Straight to the driver's executemany, in its own parameter style: the SQLAlchemy layer would
    # cost a third of the load. SQLite stores datetimes as SQLAlchemy writes them, as text.
    placeholder = "?" if sqlite else "%s"
    insert_customers = _insert_sql("customers", CUSTOMER_COLUMNS, placeholder)
    insert_identifiers = _insert_sql("customer_identifiers", IDENTIFIER_COLUMNS, placeholder)
    insert_app_data = _insert_sql("customer_app_data", APP_DATA_COLUMNS, placeholder)

    def stored(value):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite and isinstance(value, datetime) else value

    started = time.monotonic()
    with engine.begin() as conn:
        if sqlite:
            # A page cache that holds the indexes being built: the default 2 MB would spill them to
            # the log again and again inside the one transaction.
            conn.exec_driver_sql("PRAGMA cache_size = -1048576")
            # One big transaction. The per-row triggers of the search index and the counts are
            # replaced by one bulk fill and one recount below.
            trigger_sql = [
                conn.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE name = '{name}'").scalar_one()
                for name in ("customer_search_customer_insert", "customer_counts_insert")
            ]
            conn.exec_driver_sql("DROP TRIGGER customer_search_customer_insert")
            conn.exec_driver_sql("DROP TRIGGER customer_counts_insert")
        else:
            # Per-row count updates would serialise on one row: recount once at the end instead.
            conn.exec_driver_sql("ALTER TABLE customers DISABLE TRIGGER customer_counts_follow")
        now = stored(datetime.now(UTC))
        conn.exec_driver_sql(
            "INSERT INTO apps (id, type, name, metadata, status, stripe_livemode, created_at, updated_at, version) "
            f"VALUES ({', '.join([placeholder] * 9)})",
            (STRIPE_APP_ID, "stripe", "Stripe (benchmark)", "{}", "ready", False, now, now, 1),
        )
        batch_c, batch_i, batch_a, done = [], [], [], 0

        def flush() -> None:
            conn.exec_driver_sql(insert_customers, batch_c)
            conn.exec_driver_sql(insert_identifiers, batch_i)
            if batch_a:
                conn.exec_driver_sql(insert_app_data, batch_a)

        for i, (customer, idents) in enumerate(rows(n)):
            batch_c.append(tuple(stored(customer[c]) for c in CUSTOMER_COLUMNS))
            batch_i.extend(tuple(ident[c] for c in IDENTIFIER_COLUMNS) for ident in idents)
            if i % STRIPE_EVERY == 0:
                created = stored(customer["created_at"])
                batch_a.append((customer["id"], STRIPE_APP_ID, "stripe", stripe_customer_id(i), created, created, 1))
            if len(batch_c) == BATCH:
                flush()
                done += len(batch_c)
                batch_c, batch_i, batch_a = [], [], []
                _progress(done, n, started)
        if batch_c:
            flush()
            done += len(batch_c)
            _progress(done, n, started)
        conn.exec_driver_sql(
            "UPDATE customer_counts SET live = (SELECT count(*) FROM customers WHERE deleted_at IS NULL), "
            "deleted = (SELECT count(*) FROM customers WHERE deleted_at IS NOT NULL)"
        )
        if sqlite:
            conn.exec_driver_sql(SQLITE_FILL_DOCS)
            for sql in trigger_sql:
                conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("ALTER TABLE customers ENABLE TRIGGER customer_counts_follow")
    # Settle the database as it settles by itself soon after any bulk import, so that the benchmark
    # measures the steady state and not the aftermath: SQLite folds its write-ahead log (a gigabyte
    # at a million) back into the file, where reads need not look it up first; PostgreSQL's VACUUM
    # sets the visibility map that index-only scans need (autovacuum would, a minute later and in
    # the middle of the measurements). Both refresh the planner's statistics.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if sqlite:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    engine.dispose()
    sys.stderr.write("\n")
    return time.monotonic() - started
