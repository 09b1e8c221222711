"""Measure exporting and importing customers through the app's jobs, beside the raw driver.

    python -m bench.transfer --db sqlite --rows 100000
    python -m bench.transfer --db postgresql --rows 100000 [--postgres-url URL]

(PostgreSQL: the URL's database, by default postgresql+psycopg://postgres@127.0.0.1:5432/bench_transfer,
and one named after it with "_floor" are made afresh through the server's `postgres` database, and dropped
at the end. SQLite: files in a temporary directory.)

Export: N customers loaded (bench/load.py) into a fresh, migrated database, then an export job to CSV
started and run as the console does (app/jobs/runner.py; the file is written into the database).
Import: a CSV of N new customers into a fresh, migrated, empty database: the check job (storing the
upload included), then the import job. Each of our runs is a process of its own, at N/10 and at N
rows, and reports its peak resident memory: flat memory shows as the same figure at both sizes.

Our rows per second are printed beside a floor measured in the same run: the raw driver (sqlite3 or
psycopg, no SQLAlchemy) reading the export's rows (its query, joins included, in one statement) into
the csv module (fetchmany of 1,000), and inserting the rows our import writes (customer, identifier,
history) with executemany (1,000 at a time, one commit) into another fresh database. The issue's
goals: export at least 70% of its floor, import (check and write) at least 50%. For comparison the
export's line also gives the customers table read alone, without joins.
"""

import argparse
import csv
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from ulid import ULID

from app.common import ADDRESS_FIELDS
from app.text_rules import sort_key
from bench.run import ROOT, prepare_database

CONFIG = {"SECRET_KEY": "benchmark-only", "JOBS_IMMEDIATE": True}
CHUNK = 256 * 1024  # the upload's pieces, as the console stores them
BATCH = 1_000
GOALS = {"export": 70, "import": 50}  # ours as a percentage of the floor, from the issue
EXPORT_COLUMNS = (
    *("id", "key", "name", "primary_email", "currency", "subjects_text"),
    *(f"address_{attr}" for attr in ADDRESS_FIELDS),
    *("created_at", "updated_at", "deleted_at", "metadata"),
)
IMPORT_HEADER = ("key", "name", "email", "currency", "country", "subject_keys")
# What our import writes for each new customer, by table (the floor writes the same).
FLOOR_TABLES = {
    "customers": (
        *("id", "name", "sort_name", "key", "primary_email", "currency", "address_country", "subjects_text"),
        *("metadata", "tags", "created_at", "updated_at", "version"),
    ),
    "customer_identifiers": ("customer_id", "value", "is_key", "is_subject", "position"),
    "history": ("at", "actor_type", "actor_id", "actor_name", "entity_type", "entity_id", "action", "changes"),
}


def recreate_postgres(postgres_url: str, create: bool = True) -> None:
    """Drop the URL's database (and make it again, empty, unless not `create`)."""
    base = sa.make_url(postgres_url)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base.database}" WITH (FORCE)'))
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{base.database}"'))
    admin.dispose()


def empty_database(kind: str, postgres_url: str, path: Path) -> str:
    """A fresh, migrated database without customers (at `path` for SQLite); returns its URL."""
    from flask_migrate import upgrade

    from app import create_app

    if kind == "sqlite":
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        recreate_postgres(postgres_url)
        url = postgres_url
    with create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-only"}).app_context():
        upgrade()
    return url


