"""Jobs: started by an operator, run by a worker (app/jobs/queue.py), watched on the Jobs page.

A job is `queued` until a worker takes it, `running` while it works (writing its progress and a
heartbeat as it goes), then `succeeded` (with its file) or `failed` (with why). A running job whose
heartbeat stops for JOBS_HEARTBEAT_SECONDS lost its worker (killed, or its machine restarted): it is
then reported as failed, not left running forever. A queued job waits for a worker, across restarts.
"""

from collections.abc import Iterable, Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from ulid import ULID

from app.extensions import db, utcnow
from app.ids import is_id
from app.jobs.models import Job, JobFileChunk, JobInputChunk
from app.jobs.queue import enqueue
from app.problems import NotFound
from app.store import unit_of_work

LOST = "Its worker stopped while it ran (restarted or killed); start it again."
RECENT = 100  # jobs on the Jobs page


def start(
    kind: str, title: str, operator_id: str, params: dict, inputs: Iterable[bytes] = (), queue: bool = True
) -> Job:
    """Record a job, with the file it reads (`inputs`, in chunks), and queue it: it runs once all of
    it is committed, so a worker never finds it without its file. Without `queue`, the caller runs
    it (runner.run) at once, in the request: for work that takes a moment."""
    job = Job(
        id=str(ULID()),
        kind=kind,
        title=title,
        operator_id=operator_id,
        params=params,
        status="queued",
        done=0,
        file_size=0,
        created_at=utcnow(),
    )
    with unit_of_work():
        db.session.add(job)
        for seq, data in enumerate(inputs):
            chunk = JobInputChunk(job_id=job.id, seq=seq, data=data)
            db.session.add(chunk)
            db.session.flush()
            db.session.expunge(chunk)  # written: a large upload must not pile up in the session
    if queue:
        enqueue(job.id)
    return job


def _settle_lost() -> None:
    """Report running jobs whose heartbeat stopped as failed (any web worker may notice)."""
    quiet_since = utcnow() - timedelta(seconds=current_app.config["JOBS_HEARTBEAT_SECONDS"])
    with unit_of_work():
        db.session.execute(
            update(Job)
            .where(Job.status == "running", Job.heartbeat_at < quiet_since)
            .values(status="failed", error=LOST, finished_at=utcnow(), file_name=None)
        )


def get(job_id: str, operator_id: str, is_admin: bool) -> Job:
    """The job, if this operator may see it (their own; an admin sees every one). Raises NotFound."""
    _settle_lost()
    job = db.session.get(Job, job_id) if is_id(job_id) else None
    if job is None or not (is_admin or job.operator_id == operator_id):
        raise NotFound(f'No job has the id "{job_id[:64]}".')
    return job


def recent(operator_id: str, is_admin: bool) -> list[Job]:
    """The latest jobs this operator may see, newest first."""
    _settle_lost()
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(RECENT)
    if not is_admin:
        query = query.where(Job.operator_id == operator_id)
    return list(db.session.scalars(query))


# --- For the worker -------------------------------------------------------------------------------


def begin(job_id: str) -> Job | None:
    """Take a queued job (None when it is not queued: already taken, finished or gone)."""
    now = utcnow()
    with unit_of_work():
        taken = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
        ).rowcount
    return db.session.get(Job, job_id) if taken else None


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Note how far the job got (and that its worker is alive)."""
    job.done = done
    if total is not None:
        job.total = total
    job.heartbeat_at = utcnow()
    with unit_of_work():
        pass


def stage(job: Job, what: str, total: int | None = None) -> None:
    """Say what the job is doing now ("Writing"), and restart its progress at 0 of `total`."""
    job.result = {**(job.result or {}), "stage": what}
    progress(job, 0, total)


def name_file(job: Job, file_name: str, file_type: str) -> None:
    """Keep the file written so far as the job's, even if it then fails."""
    job.file_name, job.file_type = file_name, file_type
    with unit_of_work():
        pass


def add_file_chunk(job: Job, seq: int, data: bytes) -> None:
    db.session.add(JobFileChunk(job_id=job.id, seq=seq, data=data))
    job.file_size += len(data)


def finish(job: Job, file_name: str | None = None, file_type: str | None = None, result: dict | None = None) -> None:
    job.status, job.finished_at = "succeeded", utcnow()
    job.result = result
    job.file_name, job.file_type = file_name, file_type
    with unit_of_work():
        pass


def fail(job_id: str, error: str, result: dict | None = None, keep_file: bool = False) -> None:
    """The job failed, saying why; `result` says what it found, and its file is dropped unless
    `keep_file` (an import's bad rows are worth having when it failed)."""
    db.session.rollback()
    with unit_of_work():
        if not keep_file:
            db.session.execute(delete(JobFileChunk).where(JobFileChunk.job_id == job_id))
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="failed", error=error[:2000], finished_at=utcnow(), result=result)
        )


def file_chunks(job: Job) -> Iterator[bytes]:
    """The job's file, a chunk at a time (one query each: a big file never sits in memory)."""
    return _chunks(JobFileChunk, job.id)


def input_size(job_id: str) -> int:
    """The size in bytes of the file a job was given."""
    return db.session.scalar(
        select(func.coalesce(func.sum(func.length(JobInputChunk.data)), 0)).where(JobInputChunk.job_id == job_id)
    )


def input_chunks(job_id: str) -> Iterator[bytes]:
    """The file a job was given (`start`'s `inputs`), a chunk at a time."""
    return _chunks(JobInputChunk, job_id)


def _chunks(model, job_id: str) -> Iterator[bytes]:
    seq = 0
    while True:
        data = db.session.scalar(select(model.data).where(model.job_id == job_id, model.seq == seq))
        if data is None:
            return
        yield data
        seq += 1
