"""Background jobs: an export run by a worker, its progress and file, a lost worker, who sees what."""

import csv
import io
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from app import create_app
from app.customers import export
from app.customers.listing import CustomerFilters
from app.extensions import db, utcnow
from app.jobs import rules, runner
from app.jobs.models import Job
from tests.helpers import make, text

ROOT = Path(__file__).resolve().parents[2]


def start_export(app, operator="admin", **params) -> str:
    wanted = export.Export(CustomerFilters(**params.pop("filters", {})), **params)
    with app.app_context():
        operator_id = app.accounts[operator].operator_id
        return rules.start("export", "Export of customers", operator_id, export.to_params(wanted, "csv")).id


def csv_rows(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode()[1:], newline="")))


def test_an_export_job_makes_the_same_file_as_the_api(app, client, monkeypatch):
    monkeypatch.setattr(runner, "CHUNK_BYTES", 200)  # a file of several chunks
    for i in range(12):
        make(app, name=f"Customer {i:02}", key=f"c{i}", metadata={"n": str(i)})
    job_id = start_export(app)
    page = client.get(f"/jobs/{job_id}")
    assert "Done" in text(page) and "12 rows" in text(page)
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert csv_rows(download.data) == csv_rows(client.get("/api/v1/customers/export").data)
    with app.app_context():
        assert db.session.get(Job, job_id).file_size == len(download.data)
    assert "Export of customers" in text(client.get("/jobs/"))


def test_a_job_whose_worker_stopped_is_reported_failed(app, client):
    job_id = start_export(app)
    with app.app_context():
        long_ago = utcnow() - timedelta(seconds=app.config["JOBS_HEARTBEAT_SECONDS"] + 1)
        db.session.execute(update(Job).where(Job.id == job_id).values(status="running", heartbeat_at=long_ago))
        db.session.commit()
    page = text(client.get(f"/jobs/{job_id}"))
    assert "Failed" in page and "worker stopped" in page
    assert client.get(f"/jobs/{job_id}/download").status_code == 409


def test_a_failing_job_says_why_and_keeps_no_file(app, client):
    with app.app_context():
        job_id = rules.start("export", "Broken", app.accounts["admin"].operator_id, {"format": "csv"}).id
        db.session.expire_all()  # the job ran in a context of its own
        job = db.session.get(Job, job_id)
        assert job.status == "failed" and "The job failed" in job.error


def test_operators_see_their_own_jobs_and_admins_every_one(app, client, client_as):
    editor = client_as("editor")
    mine = start_export(app, operator="editor")
    theirs = start_export(app)
    assert editor.get(f"/jobs/{mine}").status_code == 200
    assert editor.get(f"/jobs/{theirs}").status_code == 404
    assert editor.get(f"/jobs/{theirs}/download").status_code == 404
    assert client.get(f"/jobs/{mine}").status_code == 200
    assert client.get("/jobs/not-a-job").status_code == 404


def test_a_queued_job_waits_and_a_real_worker_runs_it(app, tmp_path, database_url):
    """What scripts/start does: the web app queues, `flask jobs worker` (another process) runs it,
    and a file it refuses leaves it alive for the next job."""
    queue_file = tmp_path / "jobs.sqlite"
    config = dict(app.config, JOBS_IMMEDIATE=False, JOBS_SQLITE_PATH=str(queue_file))
    web = create_app(config)
    web.accounts = app.accounts
    for i in range(3):
        make(app, name=f"Customer {i}", key=f"k{i}")
    job_id = start_export(web)
    with web.app_context():
        admin = app.accounts["admin"].operator_id
        refused = rules.start("import_check", "Check of a.csv", admin, {"fileName": "a.csv"}, [b"PK\x03\x04\x00"]).id
        good = rules.start("import_check", "Check of b.csv", admin, {"fileName": "b.csv"}, [b"key,name\nn1,N\n"]).id
        assert db.session.get(Job, job_id).status == "queued"  # no worker yet
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="test",
        CONSOLE_JOBS_SQLITE_PATH=str(queue_file),
        CONSOLE_ENCRYPTION_KEYS=f'["{app.config["ENCRYPTION_KEYS"][0]}"]',
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        statuses = ["queued"]
        while any(s not in ("succeeded", "failed") for s in statuses) and time.monotonic() < deadline:
            time.sleep(0.3)
            with web.app_context():
                statuses = [db.session.get(Job, j).status for j in (job_id, refused, good)]
        assert statuses == ["succeeded", "failed", "succeeded"], (
            worker.stderr.read1().decode() if worker.poll() is not None else statuses
        )
    finally:
        worker.terminate()
        worker.wait(10)
    with web.app_context():
        assert db.session.get(Job, job_id).done == 3
        assert "Excel workbook" in db.session.get(Job, refused).error
        assert db.session.get(Job, good).result["counts"]["create"] == 1