def raw_connection(url: str):
    """The driver's own connection to the database at a SQLAlchemy URL."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite3.connect(parsed.database)
    import psycopg  # here, not at the top: our children need not load it

    return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))


def write_import_file(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(IMPORT_HEADER)
        writer.writerows(
            (f"imp-{i}", f"Imported Company {i}", f"billing{i}@example.com", "EUR", "DE", f"imp-{i}") for i in range(n)
        )


# --- Our path, in a process of its own -------------------------------------------------------------


def child(work: str, url: str, rows: int, import_file: str | None) -> dict:
    """Run our export or import of `rows` once: the seconds its jobs took, what went wrong, and peak memory."""
    from app import create_app
    from app.auth.rules import create_operator
    from app.customers import export
    from app.customers.listing import CustomerFilters
    from app.extensions import db
    from app.jobs import rules as job_rules
    from app.jobs import runner
    from app.jobs.models import Job

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **CONFIG})
    with app.app_context():
        operator = create_operator("bench", "admin", "a-long-password-123")
        result, jobs = {}, []
        started = time.perf_counter()
        if work == "import":
            # The upload is read from a file a piece at a time, so that it does not count in our memory.
            with open(import_file, "rb") as f:
                chunks = iter(lambda: f.read(CHUNK), b"")
                params = {"fileName": "bench.csv"}
                check = job_rules.start("import_check", "bench", operator.id, params, chunks, queue=False)
            runner.run(check.id)
            check = db.session.get(Job, check.id)
            result["check_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            mapping, rows_checked = (check.result or {}).get("mapping"), (check.result or {}).get("rows")
            params = {"file": check.id, "fileName": "bench.csv", "mapping": mapping, "rows": rows_checked}
            job = job_rules.start("import", "bench", operator.id, params, queue=False)
            jobs.append(("check", check))
        else:
            wanted = export.Export(CustomerFilters())
            job = job_rules.start("export", "bench", operator.id, export.to_params(wanted, "csv"), queue=False)
        runner.run(job.id)
        result["seconds"] = time.perf_counter() - started
        db.session.expire_all()
        jobs.append((work, db.session.get(Job, job.id)))
        problems = [
            f"{work} of {rows:,}: its {name} job {j.status}: {j.error}" for name, j in jobs if j.status != "succeeded"
        ]
        if work == "export" and jobs[-1][1].done != rows:
            problems.append(f"export of {rows:,}: its job says {jobs[-1][1].done:,} rows done")
        customers = db.session.scalar(sa.text("select count(*) from customers"))
        if customers != rows:
            problems.append(f"{work} of {rows:,}: {customers:,} customers in the database")
    result["problems"] = problems
    result["peak_mb"] = _peak_rss_mb()
    return result


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: Linux carries the
    latter over from the parent across fork and exec, so it would count the parent's memory too."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the best there is


def ours(work: str, kind: str, size: int, postgres_url: str, workdir: Path) -> dict:
    """Our export (of `size` loaded customers) or import (of a file of `size`), on a fresh database,
    in a process of its own; with the database's URL."""
    command = [sys.executable, "-m", "bench.transfer", "--child", work, "--rows", str(size)]
    if work == "export":
        url, _ = prepare_database(kind, size, postgres_url, workdir)
    else:
        write_import_file(workdir / f"import-{size}.csv", size)
        url = empty_database(kind, postgres_url, workdir / f"import-{size}.sqlite")
        command += ["--import-file", str(workdir / f"import-{size}.csv")]
    print(f"  our {work} of {size:,}", file=sys.stderr)
    run = subprocess.run([*command, "--url", url], check=False, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:  # its stderr is ours: the traceback is above
        raise RuntimeError(f"our {work} of {size:,} crashed (exit code {run.returncode})")
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"url": url}


# --- The floor: the raw driver -------------------------------------------------------------------


