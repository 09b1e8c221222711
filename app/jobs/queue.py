"""The queue that hands jobs to workers: huey, on storage that follows the console's database.

- SQLite (one machine): huey's SQLite storage in instance/jobs.sqlite. Nothing else to run.
- PostgreSQL (one or several machines): huey's PostgreSQL storage in the same database, so every
  web worker and every job worker on every machine shares one queue, and nothing else to run.
- Tests (JOBS_IMMEDIATE): a job runs at once, inside the request that started it.

The worker is `flask --app app jobs worker`, which scripts/start runs beside the web server.
"""

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, PostgresHuey, SqliteHuey
from sqlalchemy.engine import make_url


def make_queue(app: Flask, work: Callable[[str], None]):
    """The app's huey, with its one task: `work` on a job's id, in an app context."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("JOBS_IMMEDIATE"):
        huey = MemoryHuey("console-jobs", immediate=True)
    elif url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        huey = PostgresHuey("console-jobs", dsn=dsn, table_prefix="huey")
    else:
        path = app.config["JOBS_SQLITE_PATH"] or str(Path(app.instance_path) / "jobs.sqlite")
        huey = SqliteHuey("console-jobs", filename=path)

    @huey.task(name="run_job")
    def run_job(job_id: str) -> None:
        with app.app_context():
            work(job_id)

    huey.run_job = run_job
    return huey


def enqueue(job_id: str) -> None:
    current_app.extensions["jobs_queue"].run_job(job_id)