def export_floor(url: str, same_rows: bool = True) -> float:
    """Rows per second of the driver reading the export's rows into a CSV writer: the same rows
    (its columns, with the joins to billing profile, plan and Stripe data, in its order; the floor
    the goal is judged by), or the customers table's own columns alone (`same_rows=False`)."""
    sql = (
        export_sql(url)
        if same_rows
        else (f"SELECT {', '.join(EXPORT_COLUMNS)} FROM customers WHERE deleted_at IS NULL ORDER BY sort_name, id")
    )
    conn = raw_connection(url)
    started = time.perf_counter()
    cursor = conn.cursor()
    cursor.execute(sql)
    done = 0
    with open(os.devnull, "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        while batch := cursor.fetchmany(BATCH):
            writer.writerows(batch)
            done += len(batch)
    seconds = time.perf_counter() - started
    conn.close()
    return done / seconds


def export_sql(url: str) -> str:
    """The export's query (app/customers/export.py) over every live customer, in one statement,
    with each customer's Stripe data joined in (ours reads it a batch at a time), as plain SQL."""
    from app.apps.models import CustomerAppData
    from app.customers import export
    from app.customers.models import Customer

    stripe = (CustomerAppData.customer_id == Customer.id) & (CustomerAppData.type == "stripe")
    query = (
        export.SELECTED.outerjoin(CustomerAppData, stripe)
        .add_columns(CustomerAppData.stripe_customer_id, CustomerAppData.stripe_default_payment_method_id)
        .where(Customer.deleted_at.is_(None))
        .order_by(Customer.sort_name, Customer.id)
    )
    dialect = sa.create_engine(url).dialect
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def import_floor(url: str, n: int) -> float:
    """Rows per second of the driver's executemany of the rows our import writes for N customers
    (the customer, its identifier and its history row), 1,000 at a time, one commit."""
    sqlite = sa.make_url(url).get_backend_name() == "sqlite"
    statements = {
        table: f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?' if sqlite else '%s'] * len(columns))})"
        for table, columns in FLOOR_TABLES.items()
    }
    conn = raw_connection(url)
    started = time.perf_counter()
    cursor = conn.cursor()
    batches = {table: [] for table in FLOOR_TABLES}
    for i in range(n):
        now = datetime.now(UTC)
        stored = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now  # as SQLAlchemy writes it
        customer_id, key, name, email = str(ULID()), f"imp-{i}", f"Imported Company {i}", f"billing{i}@example.com"
        batches["customers"].append(
            (customer_id, name, sort_key(name), key, email, "EUR", "DE", key, "{}", "[]", stored, stored, 1)
        )
        batches["customer_identifiers"].append((customer_id, key, True, True, 0))
        fields = {"name": name, "key": key, "primaryEmail": email, "currency": "EUR"}
        fields |= {"billingAddress.country": "DE", "usageAttribution.subjectKeys": [key]}
        changes = json.dumps([{"field": f, "before": None, "after": v} for f, v in fields.items()])
        batches["history"].append((stored, "operator", None, "bench", "customer", customer_id, "create", changes))
        if len(batches["customers"]) == BATCH or i == n - 1:
            for table, rows in batches.items():
                cursor.executemany(statements[table], rows)
                rows.clear()
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return n / seconds


# --- The run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_transfer")
    parser.add_argument("--child", choices=["export", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--import-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.rows, args.import_file)))
        return

    n, kind = args.rows, args.db
    sizes = (max(1, n // 10), n)
    base = sa.make_url(args.postgres_url)
    floor_postgres_url = base.set(database=f"{base.database}_floor").render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="bench-transfer-"))
    try:
        runs = {("export", size): ours("export", kind, size, args.postgres_url, workdir) for size in sizes}
        print("  export floor", file=sys.stderr)
        floors = {"export": export_floor(runs["export", n]["url"])}
        scan_floor = export_floor(runs["export", n]["url"], same_rows=False)
        runs |= {("import", size): ours("import", kind, size, args.postgres_url, workdir) for size in sizes}
        print("  import floor", file=sys.stderr)
        floors["import"] = import_floor(empty_database(kind, floor_postgres_url, workdir / "floor.sqlite"), n)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgresql":
            recreate_postgres(args.postgres_url, create=False)
            recreate_postgres(floor_postgres_url, create=False)

    exported, imported = runs["export", n], runs["import", n]
    rates = {
        "export (CSV)": n / exported["seconds"],
        "import: check": n / imported["check_seconds"],
        "import: write": n / imported["seconds"],
        "import (check + write)": n / (imported["check_seconds"] + imported["seconds"]),
    }
    database = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"""
Export and import of customers, {database}, {n:,} rows (floor measured in this run)
  ours rows/s: rows over the seconds our jobs took (started and run as the console does), at {n:,} rows
  floor rows/s: the raw driver (no SQLAlchemy) reading or inserting the same rows
  ours/floor: ours as a percentage of the floor, beside the issue's goal
  peak RSS: peak resident memory of the process that ran our jobs, at {sizes[0]:,} and at {n:,} rows
""")
    print(f"{'':<24}{'ours rows/s':>12}{'floor rows/s':>15}{'ours/floor':>13}{'goal':>7}   peak RSS (N/10 → N)")
    for label, rate in rates.items():
        work = "export" if label.startswith("export") else "import"
        line = f"{label:<24}{rate:>12,.0f}"
        if label in ("export (CSV)", "import (check + write)"):
            floor = floors[work]
            memory = f"{runs[work, sizes[0]]['peak_mb']:.0f} MB → {runs[work, n]['peak_mb']:.0f} MB"
            line += f"{floor:>15,.0f}{rate / floor:>13.0%}{GOALS[work]:>6}%   {memory}"
        print(line)
    print(
        f"(the customers table alone, read without joins: {scan_floor:,.0f} rows/s; ours is {rates['export (CSV)'] / scan_floor:.0%} of it)"
    )
    for problem in (problem for run in runs.values() for problem in run["problems"]):
        print(f"PROBLEM: {problem}")


if __name__ == "__main__":
    main()
